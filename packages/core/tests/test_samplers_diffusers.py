"""DDPM, DDIM and shallow diffusion against diffusers' DDPMScheduler / DDIMScheduler (test-only dependency).

Two modes: "float32" uses diffusers' own schedules (float32 betas and cumulative products) against ours
(float64), so it checks schedules and sampler together to 1e-5; "float64" injects our float64
alphas_cumprod into the diffusers scheduler, so only the update rules differ (checked to 1e-10).
Noise: both sides draw from identically seeded CPU generators, one normal tensor per noisy step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch

from vcore.diffusion.gaussian import Prediction, q_sample
from vcore.samplers import TimeGrid, sample_ddim, sample_ddpm, sample_shallow
from vcore.samplers.ddpm import Variance
from vcore.samplers.grid import Spacing
from vcore.schedules import DiscreteSchedule, make_schedule

diffusers = pytest.importorskip("diffusers")

SCHEDULES = {"linear": ("linear", "linear"), "cosine": ("cosine", "squaredcos_cap_v2")}
KINDS: dict[Prediction, str] = {"eps": "epsilon", "x0": "sample", "v": "v_prediction"}
SHAPE = (3, 2, 5)

Model = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def toy_model(schedule: DiscreteSchedule, kind: Prediction, gain: float = 1.0) -> Model:
    """A deterministic stand-in network: linear in x plus a function of t, of the requested kind.

    The eps and x0 forms are the exact predictors for N(0, I) data (eps = sqrt(1 - ab) x, x0 = sqrt(ab) x)
    plus a t-dependent perturbation, so that the implied x0 and eps stay O(1) at every level and absolute
    tolerances mean something (`gain` scales x0 up to exercise clipping).
    """
    ab = schedule.alphas_cumprod

    def model(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        assert t.shape == (x.shape[0],)
        a = ab[t.round().long()].to(x.dtype).view(-1, 1, 1)
        wave = 0.1 * torch.sin(t.to(x.dtype) / 50.0).view(-1, 1, 1) + 0.05 * torch.tanh(x)
        if kind == "eps":
            return (1 - a).sqrt() * x + a.sqrt() * wave
        if kind == "x0":
            return gain * a.sqrt() * x + (1 - a).sqrt() * wave
        return 0.1 * x + wave

    return model


def start_noise(seed: int = 0) -> torch.Tensor:
    return torch.randn(SHAPE, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def x0_tolerance(mode: str) -> float:
    """x0_hat at the noisiest cosine step (ab ~ 2e-9) is ill-conditioned in float32: there 1 - ab rounds
    to 1, an error of sqrt(ab) / 2 ~ 3e-5 in diffusers' own x0_hat. The samples themselves agree to 1e-5."""
    return 1e-10 if mode == "float64" else 1e-4


def run_diffusers(scheduler: Any, model: Model, x: torch.Tensor, seed: int, **step_kwargs: Any) -> tuple:
    gen = torch.Generator().manual_seed(seed)
    x0s = []
    for t in scheduler.timesteps:
        out = scheduler.step(model(x, t.expand(x.shape[0])), t, x, generator=gen, **step_kwargs)
        x0s.append(out.pred_original_sample)
        x = out.prev_sample
    return x, x0s


def make_pair(name: str, mode: str, scheduler_cls: Any, **config: Any) -> tuple[DiscreteSchedule, Any]:
    ours_name, theirs_name = SCHEDULES[name]
    schedule = make_schedule(ours_name, 1000)
    scheduler = scheduler_cls(
        num_train_timesteps=1000, beta_schedule=theirs_name, clip_sample=False, **config
    )
    if mode == "float64":
        scheduler.alphas_cumprod = schedule.alphas_cumprod.clone()
        if hasattr(scheduler, "final_alpha_cumprod"):
            final = 1.0 if config.get("set_alpha_to_one", True) else float(schedule.alphas_cumprod[0])
            scheduler.final_alpha_cumprod = torch.tensor(final, dtype=torch.float64)
    return schedule, scheduler


def test_our_betas_equal_diffusers_betas() -> None:
    for name, (ours, theirs) in SCHEDULES.items():
        scheduler = diffusers.DDPMScheduler(num_train_timesteps=1000, beta_schedule=theirs)
        betas = make_schedule(ours, 1000).betas
        torch.testing.assert_close(betas.float(), scheduler.betas, rtol=2e-7, atol=0, msg=name)


@pytest.mark.parametrize("spacing", ["leading", "trailing", "linspace"])
@pytest.mark.parametrize("num_steps", [1, 7, 37, 50, 1000])
def test_grid_timesteps_equal_diffusers(spacing: Spacing, num_steps: int) -> None:
    schedule = make_schedule("linear", 1000)
    offset = 1 if spacing == "leading" and num_steps < 1000 else 0
    scheduler = diffusers.DDIMScheduler(
        num_train_timesteps=1000, timestep_spacing=spacing, steps_offset=offset
    )
    scheduler.set_timesteps(num_steps)
    grid = TimeGrid.from_schedule(schedule, num_steps, spacing=spacing, steps_offset=offset)
    assert grid.t.long().tolist() == scheduler.timesteps.tolist()
    assert torch.equal(grid.alpha_bar, schedule.alphas_cumprod[scheduler.timesteps.flip(0)].flip(0))


@pytest.mark.parametrize("mode", ["float32", "float64"])
@pytest.mark.parametrize(
    ("spacing", "num_steps", "offset", "to_one"),
    [("leading", 50, 1, False), ("leading", 37, 0, True), ("trailing", 50, 0, True)],
)
@pytest.mark.parametrize("eta", [0.0, 0.7])
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_ddim_trajectory_equals_diffusers(
    name: str,
    kind: Prediction,
    eta: float,
    spacing: Spacing,
    num_steps: int,
    offset: int,
    to_one: bool,
    mode: str,
) -> None:
    schedule, scheduler = make_pair(
        name,
        mode,
        diffusers.DDIMScheduler,
        prediction_type=KINDS[kind],
        timestep_spacing=spacing,
        steps_offset=offset,
        set_alpha_to_one=to_one,
    )
    scheduler.set_timesteps(num_steps)
    grid = TimeGrid.from_schedule(
        schedule,
        num_steps,
        spacing=spacing,
        steps_offset=offset,
        set_alpha_to_one=to_one,
    )
    model = toy_model(schedule, kind)
    x = start_noise()
    expected, x0s = run_diffusers(scheduler, model, x, seed=3, eta=eta)
    tol = 1e-10 if mode == "float64" else 1e-5
    rtol = 0.0 if mode == "float64" else 1e-5  # float32 schedules: agreement to float32 precision

    fast = sample_ddim(model, x, grid, prediction=kind, eta=eta, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(fast, expected, rtol=rtol, atol=tol)
    seen: list[torch.Tensor] = []
    reported = sample_ddim(
        model,
        x,
        grid,
        callback=lambda info: seen.append(info["x0"]),
        prediction=kind,
        eta=eta,
        generator=torch.Generator().manual_seed(3),
    )
    torch.testing.assert_close(reported, expected, rtol=rtol, atol=tol)
    torch.testing.assert_close(torch.stack(seen), torch.stack(x0s), rtol=0, atol=x0_tolerance(mode))


@pytest.mark.parametrize("mode", ["float32", "float64"])
@pytest.mark.parametrize(
    ("variance", "spacing", "num_steps"),
    [
        ("fixed_small", "leading", 50),
        ("fixed_small", "linspace", 37),
        ("fixed_small", "trailing", 20),
        ("fixed_large", "leading", 50),
        ("fixed_large", "linspace", 37),
        # Not fixed_large with trailing: its last timestep is 19 > 0, where diffusers adds beta-sized noise
        # on the step to clean data; Alg. 2 (and sample_ddpm) adds none.
    ],
)
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_ddpm_trajectory_equals_diffusers(
    name: str, kind: Prediction, variance: Variance, spacing: Spacing, num_steps: int, mode: str
) -> None:
    schedule, scheduler = make_pair(
        name,
        mode,
        diffusers.DDPMScheduler,
        prediction_type=KINDS[kind],
        variance_type=variance,
        timestep_spacing=spacing,
    )
    scheduler.set_timesteps(num_steps)
    grid = TimeGrid.from_schedule(schedule, num_steps, spacing=spacing)
    assert grid.t.long().tolist() == scheduler.timesteps.tolist()
    model = toy_model(schedule, kind)
    x = start_noise()
    expected, x0s = run_diffusers(scheduler, model, x, seed=5)
    tol = 1e-10 if mode == "float64" else 1e-5
    rtol = 0.0 if mode == "float64" else 1e-5  # float32 schedules: agreement to float32 precision
    if spacing == "trailing":
        # diffusers also draws noise on trailing's last step (t = 19 > 0) with its variance floor 1e-20.
        tol += 1e-9

    fast = sample_ddpm(
        model, x, grid, prediction=kind, variance=variance, generator=torch.Generator().manual_seed(5)
    )
    torch.testing.assert_close(fast, expected, rtol=rtol, atol=tol)
    seen: list[torch.Tensor] = []
    reported = sample_ddpm(
        model,
        x,
        grid,
        callback=lambda info: seen.append(info["x0"]),
        prediction=kind,
        variance=variance,
        generator=torch.Generator().manual_seed(5),
    )
    torch.testing.assert_close(reported, expected, rtol=rtol, atol=tol)
    torch.testing.assert_close(torch.stack(seen), torch.stack(x0s), rtol=0, atol=x0_tolerance(mode))


@pytest.mark.parametrize("variance", ["fixed_small", "fixed_large"])
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_ddpm_full_chain_equals_diffusers(name: str, variance: Variance) -> None:
    schedule, scheduler = make_pair(name, "float64", diffusers.DDPMScheduler, variance_type=variance)
    scheduler.set_timesteps(1000)
    model = toy_model(schedule, "eps")
    x = start_noise(1)
    expected, _ = run_diffusers(scheduler, model, x, seed=9)
    grid = TimeGrid.full(schedule)
    assert len(grid) == 1000
    assert grid.t.tolist() == list(range(999, -1, -1))
    ours = sample_ddpm(model, x, grid, variance=variance, generator=torch.Generator().manual_seed(9))
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("variance", ["fixed_small", "fixed_large"])
def test_ddpm_one_step_mean_and_variance_closed_form(variance: Variance) -> None:
    """One DDPM step from level ab_t to ab_s: mean c0 x0 + ct x_t and the variance, by hand."""
    ab_t, ab_s, x_t, x0_value = 0.3, 0.8, 0.5, 0.25
    grid = TimeGrid(torch.tensor([5.0, 2.0]), torch.tensor([ab_t, ab_s]))

    def model(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return torch.full_like(x, x0_value)

    a = ab_t / ab_s
    mean = ab_s**0.5 * (1 - a) / (1 - ab_t) * x0_value + a**0.5 * (1 - ab_s) / (1 - ab_t) * x_t
    expected_var = (1 - a) * (1 - ab_s) / (1 - ab_t) if variance == "fixed_small" else 1 - a
    states: list[torch.Tensor] = []
    x = torch.full((20000, 1), x_t, dtype=torch.float64)
    out = sample_ddpm(
        model,
        x,
        grid,
        callback=lambda info: states.append(info["x"]),
        prediction="x0",
        variance=variance,
        generator=torch.Generator().manual_seed(0),
    )
    # the last step (to clean data) is noiseless and lands on x0_hat
    assert torch.equal(out, torch.full_like(out, x0_value))
    after_first = states[1]
    assert float(after_first.mean()) == pytest.approx(mean, abs=4 * (expected_var / 20000) ** 0.5)
    assert float(after_first.var()) == pytest.approx(expected_var, rel=0.05)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_x0_clipping_equals_diffusers(kind: Prediction) -> None:
    schedule = make_schedule("linear", 1000)
    model = toy_model(schedule, kind, gain=4.0)
    x = 3.0 * start_noise(2)
    ddim = diffusers.DDIMScheduler(num_train_timesteps=1000, prediction_type=KINDS[kind], clip_sample=True)
    ddim.alphas_cumprod = schedule.alphas_cumprod.clone()
    ddim.final_alpha_cumprod = torch.tensor(1.0, dtype=torch.float64)
    ddim.set_timesteps(20)
    expected, x0s = run_diffusers(ddim, model, x, seed=1, eta=0.5, use_clipped_model_output=True)
    assert max(float(v.abs().max()) for v in x0s) == 1.0  # clipping was active
    grid = TimeGrid.from_schedule(schedule, 20)
    ours = sample_ddim(
        model, x, grid, prediction=kind, eta=0.5, clip_x0=1.0, generator=torch.Generator().manual_seed(1)
    )
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-10)

    ddpm = diffusers.DDPMScheduler(num_train_timesteps=1000, prediction_type=KINDS[kind], clip_sample=True)
    ddpm.alphas_cumprod = schedule.alphas_cumprod.clone()
    ddpm.set_timesteps(20)
    expected, _ = run_diffusers(ddpm, model, x, seed=4)
    ours = sample_ddpm(
        model, x, grid, prediction=kind, clip_x0=1.0, generator=torch.Generator().manual_seed(4)
    )
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-10)


def test_ddim_eta_one_has_ddpm_fixed_small_noise() -> None:
    """DDIM with eta = 1 is DDPM with the posterior variance (Song et al. 2021, sec. 4.1)."""
    schedule = make_schedule("cosine", 1000)
    grid = TimeGrid.from_schedule(schedule, 25)
    model = toy_model(schedule, "v")
    x = start_noise(4)
    ddim = sample_ddim(model, x, grid, prediction="v", eta=1.0, generator=torch.Generator().manual_seed(2))
    ddpm = sample_ddpm(model, x, grid, prediction="v", generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(ddim, ddpm, rtol=0, atol=1e-10)


def test_sampler_argument_errors() -> None:
    schedule = make_schedule("linear", 100)
    grid = TimeGrid.from_schedule(schedule, 10)
    model = toy_model(schedule, "eps")
    x = start_noise()
    with pytest.raises(ValueError, match="unknown variance"):
        sample_ddpm(model, x, grid, variance="learned")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown prediction"):
        sample_ddim(model, x, grid, prediction="score")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="eta"):
        sample_ddim(model, x, grid, eta=-0.1)
    with pytest.raises(ValueError, match="eta = 3"):
        sample_ddim(model, x, grid, eta=3.0)


def test_grid_validation() -> None:
    schedule = make_schedule("linear", 100)
    with pytest.raises(ValueError, match=r"num_steps must lie in \[1, 100\]"):
        TimeGrid.from_schedule(schedule, 101)
    with pytest.raises(ValueError, match="outside the schedule"):
        TimeGrid.from_schedule(schedule, 100, steps_offset=1)
    with pytest.raises(ValueError, match="unknown spacing"):
        TimeGrid.from_schedule(schedule, 10, spacing="karras")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="strictly decreasing"):
        TimeGrid(torch.tensor([1.0, 2.0]), torch.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match="increase"):
        TimeGrid(torch.tensor([2.0, 1.0]), torch.tensor([0.3, 0.2]))
    with pytest.raises(ValueError, match=r"\(0, 1\)"):
        TimeGrid(torch.tensor([2.0, 1.0]), torch.tensor([0.3, 1.0]))
    with pytest.raises(ValueError, match="final_alpha_bar"):
        TimeGrid(torch.tensor([2.0, 1.0]), torch.tensor([0.3, 0.5]), final_alpha_bar=0.4)
    grid = TimeGrid.from_schedule(schedule, 10, set_alpha_to_one=False)
    assert grid.final_alpha_bar == float(schedule.alphas_cumprod[0])
    assert grid.t_final == 0.0
    assert grid.alpha_bar_next.tolist() == [*grid.alpha_bar[1:].tolist(), grid.final_alpha_bar]
    assert torch.allclose(grid.sigma**2, (1 - grid.alpha_bar) / grid.alpha_bar)
    assert float(TimeGrid.from_schedule(schedule, 10).sigma_next[-1]) == 0.0


# ----- shallow diffusion (Liu et al. 2022, DiffSinger sec. 3.3) -----


@pytest.mark.parametrize("start", [0, 4, 9])
def test_shallow_equals_ddpm_from_the_noised_estimate(start: int) -> None:
    schedule = make_schedule("linear", 100)
    grid = TimeGrid.from_schedule(schedule, 10)
    model = toy_model(schedule, "eps")
    estimate = 0.5 * start_noise(6)
    ours = sample_shallow(model, estimate, grid, start=start, generator=torch.Generator().manual_seed(11))

    gen = torch.Generator().manual_seed(11)
    z = torch.randn(estimate.shape, generator=gen, dtype=torch.float64)
    x_k = q_sample(estimate, grid.alpha_bar[start], z)
    assert torch.allclose(
        x_k, grid.alpha_bar[start].sqrt() * estimate + (1 - grid.alpha_bar[start]).sqrt() * z
    )
    expected = sample_ddpm(model, x_k, grid.starting_at(start), generator=gen)
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-12)


def test_shallow_from_the_last_index_is_one_step_to_the_model_x0() -> None:
    """From the last grid entry one DDPM step to the clean level returns x0_hat(x_k, t_k) exactly."""
    schedule = make_schedule("cosine", 100)
    grid = TimeGrid.from_schedule(schedule, 10)
    estimate = start_noise(7)
    noise = start_noise(8)
    calls: list[float] = []

    def model(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        calls.append(float(t[0]))
        return 0.9 * x - 0.1

    out = sample_shallow(model, estimate, grid, start=9, noise=noise, prediction="x0")
    x_k = q_sample(estimate, grid.alpha_bar[9], noise)
    assert calls == [float(grid.t[9])]
    torch.testing.assert_close(out, 0.9 * x_k - 0.1, rtol=0, atol=1e-12)


def test_shallow_with_ddim_equals_ddim_on_the_tail() -> None:
    schedule = make_schedule("linear", 100)
    grid = TimeGrid.from_schedule(schedule, 20, spacing="trailing")
    model = toy_model(schedule, "v")
    estimate, noise = start_noise(1), start_noise(2)
    ours = sample_shallow(model, estimate, grid, start=12, method="ddim", prediction="v", noise=noise)
    expected = sample_ddim(
        model, q_sample(estimate, grid.alpha_bar[12], noise), grid.starting_at(12), prediction="v"
    )
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("start", [-1, 10, 2.0, True, None])
def test_shallow_rejects_bad_start_index(start: Any) -> None:
    schedule = make_schedule("linear", 100)
    grid = TimeGrid.from_schedule(schedule, 10)
    with pytest.raises(ValueError, match=r"start must be a grid index in \[0, 9\]"):
        sample_shallow(toy_model(schedule, "eps"), start_noise(), grid, start=start)


def test_shallow_rejects_unknown_method() -> None:
    schedule = make_schedule("linear", 100)
    grid = TimeGrid.from_schedule(schedule, 10)
    with pytest.raises(ValueError, match="unknown method 'plms'"):
        sample_shallow(toy_model(schedule, "eps"), start_noise(), grid, start=3, method="plms")  # type: ignore[arg-type]
