"""Banded attention in chunks of queries: the same output as the full [L, L] band mask, without building it."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import Tensor, nn

from vaudio.acoustic import encoder
from vaudio.acoustic.aux_decoder import AuxDecoder
from vaudio.acoustic.encoder import ATTENTION_CHUNK, FFTBlock, band_mask, banded_attention

torch.set_num_threads(1)

C = ATTENTION_CHUNK


def random_batch(length: int, hidden: int, seed: int) -> tuple[Tensor, Tensor]:
    """x [2, L, H]; the first item unpadded, the second padded after max(1, L - 37) frames."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(2, length, hidden, generator=generator)
    lengths = torch.tensor([length, max(1, length - 37)])
    pad = torch.arange(length)[None] >= lengths[:, None]
    return x, pad


def test_band_mask_offset_is_a_slice_of_the_full_mask() -> None:
    full = band_mask(50, 3)
    torch.testing.assert_close(band_mask(7, 3, offset=3, keys=13), full[20:27, 17:30])
    torch.testing.assert_close(band_mask(7, 3, offset=0, keys=10), full[0:7, 0:10])


@pytest.mark.parametrize("window", [5, 32])
@pytest.mark.parametrize("length", [1, 5, 32, C, C + 1, C + 64, C + 65, 3 * C + 7])
def test_chunked_attention_matches_the_full_band_mask(length: int, window: int) -> None:
    torch.manual_seed(0)
    attention = nn.MultiheadAttention(16, 2, dropout=0.1, batch_first=True).eval()
    x, pad = random_batch(length, 16, seed=length)
    with torch.no_grad():
        full, _ = attention(
            x, x, x, key_padding_mask=pad, attn_mask=band_mask(length, window), need_weights=False
        )
        chunked = banded_attention(attention, x, pad, window)
    padded = pad.unsqueeze(-1)  # padded queries may be NaN (whole band padding); FFTBlock zeroes them
    torch.testing.assert_close(
        chunked.masked_fill(padded, 0.0), full.masked_fill(padded, 0.0), rtol=0.0, atol=1e-5
    )


def test_chunked_fft_block_keeps_padding_finite_and_zero() -> None:
    torch.manual_seed(0)
    block = FFTBlock(16, 2, 32, 3).eval()
    x, pad = random_batch(3 * C + 7, 16, seed=1)
    pad[1, 40:] = True  # most of the second item is padding: its padded queries attend to nothing
    with torch.no_grad():
        y = block(x, pad, window=4)
    assert torch.isfinite(y).all()
    assert (y[1, 40:] == 0).all()


def test_long_sequence_never_builds_a_full_attention_matrix(monkeypatch: pytest.MonkeyPatch) -> None:
    length, window = 20_000, 32
    masks: list[tuple[int, ...]] = []
    keys: list[int] = []
    make_mask = encoder.band_mask
    attend = nn.MultiheadAttention.forward

    def recording_mask(*args: Any, **kwargs: Any) -> Tensor:
        mask = make_mask(*args, **kwargs)
        masks.append(tuple(mask.shape))
        return mask

    def recording_attend(
        self: nn.MultiheadAttention, query: Tensor, key: Tensor, *args: Any, **kwargs: Any
    ) -> Any:
        keys.append(key.shape[1])
        return attend(self, query, key, *args, **kwargs)

    monkeypatch.setattr(encoder, "band_mask", recording_mask)
    monkeypatch.setattr(nn.MultiheadAttention, "forward", recording_attend)
    torch.manual_seed(0)
    decoder = AuxDecoder(16, 8, 1, 2, 3, window, 0.0, 32).eval()
    cond = torch.randn(1, length, 16)
    with torch.no_grad():
        mel = decoder(cond, torch.zeros(1, length, dtype=torch.bool))
    assert mel.shape == (1, 8, length)
    assert torch.isfinite(mel).all()
    assert len(keys) == -(-length // C)
    assert max(keys) == C + 2 * window
    assert max(rows * cols for rows, cols in masks) == C * (C + 2 * window)
