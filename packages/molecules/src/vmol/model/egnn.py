r"""E(n)-equivariant graph network (Satorras et al. 2021, "E(n) Equivariant Graph Neural Networks") as the
noise predictor of EDM (Hoogeboom et al. 2022, "Equivariant Diffusion for Molecule Generation in 3D").

Follows EDM's `egnn/egnn_new.py` (EGNN with `EquivariantBlock`s, one invariant sublayer each) and
`EGNN_dynamics_QM9` on a dense, padded batch of fully connected molecules:

- edge features: the squared distance ||x_i - x_j||^2 of the current layer and of the input positions;
- invariant update (GCL with attention): m_ij = phi_e(h_i, h_j, d_ij) * sigmoid(phi_a(m_ij)) * e_ij,
  h_i <- h_i + phi_h(h_i, sum_j m_ij / normalization_factor);
- coordinate update with EDM's normalised, tanh-bounded differences:
  x_i <- x_i + sum_j (x_i - x_j) / (||x_i - x_j|| + norm_constant) * tanh(phi_x(h_i, h_j, d_ij)) * r / L,
  r = coords_range (15 in EDM) split over the L layers, divided by normalization_factor.

Masks: node_mask [B, N] (1 for real atoms), edge_mask [B, N, N] (real pairs i != j). Padding atoms send no
messages and are zeroed, so the outputs of real atoms do not depend on them.

`EGNNDynamics` maps (x_t, h_t, t) to (eps_x, eps_h): the network's features are [h_t, t], the
position output is x_L - x_0 with its centre of mass removed (EDM's `vel`), the feature output drops the
time channel.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def remove_mean(x: Tensor, node_mask: Tensor) -> Tensor:
    """x [B, N, 3] minus the mean over the real atoms of each molecule; padding rows set to 0."""
    m = node_mask.unsqueeze(-1).to(x.dtype)
    mean = (x * m).sum(dim=1, keepdim=True) / m.sum(dim=1, keepdim=True).clamp(min=1.0)
    return (x - mean) * m


def edge_mask_of(node_mask: Tensor) -> Tensor:
    """[B, N, N]: 1 for pairs of distinct real atoms."""
    m = node_mask.to(torch.bool)
    eye = torch.eye(m.shape[1], dtype=torch.bool, device=m.device)
    return (m.unsqueeze(2) & m.unsqueeze(1) & ~eye).to(node_mask.dtype)


def pair_linear(linear: nn.Module, h: Tensor, edge_attr: Tensor) -> Tensor:
    """linear([h_i, h_j, e_ij]) for every pair, [B, N, N, out], without building the [B, N, N, 2F + E] input.

    W [h_i, h_j, e_ij] + b = (W_1 h_i + b) + W_2 h_j + W_3 e_ij with W = [W_1 | W_2 | W_3]: the two node terms
    cost O(N F) matmuls instead of O(N^2 F), which is most of an edge MLP's work.
    """
    if not isinstance(linear, nn.Linear):
        raise TypeError(f"pair_linear needs an nn.Linear, got {type(linear).__name__}")
    f = h.shape[-1]
    w_i, w_j, w_e = linear.weight.split([f, f, linear.in_features - 2 * f], dim=1)
    node_i = nn.functional.linear(h, w_i, linear.bias)
    node_j = nn.functional.linear(h, w_j)
    return node_i.unsqueeze(2) + node_j.unsqueeze(1) + nn.functional.linear(edge_attr, w_e)


class GCL(nn.Module):
    """EDM's invariant graph convolution with attention."""

    def __init__(self, hidden: int, edge_dim: int, normalization_factor: float) -> None:
        super().__init__()
        self.normalization_factor = normalization_factor
        self.edge_mlp = nn.Sequential(
            nn.Linear(2 * hidden + edge_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU()
        )
        self.node_mlp = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.att_mlp = nn.Sequential(nn.Linear(hidden, 1), nn.Sigmoid())

    def forward(self, h: Tensor, edge_attr: Tensor, node_mask: Tensor, edge_mask: Tensor) -> Tensor:
        m = self.edge_mlp[1:](pair_linear(self.edge_mlp[0], h, edge_attr))
        m = m * self.att_mlp(m) * edge_mask.unsqueeze(-1)
        agg = m.sum(dim=2) / self.normalization_factor
        return (h + self.node_mlp(torch.cat([h, agg], dim=-1))) * node_mask.unsqueeze(-1)


class EquivariantUpdate(nn.Module):
    """EDM's coordinate update: normalised differences times a tanh-bounded invariant weight."""

    def __init__(self, hidden: int, edge_dim: int, coords_range: float, normalization_factor: float) -> None:
        super().__init__()
        self.coords_range = coords_range
        self.normalization_factor = normalization_factor
        last = nn.Linear(hidden, 1, bias=False)
        nn.init.xavier_uniform_(last.weight, gain=0.001)
        self.coord_mlp = nn.Sequential(
            nn.Linear(2 * hidden + edge_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(), last
        )

    def forward(
        self,
        h: Tensor,
        x: Tensor,
        coord_diff: Tensor,
        edge_attr: Tensor,
        node_mask: Tensor,
        edge_mask: Tensor,
    ) -> Tensor:
        weight = (
            torch.tanh(self.coord_mlp[1:](pair_linear(self.coord_mlp[0], h, edge_attr))) * self.coords_range
        )
        trans = coord_diff * weight * edge_mask.unsqueeze(-1)
        return (x + trans.sum(dim=2) / self.normalization_factor) * node_mask.unsqueeze(-1)


class EquivariantBlock(nn.Module):
    """One GCL followed by one coordinate update (EDM's `inv_sublayers=1`)."""

    def __init__(
        self, hidden: int, coords_range: float, norm_constant: float, normalization_factor: float
    ) -> None:
        super().__init__()
        self.norm_constant = norm_constant
        self.gcl = GCL(hidden, 2, normalization_factor)
        self.update = EquivariantUpdate(hidden, 2, coords_range, normalization_factor)

    def forward(
        self, h: Tensor, x: Tensor, d0: Tensor, node_mask: Tensor, edge_mask: Tensor
    ) -> tuple[Tensor, Tensor]:
        diff = x.unsqueeze(2) - x.unsqueeze(1)  # [B, N, N, 3]
        radial = (diff**2).sum(dim=-1, keepdim=True)
        coord_diff = diff / (torch.sqrt(radial + 1e-8) + self.norm_constant)
        edge_attr = torch.cat([radial, d0], dim=-1)
        h = self.gcl(h, edge_attr, node_mask, edge_mask)
        x = self.update(h, x, coord_diff, edge_attr, node_mask, edge_mask)
        return h, x


class EGNNDynamics(nn.Module):
    """eps_theta(z_t, t) for positions and features (EDM's `EGNN_dynamics_QM9` with EGNN inside)."""

    def __init__(
        self,
        feature_dim: int,
        hidden: int = 256,
        layers: int = 9,
        coords_range: float = 15.0,
        norm_constant: float = 1.0,
        normalization_factor: float = 1.0,
    ) -> None:
        super().__init__()
        self.feature_dim = feature_dim
        self.embedding = nn.Linear(feature_dim + 1, hidden)
        self.blocks = nn.ModuleList(
            EquivariantBlock(hidden, coords_range / layers, norm_constant, normalization_factor)
            for _ in range(layers)
        )
        self.embedding_out = nn.Linear(hidden, feature_dim + 1)

    def forward(self, x: Tensor, h: Tensor, t: Tensor, node_mask: Tensor) -> tuple[Tensor, Tensor]:
        """x [B, N, 3], h [B, N, F], t [B] in [0, 1], node_mask [B, N] -> (eps_x [B, N, 3], eps_h [B, N, F])."""
        mask = node_mask.to(x.dtype)
        edge_mask = edge_mask_of(mask)
        x = x * mask.unsqueeze(-1)
        time = t.to(x.dtype).reshape(-1, 1, 1).expand(-1, x.shape[1], 1)
        feats = torch.cat([h, time], dim=-1) * mask.unsqueeze(-1)
        d0 = ((x.unsqueeze(2) - x.unsqueeze(1)) ** 2).sum(dim=-1, keepdim=True)
        hidden = self.embedding(feats) * mask.unsqueeze(-1)
        pos = x
        for block in self.blocks:
            hidden, pos = block(hidden, pos, d0, mask, edge_mask)
        out = self.embedding_out(hidden) * mask.unsqueeze(-1)
        eps_x = remove_mean(pos - x, mask)
        return eps_x, out[..., : self.feature_dim]
