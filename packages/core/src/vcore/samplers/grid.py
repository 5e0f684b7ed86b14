r"""The sampling grid every diffusion sampler walks: model times and their signal levels.

A `TimeGrid` holds N model times t_0 > t_1 > ... > t_{N-1} (floats, possibly fractional) and the
cumulative signal levels ab_0 < ab_1 < ... < ab_{N-1} of the forward process at those times,

    q(x_t | x_0) = N(sqrt(ab_t) x_0, (1 - ab_t) I),

plus one final level ab_N = `final_alpha_bar`. Sampling starts from x ~ N(0, I), taken as a draw at
level ab_0; step i calls the model at (x, t_i) and moves x from level ab_i to level ab_{i+1}; after step
N - 1 the sample sits at level ab_N and is returned.

The final step (two conventions, so that diffusers can be matched exactly):

* ``final_alpha_bar = 1`` (default; diffusers' DDPMScheduler, and DDIMScheduler with
  ``set_alpha_to_one=True``): the last step lands on clean data. DDPM returns the posterior mean there
  (Ho et al. 2020, Alg. 2: z = 0 at t = 1), DDIM and the ODE samplers return x0_hat.
* ``final_alpha_bar = alphas_cumprod[0]`` (DDIMScheduler with ``set_alpha_to_one=False``): the last step
  goes to the first training level, and that barely noisy state is returned as the sample. `t_final`
  then holds that level's model time (0), which Heun's last corrector uses.

Grids from a discrete schedule use diffusers' timestep spacings ("leading" with ``steps_offset``,
"trailing", "linspace"). Step i always goes to grid entry i + 1. diffusers' DDPMScheduler does the same;
its DDIMScheduler instead steps from timestep t to t - T // N, which is the next grid entry for "leading"
always and for "trailing" when N divides T, but not for "linspace".

The samplers turn every per-step coefficient into a Python float before their loop (so the loop creates
no tensors of its own apart from the results), and never build autograd graphs of their own: gradients
flow only through what the model returns, if the caller leaves grad mode on. Wrap plain sampling in
``torch.inference_mode()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

from vcore.diffusion.gaussian import Prediction, split_prediction
from vcore.schedules.discrete import DiscreteSchedule
from vcore.schedules.fractional import fractional_steps

Spacing = Literal["leading", "trailing", "linspace"]


@dataclass(frozen=True)
class TimeGrid:
    """Model times `t` (descending) with levels `alpha_bar` (ascending), and the final level after them."""

    t: Tensor
    alpha_bar: Tensor
    final_alpha_bar: float = 1.0
    t_final: float | None = None

    def __post_init__(self) -> None:
        t = torch.as_tensor(self.t, dtype=torch.float64).detach().cpu()
        ab = torch.as_tensor(self.alpha_bar, dtype=torch.float64).detach().cpu()
        if t.dim() != 1 or ab.dim() != 1 or t.numel() == 0 or t.numel() != ab.numel():
            raise ValueError("t and alpha_bar must be non-empty 1-D tensors of the same length")
        if not bool(torch.isfinite(t).all()):
            raise ValueError("every model time must be finite")
        if t.numel() > 1 and not bool((t[1:] < t[:-1]).all()):
            raise ValueError("model times must be strictly decreasing")
        if not bool(((ab > 0) & (ab < 1)).all()):
            raise ValueError("every alpha_bar on the grid must lie in (0, 1) (noise levels, not clean data)")
        if ab.numel() > 1 and not bool((ab[1:] > ab[:-1]).all()):
            raise ValueError("alpha_bar must increase along the grid (noise decreases)")
        final = float(self.final_alpha_bar)
        if not float(ab[-1]) <= final <= 1.0:
            raise ValueError(f"final_alpha_bar must lie in [alpha_bar[-1], 1], got {final}")
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "alpha_bar", ab)
        object.__setattr__(self, "final_alpha_bar", final)

    def __len__(self) -> int:
        return int(self.t.numel())

    @property
    def alpha_bar_next(self) -> Tensor:
        """The level each step moves to: ab_1..ab_{N-1} then `final_alpha_bar` (float64, length N)."""
        return torch.cat([self.alpha_bar[1:], torch.tensor([self.final_alpha_bar], dtype=torch.float64)])

    @property
    def sigma(self) -> Tensor:
        """Noise-to-signal ratios sigma_i = sqrt((1 - ab_i) / ab_i) (Karras et al. 2022's sigma)."""
        return ((1.0 - self.alpha_bar) / self.alpha_bar).sqrt()

    @property
    def sigma_next(self) -> Tensor:
        """sigma of `alpha_bar_next` (0 where the final level is clean)."""
        ab = self.alpha_bar_next
        return ((1.0 - ab) / ab).sqrt()

    @property
    def log_snr(self) -> Tensor:
        """lambda_i = log(ab_i / (1 - ab_i)), decreasing noise means increasing lambda."""
        return torch.log(self.alpha_bar) - torch.log1p(-self.alpha_bar)

    def starting_at(self, index: int) -> TimeGrid:
        """The tail of the grid from entry `index` on (same final level)."""
        n = len(self)
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n:
            raise ValueError(f"grid index must be an int in [0, {n - 1}], got {index!r}")
        return TimeGrid(self.t[index:], self.alpha_bar[index:], self.final_alpha_bar, self.t_final)

    def prediction_coefficients(self, kind: Prediction) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """`prediction_coefficients` at every grid level."""
        return prediction_coefficients(self.alpha_bar, kind)

    def model_times(self, x: Tensor) -> tuple[Tensor, ...]:
        """The model's time argument for every step: a `[batch]` tensor on x's device, built once.

        float64 when x is float64, else float32 (low-precision floats cannot hold step indices like 999).
        """
        if x.dim() == 0:
            raise ValueError("x must have a batch dimension")
        dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
        times = self.t.to(device=x.device, dtype=dtype)
        return times[:, None].expand(-1, x.shape[0]).contiguous().unbind(0)

    @classmethod
    def from_schedule(
        cls,
        schedule: DiscreteSchedule,
        num_steps: int | None = None,
        *,
        spacing: Spacing = "leading",
        steps_offset: int = 0,
        set_alpha_to_one: bool = True,
    ) -> TimeGrid:
        """`num_steps` integer timesteps of a T-step schedule, spaced as diffusers' `timestep_spacing`.

        leading:  t_k = (N - 1 - k) * (T // N) + steps_offset
        trailing: t_k = round(T - k T / N) - 1
        linspace: the reversed round(linspace(0, T - 1, N))
        With ``set_alpha_to_one=False`` the final level is ``alphas_cumprod[0]`` (model time 0).
        """
        total = schedule.num_steps
        n = total if num_steps is None else int(num_steps)
        if not 1 <= n <= total:
            raise ValueError(f"num_steps must lie in [1, {total}], got {n}")
        if spacing == "leading":
            steps = torch.arange(n - 1, -1, -1, dtype=torch.float64) * (total // n) + steps_offset
        elif spacing == "trailing":
            steps = torch.round(total - torch.arange(n, dtype=torch.float64) * (total / n)) - 1
        elif spacing == "linspace":
            steps = torch.round(torch.linspace(0, total - 1, n, dtype=torch.float64)).flip(0)
        else:
            raise ValueError(f"unknown spacing {spacing!r}; expected 'leading', 'trailing' or 'linspace'")
        index = steps.long()
        if int(index.min()) < 0 or int(index.max()) > total - 1:
            raise ValueError(f"timesteps {index.tolist()} fall outside the schedule's [0, {total - 1}]")
        abar = schedule.alphas_cumprod
        if set_alpha_to_one:
            return cls(steps, abar[index])
        return cls(steps, abar[index], float(abar[0]), 0.0)

    @classmethod
    def full(cls, schedule: DiscreteSchedule) -> TimeGrid:
        """All T steps, t = T - 1, ..., 0, ending at clean data: DDPM's original chain."""
        return cls.from_schedule(schedule)

    @classmethod
    def from_fractional(
        cls,
        train: DiscreteSchedule | Tensor | Sequence[float],
        inference_betas: Tensor | Sequence[float],
    ) -> TimeGrid:
        """DiffWave's fast-sampling grid: fractional training times, levels of the inference betas.

        See `vcore.schedules.fractional`. With these levels, `sample_ddpm` (fixed_small, eps) is exactly
        DiffWave's fast reverse process.
        """
        betas = train.betas if isinstance(train, DiscreteSchedule) else train
        times, levels = fractional_steps(betas, inference_betas)
        return cls(times.flip(0), levels.flip(0))

    @classmethod
    def from_log_snr(
        cls,
        log_snr: Callable[[Tensor], Tensor],
        num_steps: int,
        *,
        t_start: float = 1.0,
        t_end: float = 0.0,
    ) -> TimeGrid:
        """`num_steps` uniform continuous times from `t_start` towards `t_end`, levels sigmoid(lambda(t)).

        The final level is sigmoid(lambda(t_end)) (1 where lambda(t_end) = +inf) with model time `t_end`.
        `log_snr` must be decreasing in t. Start below the pure-noise end: the cosine log-SNR at t = 1 is
        about -74 in float64 (ab ~ 1e-33, sigma ~ 1e16), so use e.g. t_start = 0.99 there.
        """
        if num_steps < 1:
            raise ValueError(f"num_steps must be at least 1, got {num_steps}")
        times = torch.linspace(t_start, t_end, num_steps + 1, dtype=torch.float64)
        levels = torch.sigmoid(torch.as_tensor(log_snr(times), dtype=torch.float64))
        return cls(times[:-1], levels[:-1], float(levels[-1]), float(t_end))


def prediction_coefficients(alpha_bar: Tensor, kind: Prediction) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Per-level (a, b, c, d) with x0_hat = a x + b pred and eps_hat = c x + d pred (float64).

    `split_prediction` is linear in (pred, x_t), so evaluating it at (pred, x) = (0, 1) and (1, 0)
    gives its coefficients at all levels at once.
    """
    ones, zeros = torch.ones_like(alpha_bar), torch.zeros_like(alpha_bar)
    x0_from_x, eps_from_x = split_prediction(zeros, ones, alpha_bar, kind)
    x0_from_pred, eps_from_pred = split_prediction(ones, zeros, alpha_bar, kind)
    return x0_from_x, x0_from_pred, eps_from_x, eps_from_pred


def progress_range(n: int, disable: bool | None) -> Iterable[int]:
    """range(n), wrapped in a tqdm bar only when ``disable is False`` (None and True: no bar)."""
    if disable is False:
        from tqdm.auto import trange

        return trange(n)
    return range(n)


def noise_buffer(x: Tensor, generator: torch.Generator | None) -> Tensor:
    """Scratch tensor shaped like x on the generator's device; refill with ``.normal_(generator=...)``.

    Filling in place draws the same numbers as ``torch.randn(x.shape, generator=..., dtype=x.dtype)``.
    """
    device = x.device if generator is None else generator.device
    return torch.empty(x.shape, dtype=x.dtype, device=device)
