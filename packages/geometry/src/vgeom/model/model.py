r"""`PointDiffusionModel`: Luo & Hu 2021's point-cloud diffusion model as one module with a saved config.

    encoder   q(z | X) = N(mu(X), diag sigma^2(X))            PointNet (`pointnet.py`)
    prior     p(z | c): affine-coupling flow (`flow.py`)       generation mode only
    decoder   p(X | z) = prod_i p(x^i_{0:T} | z)               pointwise reverse diffusion (`pointwise.py`)

Mode "gen" is the paper's flow-prior VAE (generation from p(z)); mode "ae" is its auto-encoder: z is the
posterior mean and there is no prior (the bound is then the conditional bound -log p(X | z)). The maths of
the objective lives in `diffusion.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from vcore.errors import UserError
from vcore.io.checkpoint import Pretrained
from vcore.precision import bf16_native
from vcore.samplers import TimeGrid, sample_ddpm
from vgeom.model.diffusion import (
    diffusion_bound,
    diffusion_terms,
    eps_model,
    latent_kl,
    point_schedule,
    reparameterize,
)
from vgeom.model.flow import LatentFlow
from vgeom.model.pointnet import PointNetEncoder, encoder_widths
from vgeom.model.pointwise import PointwiseNet, hidden_widths

Precision = Literal["auto", "fp32", "bf16"]


@dataclass
class PointDiffusionConfig:
    """Hyper-parameters; `width`/`encoder_width` scale the reference widths (128 = Luo & Hu's)."""

    mode: str = "gen"  # "gen" (flow prior) or "ae"
    latent_dim: int = 128
    width: int = 128
    encoder_width: int = 128
    num_steps: int = 100
    beta_1: float = 1e-4
    beta_T: float = 0.02
    flow_depth: int = 14
    flow_hidden: int = 256
    num_points: int = 2048
    categories: tuple[str, ...] = ()
    category_weights: tuple[float, ...] = ()
    variance: str = "fixed_small"

    def __post_init__(self) -> None:
        if self.mode not in ("gen", "ae"):
            raise ValueError(f"mode must be 'gen' or 'ae', got {self.mode!r}")
        if self.variance not in ("fixed_small", "fixed_large"):
            raise ValueError(f"variance must be 'fixed_small' or 'fixed_large', got {self.variance!r}")
        if self.category_weights and len(self.category_weights) != len(self.categories):
            raise ValueError("category_weights must have one entry per category")


class PointDiffusionModel(Pretrained, nn.Module):
    """Encoder, optional flow prior and pointwise diffusion decoder (see the module docstring)."""

    config_class = PointDiffusionConfig
    model_type = "vgeom-point-diffusion"

    def __init__(self, config: PointDiffusionConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = PointNetEncoder(config.latent_dim, encoder_widths(config.encoder_width))
        self.net = PointwiseNet(config.latent_dim, hidden_widths(config.width))
        self.flow: LatentFlow | None = None
        if config.mode == "gen":
            classes = max(1, len(config.categories))
            weights = tuple(config.category_weights) if classes > 1 and config.category_weights else None
            self.flow = LatentFlow(config.latent_dim, config.flow_depth, config.flow_hidden, classes, weights)
        self.schedule = point_schedule(config.num_steps, config.beta_1, config.beta_T)
        self.train_dtype: torch.dtype | None = (
            None  # bfloat16: the decoder's products in training (not saved)
        )

    # --- categories -------------------------------------------------------------------------------

    @property
    def conditional(self) -> bool:
        return self.flow is not None and self.flow.num_classes > 1

    def category_labels(self, names: Sequence[str]) -> Tensor | None:
        """Label indices [B] of category names for the conditional prior (None when unconditional)."""
        if not self.conditional:
            return None
        index = {c: i for i, c in enumerate(self.config.categories)}
        try:
            labels = [index[str(n)] for n in names]
        except KeyError as err:
            known = ", ".join(self.config.categories)
            raise UserError(f"unknown category {err.args[0]!r}; this model knows: {known}") from None
        return torch.tensor(labels, dtype=torch.long, device=self._device())

    def _device(self) -> torch.device:
        return next(self.parameters()).device

    # --- inference --------------------------------------------------------------------------------

    def encode(self, points: Tensor) -> tuple[Tensor, Tensor]:
        """(mean, log_var) of q(z | X) for clouds [B, N, 3]."""
        return self.encoder(points)

    def compute_dtype(self, precision: Precision) -> torch.dtype | None:
        if precision == "fp32":
            return None
        if precision == "bf16" or bf16_native(self._device()):
            return torch.bfloat16
        return None

    def decode(
        self,
        z: Tensor,
        num_points: int | None = None,
        generator: torch.Generator | None = None,
        steps: int | None = None,
        precision: Precision = "auto",
        progress: bool = False,
    ) -> Tensor:
        """Clouds [B, N, 3] from latents [B, F] by ancestral sampling (Ho et al. 2020, Alg. 2).

        `steps` < T walks an evenly spaced ("leading") sub-grid of the T training steps.
        """
        n = self.config.num_points if num_points is None else num_points
        if n < 1:
            raise UserError(f"the number of points must be at least 1, got {n}")
        grid = TimeGrid.from_schedule(self.schedule, steps)
        dtype = self.compute_dtype(precision)
        betas = self.schedule.betas.to(device=z.device, dtype=z.dtype)

        def net(x: Tensor, beta: Tensor, zz: Tensor) -> Tensor:
            return self.net(x, beta, zz, compute_dtype=dtype)

        gen_device = z.device if generator is None else generator.device
        x = torch.randn((z.shape[0], n, 3), generator=generator, device=gen_device).to(z.device, z.dtype)
        return sample_ddpm(
            eps_model(net, z, betas),
            x,
            grid,
            disable=not progress,
            generator=generator,
            variance=self._variance(),
        )

    def sample_latents(
        self, n: int, generator: torch.Generator | None = None, category: str | None = None
    ) -> tuple[Tensor, list[str]]:
        """n latents from the prior and their category names ("" for an unconditional prior)."""
        if self.flow is None:
            raise UserError("this is an auto-encoder checkpoint (mode 'ae'): it has no prior to sample from")
        labels = None
        if category is not None:
            if not self.conditional:
                if self.config.categories and category not in self.config.categories:
                    known = ", ".join(self.config.categories)
                    raise UserError(f"unknown category {category!r}; this model knows: {known}")
                if not self.config.categories:
                    raise UserError("this model was trained without categories; drop --category")
            else:
                labels = self.category_labels([category] * n)
        z, drawn = self.flow.sample(n, generator, labels)
        cats = self.config.categories
        names = [cats[int(i)] if self.conditional else (cats[0] if len(cats) == 1 else "") for i in drawn]
        return z, names

    @torch.inference_mode()
    def sample(
        self,
        n: int,
        num_points: int | None = None,
        generator: torch.Generator | None = None,
        steps: int | None = None,
        category: str | None = None,
        precision: Precision = "auto",
        progress: bool = False,
    ) -> Tensor:
        """n generated clouds [n, N, 3] in the normalised frame of the training data."""
        z, _ = self.sample_latents(n, generator, category)
        return self.decode(z, num_points, generator, steps, precision, progress)

    @torch.inference_mode()
    def reconstruct(
        self,
        points: Tensor,
        num_points: int | None = None,
        generator: torch.Generator | None = None,
        steps: int | None = None,
        precision: Precision = "auto",
    ) -> Tensor:
        """Decode the posterior mean of each cloud [B, N, 3] (normalised frame) back into points."""
        mean, _ = self.encode(points)
        return self.decode(mean, num_points or points.shape[1], generator, steps, precision)

    # --- the bound --------------------------------------------------------------------------------

    def latent(
        self, points: Tensor, labels: Tensor | None, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        """(z, KL estimate [B]): z ~ q(z | X) with its one-sample KL to the prior (gen), or (mean, 0) (ae)."""
        mean, log_var = self.encode(points)
        if self.flow is None:
            return mean, torch.zeros(points.shape[0], dtype=points.dtype, device=points.device)
        z = reparameterize(mean, log_var, generator)
        return z, latent_kl(log_var, self.flow.log_prob(z, labels))

    def objective(
        self, points: Tensor, labels: Tensor | None = None, generator: torch.Generator | None = None
    ) -> dict[str, Tensor]:
        """Per-cloud [B] training terms: "vlb" (diffusion bound estimate), "mse" (L_simple), "kl"."""
        z, kl = self.latent(points, labels, generator)
        dtype = self.train_dtype

        def net(x: Tensor, beta: Tensor, zz: Tensor) -> Tensor:
            return self.net(x, beta, zz, compute_dtype=dtype)

        terms = diffusion_terms(net, points, z, self.schedule, variance=self._variance(), generator=generator)
        return {"vlb": terms.vlb, "mse": terms.mse, "kl": kl}

    def forward(self, points: Tensor, labels: Tensor | None = None) -> dict[str, Tensor]:
        """The training terms (`objective`); a forward so that DistributedDataParallel can wrap the model."""
        return self.objective(points, labels)

    def bound(
        self, points: Tensor, labels: Tensor | None = None, generator: torch.Generator | None = None
    ) -> dict[str, Tensor]:
        """Every term of the bound per cloud [B] (nats): "diffusion" = -log p(X|z) bound, "kl", "total"."""
        z, kl = self.latent(points, labels, generator)
        diff = diffusion_bound(
            self.net, points, z, self.schedule, variance=self._variance(), generator=generator
        )
        return {"diffusion": diff, "kl": kl, "total": diff + kl}

    def _variance(self) -> Literal["fixed_small", "fixed_large"]:
        return "fixed_large" if self.config.variance == "fixed_large" else "fixed_small"
