r"""DiffSinger's auxiliary decoder: the "FFT-Singer" baseline (Liu et al. 2022, sec. 3.3 and table 1).

FFT blocks over the frame-level condition (attention limited to a band of +-`window` frames, computed
in chunks so whole songs fit, see `vaudio.acoustic.encoder.banded_attention`) and a linear projection
to the mel, trained with a plain L1 loss against the ground-truth mel. Its output is over-smoothed (the
paper's motivation); shallow diffusion starts from it.
"""

from __future__ import annotations

from torch import Tensor, nn

from vaudio.acoustic.encoder import FFTBlock


class AuxDecoder(nn.Module):
    """Condition [B, F, H] -> mel [B, n_mels, F] (in the model's [-1, 1] scale)."""

    def __init__(
        self,
        hidden: int,
        n_mels: int,
        layers: int,
        heads: int,
        kernel: int,
        window: int,
        dropout: float,
        filter_size: int,
    ) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            FFTBlock(hidden, heads, filter_size, kernel, dropout) for _ in range(layers)
        )
        self.out = nn.Linear(hidden, n_mels)
        self.window = window

    def forward(self, cond: Tensor, pad: Tensor) -> Tensor:
        x = cond
        for block in self.blocks:
            x = block(x, pad, self.window)
        return self.out(x).transpose(1, 2)
