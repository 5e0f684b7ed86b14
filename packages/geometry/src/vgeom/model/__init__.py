"""Luo & Hu 2021's diffusion model for point clouds: PointNet encoder, flow prior, pointwise decoder."""

from vgeom.model.flow import AffineCoupling, LatentFlow
from vgeom.model.model import PointDiffusionConfig, PointDiffusionModel
from vgeom.model.pointnet import PointNetEncoder
from vgeom.model.pointwise import ConcatSquashLinear, PointwiseNet

__all__ = [
    "AffineCoupling",
    "ConcatSquashLinear",
    "LatentFlow",
    "PointDiffusionConfig",
    "PointDiffusionModel",
    "PointNetEncoder",
    "PointwiseNet",
]
