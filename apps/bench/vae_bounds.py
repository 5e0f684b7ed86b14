"""IWAE and VR bounds with gradients, K particles vectorized, against pyro's RenyiELBO.

Two Bernoulli VAEs (a small one, where per-call overhead dominates, and an MNIST-sized one, where
compute dominates), the same networks, batch, K and alpha for every contender:
- `vcore`: log-weights [B, K] from one vectorized pass, then `vcore.bounds` IWAE / VR, backward;
- `inline`: the same pass with the bound written out by hand (logsumexp), to show vcore adds no overhead;
- `pyro`: `RenyiELBO(alpha, num_particles=K, vectorize_particles=True).loss_and_grads`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from bench.timing import time_interleaved
from vcore.bounds import iwae, renyi_bound


@dataclass(frozen=True)
class VaeCase:
    name: str
    data_dim: int
    hidden: int
    latent: int
    batch: int


CASES = (
    VaeCase("small 20-64-4, batch 32", 20, 64, 4, 32),
    VaeCase("MNIST-sized 784-400-20, batch 128", 784, 400, 20, 128),
)


class Encoder(nn.Module):
    """x -> (loc, log scale) of a diagonal Gaussian q(z | x), one hidden tanh layer."""

    def __init__(self, case: VaeCase) -> None:
        super().__init__()
        self.latent = case.latent
        self.body = nn.Sequential(nn.Linear(case.data_dim, case.hidden), nn.Tanh())
        self.head = nn.Linear(case.hidden, 2 * case.latent)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        loc, log_scale = self.head(self.body(x)).chunk(2, dim=-1)
        return loc, log_scale


def make_decoder(case: VaeCase) -> nn.Module:
    return nn.Sequential(
        nn.Linear(case.latent, case.hidden), nn.Tanh(), nn.Linear(case.hidden, case.data_dim)
    )


def log_weights(encoder: Encoder, decoder: nn.Module, x: Tensor, k: int) -> Tensor:
    """log w = log p(x|z) + log p(z) - log q(z|x) for K reparameterized samples: shape [B, K].

    With z = loc + scale * eps, log p(z) - log q(z|x) = sum(-z^2 / 2 + eps^2 / 2 + log scale): the
    log(2 pi) terms cancel.
    """
    loc, log_scale = encoder(x)
    eps = torch.randn((k, *loc.shape))
    z = torch.addcmul(loc, log_scale.exp(), eps)
    logits = decoder(z)
    log_px = -nn.functional.binary_cross_entropy_with_logits(
        logits, x.expand_as(logits), reduction="none"
    ).sum(-1)
    log_prior_ratio = (0.5 * (eps.square() - z.square()) + log_scale).sum(-1)
    return (log_px + log_prior_ratio).transpose(0, 1)


def pyro_contender(
    encoder: Encoder, decoder: nn.Module, x: Tensor, k: int, alpha: float
) -> Callable[[], float]:
    """pyro's vectorized RenyiELBO on the same networks: a closure computing the loss and gradients."""
    import pyro
    import pyro.distributions as dist
    from pyro.infer import RenyiELBO

    latent = encoder.latent

    def model(x: Tensor) -> None:
        pyro.module("decoder", decoder)
        with pyro.plate("data", x.shape[0]):
            z = pyro.sample("z", dist.Normal(x.new_zeros(latent), 1.0).to_event(1))
            pyro.sample("x", dist.Bernoulli(logits=decoder(z)).to_event(1), obs=x)

    def guide(x: Tensor) -> None:
        pyro.module("encoder", encoder)
        with pyro.plate("data", x.shape[0]):
            loc, log_scale = encoder(x)
            pyro.sample("z", dist.Normal(loc, log_scale.exp()).to_event(1))

    elbo = RenyiELBO(alpha=alpha, num_particles=k, vectorize_particles=True, max_plate_nesting=1)
    return lambda: float(elbo.loss_and_grads(model, guide, x))


def time_case(case: VaeCase, k: int, alpha: float, rounds: int) -> dict[str, float]:
    """Seconds per training step (bound + gradient) of vcore, the inline bound and pyro on one case."""
    torch.manual_seed(0)
    encoder, decoder = Encoder(case), make_decoder(case)
    params = [*encoder.parameters(), *decoder.parameters()]
    x = torch.bernoulli(torch.full((case.batch, case.data_dim), 0.3))

    def clear_grads() -> None:
        for p in params:
            p.grad = None

    def vcore_step() -> None:
        clear_grads()
        lw = log_weights(encoder, decoder, x, k)
        bound = iwae(lw) if alpha == 0.0 else renyi_bound(lw, alpha)
        (-bound.sum()).backward()

    def inline_step() -> None:
        clear_grads()
        lw = (1.0 - alpha) * log_weights(encoder, decoder, x, k)
        bound = (torch.logsumexp(lw, -1) - math.log(k)) / (1.0 - alpha)
        (-bound.sum()).backward()

    pyro_loss_and_grads = pyro_contender(encoder, decoder, x, k, alpha)

    def pyro_step() -> None:
        clear_grads()
        pyro_loss_and_grads()

    return time_interleaved({"vcore": vcore_step, "inline": inline_step, "pyro": pyro_step}, rounds=rounds)


def run(k: int = 16, rounds: int = 20) -> list[dict[str, Any]]:
    """Every case and bound; ratios > 1 mean vcore is faster than pyro."""
    results: list[dict[str, Any]] = []
    for case in CASES:
        for bound_name, alpha in (("IWAE", 0.0), ("VR alpha=0.5", 0.5)):
            secs = time_case(case, k, alpha, rounds)
            results.append(
                {
                    "case": case.name,
                    "bound": bound_name,
                    "k": k,
                    "seconds_per_step": secs,
                    "speedup_vs_pyro": secs["pyro"] / secs["vcore"],
                    "vcore_over_inline": secs["vcore"] / secs["inline"],
                }
            )
    return results
