r"""EDM: E(3)-equivariant diffusion of atom positions and types (Hoogeboom et al. 2022, "Equivariant
Diffusion for Molecule Generation in 3D"; reference code ehoogeboom/e3_diffusion_for_molecules,
`equivariant_diffusion/en_diffusion.py`).

State of a molecule with N atoms: z = [x, h], positions x in R^{N x 3} restricted to the zero centre of
mass subspace (dimension (N - 1) * 3), features h = [one_hot / 4, atomic_number / 10] (EDM's
`norm_values = (1, 4, 10)`: positions unscaled, one-hot divided by 4, the integer "charge" - the atomic
number - divided by 10). Noise on x is drawn in R^{N x 3} and its mean removed, which is a standard
Gaussian in the subspace.

Schedule: the polynomial_2 levels ab_0..ab_T of `vcore.schedules.polynomial_alpha_bar` (precision 1e-5),
alpha_t = sqrt(ab_t), sigma_t = sqrt(1 - ab_t), gamma_t = -log SNR_t; the network sees t / T.

Training (`forward`): EDM's l2 loss, the mean over the N (3 + F) dimensions of ||eps - eps_hat||^2 for
t ~ U{0..T}. (EDM switches to the decoder term when t = 0; here t = 0 keeps the eps-MSE, a constant
difference in weighting of one step in T + 1.)

Bound (`nll`), nats per molecule, EDM's evaluation with `t0_always`:

    -log p(x, h, N) <= -log p(N) + L_T + sum_{t=1}^T L_t + L_0 + (N - 1) * 3 * log(norm_x)

- L_T = KL(q(z_T | x, h) || N(0, I)): for x in the subspace with (N - 1) * 3 degrees of freedom, for h over
  N * F; closed form.
- L_t = 0.5 (SNR_{t-1} / SNR_t - 1) ||eps - eps_hat||^2 (x and h; `vcore.bounds.vdm.diffusion_loss_discrete`
  with T = 1, Kingma et al. 2021 eq. 14), estimated by T L_t at one t ~ U{1..T}
  per molecule, or summed over every t with `full=True`.
- L_0 = -log p(x | z_0) - log p(h | z_0): positions Gaussian with sigma_x = sigma_0 / alpha_0 over the
  (N - 1) * 3 degrees of freedom, i.e. 0.5 ||eps - eps_hat_x||^2 + (N-1) 3 (log sigma_x + 0.5 log 2 pi);
  one-hot: a categorical whose logits are the N(z_0 * 4, (4 sigma_0)^2) masses of the bin [0.5, 1.5]
  around each class's value 1 (normalised over the classes); atomic number: the N(z_0 * 10,
  (10 sigma_0)^2) mass of [Z - 0.5, Z + 0.5]. EDM adds 1e-10 inside these logs; the masses here are
  exact (log_ndtr differences), which differs only where EDM's floor dominates.
- p(N): the histogram of training atom counts (`n_nodes_counts`), log(p + 1e-30) as EDM.

Sampling: ancestral steps z_s ~ p(z_s | z_t) on a grid T = t_S > ... > t_0 = 0 (every step, or S evenly
spaced ones: the same Gaussian posterior formulas hold for any s < t), noise and mean re-centred each step,
then x ~ p(x | z_0) and h = argmax of the one-hot block.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from vcore.bounds.vdm import diffusion_loss_discrete
from vcore.io.checkpoint import Pretrained
from vcore.schedules import polynomial_alpha_bar
from vmol.io.molecules import Molecule
from vmol.model.batch import Batch, batch_to_molecules
from vmol.model.egnn import EGNNDynamics, remove_mean

_LOG_2PI = math.log(2.0 * math.pi)
logger = logging.getLogger(__name__)


@dataclass
class EDMConfig:
    """Hyper-parameters of an EDM model (defaults: EDM's QM9 model, 9 layers of width 256, T = 1000)."""

    atom_types: tuple[int, ...] = (1, 6, 7, 8, 9)
    hidden: int = 256
    layers: int = 9
    timesteps: int = 1000
    schedule_power: float = 2.0
    precision: float = 1e-5
    norm_values: tuple[float, float, float] = (1.0, 4.0, 10.0)
    coords_range: float = 15.0
    norm_constant: float = 1.0
    normalization_factor: float = 1.0
    n_nodes_counts: tuple[int, ...] = ()
    """counts[n] = training molecules with n atoms (p(N)); empty: uniform over 1..29 is NOT assumed."""

    def __post_init__(self) -> None:
        if self.timesteps < 1 or self.layers < 1 or self.hidden < 1:
            raise ValueError("timesteps, layers and hidden must be at least 1")
        if not self.atom_types:
            raise ValueError("atom_types must not be empty")


def com_free_noise(shape: tuple[int, ...], node_mask: Tensor, generator: torch.Generator | None) -> Tensor:
    """Standard Gaussian noise [B, N, 3] on the zero centre-of-mass subspace of each molecule."""
    eps = torch.randn(shape, generator=generator, dtype=node_mask.dtype, device=node_mask.device)
    return remove_mean(eps, node_mask)


def log_normal_mass(lower: Tensor, upper: Tensor) -> Tensor:
    """log(Phi(upper) - Phi(lower)) for lower < upper, exact in both tails (float64 inside)."""
    lo, hi = lower.double(), upper.double()
    flip = (lo + hi) > 0
    a = torch.where(flip, -hi, lo)
    b = torch.where(flip, -lo, hi)
    log_b, log_a = torch.special.log_ndtr(b), torch.special.log_ndtr(a)
    return log_b + torch.log1p(-torch.exp(log_a - log_b).clamp(max=1.0 - 1e-16))


class EDM(Pretrained, nn.Module):
    """EDM over molecules with atom types `config.atom_types`, positions and atomic-number features."""

    config_class = EDMConfig
    model_type = "vmol-edm"

    def __init__(self, config: EDMConfig) -> None:
        super().__init__()
        self.config = config
        self.num_types = len(config.atom_types)
        self.feature_dim = self.num_types + 1
        self.dynamics = EGNNDynamics(
            self.feature_dim,
            config.hidden,
            config.layers,
            config.coords_range,
            config.norm_constant,
            config.normalization_factor,
        )
        # Not a buffer: the schedule is rebuilt from the config, in float64 whatever the model's dtype.
        self.alpha2 = polynomial_alpha_bar(config.timesteps, config.schedule_power, config.precision)

    # --- schedule and features ------------------------------------------------------------------------

    @property
    def timesteps(self) -> int:
        return self.config.timesteps

    def _dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    def schedule(self, t: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(alpha_t, sigma_t, gamma_t) float64 for integer steps t in 0..T."""
        ab = self.alpha2.to(t.device)[t.long()]
        return ab.sqrt(), (1.0 - ab).sqrt(), torch.log1p(-ab) - torch.log(ab)

    def features(self, one_hot: Tensor, charges: Tensor) -> Tensor:
        """h = [one_hot / 4, charge / 10] (EDM's normalisation)."""
        _, n_cat, n_int = self.config.norm_values
        return torch.cat([one_hot / n_cat, charges / n_int], dim=-1)

    def n_nodes_log_prob(self, n: Tensor) -> Tensor:
        """log p(N) of the training histogram, log(p + 1e-30) (0 outside it)."""
        counts = torch.tensor(self.config.n_nodes_counts, dtype=torch.float64, device=n.device)
        if counts.numel() == 0 or float(counts.sum()) <= 0:
            raise ValueError("the model has no atom-count histogram (n_nodes_counts)")
        probs = counts / counts.sum()
        inside = (n >= 0) & (n < counts.numel())
        p = torch.where(inside, probs[n.clamp(0, counts.numel() - 1).long()], torch.zeros_like(probs[:1]))
        return torch.log(p + 1e-30)

    def sample_n_nodes(self, count: int, generator: torch.Generator | None = None) -> list[int]:
        counts = torch.tensor(self.config.n_nodes_counts, dtype=torch.float64)
        if counts.numel() == 0 or float(counts.sum()) <= 0:
            raise ValueError("the model has no atom-count histogram (n_nodes_counts)")
        return [int(k) for k in torch.multinomial(counts, count, replacement=True, generator=generator)]

    def _noised(
        self, x: Tensor, h: Tensor, mask: Tensor, t: Tensor, generator: torch.Generator | None
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(z_x, z_h, eps_x, eps_h) with z = alpha_t [x, h] + sigma_t eps, eps_x CoM-free, padding 0."""
        alpha, sigma, _ = self.schedule(t)
        a, s = alpha.to(x.dtype).view(-1, 1, 1), sigma.to(x.dtype).view(-1, 1, 1)
        eps_x = com_free_noise(tuple(x.shape), mask, generator)
        eps_h = torch.randn(h.shape, generator=generator, dtype=h.dtype, device=h.device) * mask.unsqueeze(-1)
        return a * x + s * eps_x, a * h + s * eps_h, eps_x, eps_h

    def _inputs(self, batch: Batch) -> tuple[Tensor, Tensor, Tensor]:
        dtype = self._dtype()
        mask = batch["node_mask"].to(dtype)
        x = remove_mean(batch["positions"].to(dtype), mask) / self.config.norm_values[0]
        h = self.features(batch["one_hot"].to(dtype), batch["charges"].to(dtype)) * mask.unsqueeze(-1)
        return x, h, mask

    # --- training ---------------------------------------------------------------------------------------

    def forward(self, positions: Tensor, one_hot: Tensor, charges: Tensor, node_mask: Tensor) -> Tensor:
        """EDM's l2 training loss per molecule [B]: mean squared eps error per dimension, t ~ U{0..T}."""
        x, h, mask = self._inputs(
            {"positions": positions, "one_hot": one_hot, "charges": charges, "node_mask": node_mask}
        )
        t = torch.randint(0, self.timesteps + 1, (x.shape[0],), device=x.device)
        zx, zh, eps_x, eps_h = self._noised(x, h, mask, t, None)
        pred_x, pred_h = self.dynamics(zx, zh, t.to(x.dtype) / self.timesteps, mask)
        error = ((eps_x - pred_x) ** 2).sum(dim=(1, 2)) + ((eps_h - pred_h) ** 2).sum(dim=(1, 2))
        dims = mask.sum(dim=1) * (3 + self.feature_dim)
        return error / dims

    # --- the bound --------------------------------------------------------------------------------------

    def prior_kl(self, x: Tensor, h: Tensor, mask: Tensor) -> Tensor:
        """L_T = KL(q(z_T | x, h) || N(0, I)) per molecule, x on (N - 1) * 3 and h on N * F dimensions."""
        ab = self.alpha2[-1].item()
        n = mask.double().sum(dim=1)
        dof = (n - 1.0) * 3.0 + n * self.feature_dim
        var = 1.0 - ab
        sq = ab * ((x.double() ** 2).sum(dim=(1, 2)) + (h.double() ** 2).sum(dim=(1, 2)))
        return 0.5 * (dof * (var - 1.0 - math.log(var)) + sq)

    def diffusion_term(
        self, x: Tensor, h: Tensor, mask: Tensor, t: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        """L_t = 0.5 (SNR_{t-1} / SNR_t - 1) ||eps - eps_hat||^2 per molecule for steps t [B] in 1..T: vcore's
        discrete-time VDM term for one step, over [x, h] (padding atoms contribute 0 to the norm)."""
        zx, zh, eps_x, eps_h = self._noised(x, h, mask, t, generator)
        pred_x, pred_h = self.dynamics(zx, zh, t.to(x.dtype) / self.timesteps, mask)
        eps = torch.cat([eps_x, eps_h], dim=-1).double()
        eps_hat = torch.cat([pred_x, pred_h], dim=-1).double()
        _, _, gamma_t = self.schedule(t)
        _, _, gamma_s = self.schedule(t - 1)
        return diffusion_loss_discrete(eps, eps_hat, gamma_t, gamma_s, num_steps=1)

    def decoder_nll(
        self,
        x: Tensor,
        h: Tensor,
        one_hot: Tensor,
        charges: Tensor,
        mask: Tensor,
        generator: torch.Generator | None,
    ) -> tuple[Tensor, Tensor]:
        """(L_0 for positions, L_0 for features) per molecule in nats, one z_0 ~ q(z_0 | x, h)."""
        t = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
        zx, zh, eps_x, _ = self._noised(x, h, mask, t, generator)
        pred_x, _ = self.dynamics(zx, zh, t.to(x.dtype), mask)
        _, sigma0, gamma0 = self.schedule(t)
        n = mask.double().sum(dim=1)
        dof = (n - 1.0) * 3.0
        l0_x = 0.5 * ((eps_x - pred_x) ** 2).double().sum(dim=(1, 2)) + dof * (0.5 * gamma0 + 0.5 * _LOG_2PI)
        return l0_x, -self.feature_log_likelihood(zh, one_hot, charges, mask, sigma0)

    def feature_log_likelihood(
        self, z_h: Tensor, one_hot: Tensor, charges: Tensor, mask: Tensor, sigma0: Tensor
    ) -> Tensor:
        """log p(h | z_0) per molecule: categorical one-hot from integrated Gaussian bins, integer charge."""
        _, n_cat, n_int = self.config.norm_values
        s = sigma0.view(-1, 1, 1)
        est_cat = z_h[..., : self.num_types].double() * n_cat
        est_int = z_h[..., self.num_types :].double() * n_int
        centred = est_cat - 1.0
        logits = log_normal_mass((centred - 0.5) / (s * n_cat), (centred + 0.5) / (s * n_cat))
        log_probs = logits - torch.logsumexp(logits, dim=-1, keepdim=True)
        chosen = one_hot.double() > 0.5
        log_cat = torch.where(chosen, log_probs, torch.zeros_like(log_probs)).sum(dim=-1)
        d = charges.double() - est_int
        log_int = log_normal_mass((d - 0.5) / (s * n_int), (d + 0.5) / (s * n_int)).sum(dim=-1)
        m = mask.double()
        return ((log_cat + log_int) * m).sum(dim=1)

    def nll(
        self, batch: Batch, generator: torch.Generator | None = None, full: bool = False
    ) -> dict[str, Tensor]:
        """Variational bound on -log p(x, h, N) per molecule (nats) and its terms, each [B] float64.

        Keys: total, neg_log_pn, prior, diffusion, decoder_x, decoder_h, log_det. `full=True` sums every
        diffusion step (T network calls per batch) instead of the single-t estimate T L_t.
        """
        x, h, mask = self._inputs(batch)
        n = mask.sum(dim=1).round().long()
        if bool((n < 2).any()):
            raise ValueError("molecules need at least 2 atoms (a zero-CoM subspace of dimension > 0)")
        b, T = x.shape[0], self.timesteps
        if full:
            diffusion = torch.zeros(b, dtype=torch.float64, device=x.device)
            for step in range(1, T + 1):
                t = torch.full((b,), step, dtype=torch.long, device=x.device)
                diffusion = diffusion + self.diffusion_term(x, h, mask, t, generator)
        else:
            t = torch.randint(1, T + 1, (b,), generator=generator, device=x.device)
            diffusion = T * self.diffusion_term(x, h, mask, t, generator)
        prior = self.prior_kl(x, h, mask)
        dec_x, dec_h = self.decoder_nll(x, h, batch["one_hot"], batch["charges"], mask, generator)
        neg_log_pn = -self.n_nodes_log_prob(n)
        log_det = (n.double() - 1.0) * 3.0 * math.log(self.config.norm_values[0])
        total = neg_log_pn + prior + diffusion + dec_x + dec_h + log_det
        return {
            "total": total,
            "neg_log_pn": neg_log_pn,
            "prior": prior,
            "diffusion": diffusion,
            "decoder_x": dec_x,
            "decoder_h": dec_h,
            "log_det": log_det,
        }

    # --- sampling ---------------------------------------------------------------------------------------

    def time_grid(self, steps: int | None = None) -> list[int]:
        """Decreasing integer steps T = t_S > ... > t_0 = 0 (S evenly spaced; every step when None)."""
        T = self.timesteps
        s = T if steps is None else steps
        if not 1 <= s <= T:
            raise ValueError(f"steps must lie in 1..{T}, got {s}")
        grid = np.unique(np.round(np.linspace(0, T, s + 1)).astype(np.int64))
        return [int(v) for v in grid[::-1]]

    def compile_network(self) -> None:
        """Run the EGNN through `torch.compile(dynamic=True)` from now on (sampling: 1.8-3x faster forward
        passes on this CPU after a one-time compile of about a minute; falls back to eager if compiling fails).
        Not registered as a submodule, so the weights' names do not change."""
        object.__setattr__(self, "_compiled", torch.compile(self.dynamics, dynamic=True))

    def _denoise(self, zx: Tensor, zh: Tensor, t: Tensor, mask: Tensor, bf16: bool) -> tuple[Tensor, Tensor]:
        """eps_theta(z_t, t) in the model's dtype; the network under bfloat16 autocast when `bf16`."""
        compiled = self.__dict__.get("_compiled")
        network = self.dynamics if compiled is None else compiled
        with torch.autocast(zx.device.type, dtype=torch.bfloat16, enabled=bf16):
            try:
                pred_x, pred_h = network(zx, zh, t, mask)
            except Exception as err:  # an inductor build failure (no C++ compiler, ...): eager from now on
                if network is self.dynamics:
                    raise
                logger.warning("torch.compile failed (%s); running the network eagerly", type(err).__name__)
                self.__dict__.pop("_compiled", None)
                pred_x, pred_h = self.dynamics(zx, zh, t, mask)
        return pred_x.to(zx.dtype), pred_h.to(zh.dtype)

    @torch.no_grad()
    def sample_batch(
        self,
        n_atoms: Sequence[int],
        steps: int | None = None,
        generator: torch.Generator | None = None,
        bf16: bool = False,
    ) -> list[Molecule]:
        """Molecules with the given atom counts (one padded batch), by ancestral sampling; with `bf16` the
        network runs under bfloat16 autocast (the updates of z stay in the model's dtype)."""
        dtype = self._dtype()
        device = next(self.parameters()).device
        b, n_max = len(n_atoms), max(n_atoms)
        counts = torch.tensor(n_atoms, device=device)
        mask = (torch.arange(n_max, device=device).unsqueeze(0) < counts.unsqueeze(1)).to(dtype)
        zx = com_free_noise((b, n_max, 3), mask, generator)
        zh = torch.randn((b, n_max, self.feature_dim), generator=generator, dtype=dtype, device=device)
        zh = zh * mask.unsqueeze(-1)
        grid = self.time_grid(steps)
        for t_int, s_int in itertools.pairwise(grid):
            t = torch.full((b,), t_int, dtype=torch.long, device=device)
            s = torch.full((b,), s_int, dtype=torch.long, device=device)
            alpha_t, sigma_t, _ = self.schedule(t)
            alpha_s, sigma_s, _ = self.schedule(s)
            alpha_ts = alpha_t / alpha_s
            sigma2_ts = sigma_t**2 - alpha_ts**2 * sigma_s**2
            pred_x, pred_h = self._denoise(zx, zh, t.to(dtype) / self.timesteps, mask, bf16)
            c = (sigma2_ts / alpha_ts / sigma_t).to(dtype).view(-1, 1, 1)
            inv = (1.0 / alpha_ts).to(dtype).view(-1, 1, 1)
            std = (sigma2_ts.sqrt() * sigma_s / sigma_t).to(dtype).view(-1, 1, 1)
            zx = inv * zx - c * pred_x + std * com_free_noise((b, n_max, 3), mask, generator)
            zh = (
                inv * zh
                - c * pred_h
                + std * torch.randn(zh.shape, generator=generator, dtype=dtype, device=device)
            )
            zx, zh = remove_mean(zx, mask), zh * mask.unsqueeze(-1)
        t0 = torch.zeros(b, dtype=torch.long, device=device)
        alpha0, sigma0, _ = self.schedule(t0)
        pred_x, _ = self._denoise(zx, zh, t0.to(dtype), mask, bf16)
        a0, s0 = alpha0.to(dtype).view(-1, 1, 1), sigma0.to(dtype).view(-1, 1, 1)
        x = (zx - s0 * pred_x) / a0 + (s0 / a0) * com_free_noise((b, n_max, 3), mask, generator)
        x = x * self.config.norm_values[0]
        types = zh[..., : self.num_types].argmax(dim=-1)
        return batch_to_molecules(x, types, mask, self.config.atom_types)

    def sample(
        self,
        n_atoms: Sequence[int],
        steps: int | None = None,
        generator: torch.Generator | None = None,
        batch_size: int = 64,
        bf16: bool = False,
    ) -> list[Molecule]:
        """Molecules with atom counts `n_atoms` (in that order), sampled in batches of equal atom count."""
        order = sorted(range(len(n_atoms)), key=lambda k: n_atoms[k])
        out: list[Molecule | None] = [None] * len(n_atoms)
        start = 0
        while start < len(order):
            n = n_atoms[order[start]]
            group = [k for k in order[start : start + batch_size] if n_atoms[k] == n]
            for k, mol in zip(
                group, self.sample_batch([n] * len(group), steps, generator, bf16), strict=True
            ):
                out[k] = Molecule(mol.numbers, mol.positions, None, k)
            start += len(group)
        return [m for m in out if m is not None]
