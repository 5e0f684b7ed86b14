r"""FFT blocks (FastSpeech, Ren et al. 2019, sec. 3.1) and DiffSinger's phone encoder with length regulator.

FFT block: x <- LN(x + MHA(x)), x <- LN(x + Conv1d_k(ReLU(Conv1d_k(x)))), padded positions zeroed. An
optional `window` limits attention to |i - j| <= window frames (used at frame level, so a decoder
trained on crops behaves the same on whole songs); `banded_attention` computes it exactly in chunks of
queries, in O(L (chunk + 2 window)) memory instead of O(L^2), so whole songs fit.

Phone encoder (Liu et al. 2022, sec. 3.2 "Encoder"): phone embedding + sinusoidal position + a linear
embedding of log(1 + frames of the phone), then FFT blocks; the length regulator repeats each phone's
hidden vector for its frames (E_m in the paper). `FrameConditioner` adds what varies per frame: the
pitch embedding of log-F0 (a 0.25-semitone bucket embedding plus a linear term, the paper's pitch
encoder), the phone's elapsed fraction, and the voice (speaker) embedding.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

PITCH_LOW, PITCH_HIGH, PITCH_BINS_PER_SEMITONE = 24.0, 96.0, 4
ATTENTION_CHUNK = 256  # queries per call of banded attention


def sinusoid(length: int, dims: int, device: torch.device | None = None) -> Tensor:
    """Transformer positional encoding [length, dims] (Vaswani et al. 2017)."""
    position = torch.arange(length, dtype=torch.float32, device=device)[:, None]
    freq = torch.exp(
        torch.arange(0, dims, 2, dtype=torch.float32, device=device) * (-math.log(10000.0) / dims)
    )
    out = torch.zeros(length, dims, device=device)
    out[:, 0::2] = torch.sin(position * freq)
    out[:, 1::2] = torch.cos(position * freq[: dims // 2])
    return out


class FFTBlock(nn.Module):
    """Self-attention + 1-D convolutional feed-forward, post-LayerNorm (FastSpeech's FFT block)."""

    def __init__(self, hidden: int, heads: int, filter_size: int, kernel: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(hidden, heads, dropout=dropout, batch_first=True)
        self.norm1 = nn.LayerNorm(hidden)
        self.conv1 = nn.Conv1d(hidden, filter_size, kernel, padding=kernel // 2)
        self.conv2 = nn.Conv1d(filter_size, hidden, kernel, padding=kernel // 2)
        self.norm2 = nn.LayerNorm(hidden)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, pad: Tensor, window: int | None = None) -> Tensor:
        """x [B, L, H], pad [B, L] True on padding; attention limited to |i - j| <= window if given."""
        padded = pad.unsqueeze(-1)
        if window is None:
            y, _ = self.attention(x, x, x, key_padding_mask=pad, need_weights=False)
        else:
            y = banded_attention(self.attention, x, pad, window)
        # a padded query whose whole band is padding attends to nothing (NaN): zero padded rows
        x = self.norm1(x + self.dropout(y.masked_fill(padded, 0.0))).masked_fill(padded, 0.0)
        hidden = F.relu(self.conv1(x.transpose(1, 2))).masked_fill(pad.unsqueeze(1), 0.0)
        y = self.conv2(hidden).transpose(1, 2)
        return self.norm2(x + self.dropout(y)).masked_fill(padded, 0.0)


def band_mask(
    length: int,
    window: int,
    device: torch.device | None = None,
    offset: int = 0,
    keys: int | None = None,
) -> Tensor:
    """[L, K] bool, True where |i + offset - j| > window (blocked); K = L by default.

    With offset = (first query's frame) - (first key's frame) it is a [L, K] slice of the full band."""
    queries = torch.arange(length, device=device)[:, None] + offset
    index = torch.arange(length if keys is None else keys, device=device)[None, :]
    return (queries - index).abs() > window


def banded_attention(
    attention: nn.MultiheadAttention, x: Tensor, pad: Tensor, window: int, chunk: int = ATTENTION_CHUNK
) -> Tensor:
    r"""Self-attention of x [B, L, H] (key padding pad [B, L]) limited to |i - j| <= window, exactly.

    Query i sees only keys j in [i - window, i + window], so the queries [s, e) of a chunk need only the
    keys [max(0, s - window), min(L, e + window)): softmax over that slice, with the band mask and the
    key padding restricted to it, gives the same rows as the full [L, L] masked attention, in
    O(L (chunk + 2 window)) memory. Up to chunk + 2 window frames the full mask is no larger: one call.
    """
    length = x.shape[1]
    if length <= chunk + 2 * window:
        mask = band_mask(length, window, x.device)
        return attention(x, x, x, key_padding_mask=pad, attn_mask=mask, need_weights=False)[0]
    out = []
    for start in range(0, length, chunk):
        stop = min(start + chunk, length)
        low, high = max(0, start - window), min(length, stop + window)
        mask = band_mask(stop - start, window, x.device, offset=start - low, keys=high - low)
        kv = x[:, low:high]
        y, _ = attention(
            x[:, start:stop], kv, kv, key_padding_mask=pad[:, low:high], attn_mask=mask, need_weights=False
        )
        out.append(y)
    return torch.cat(out, dim=1)


class PhoneEncoder(nn.Module):
    """Phone ids [B, P] + frames per phone [B, P] -> hidden [B, P, H]."""

    def __init__(
        self,
        n_phones: int,
        hidden: int,
        layers: int,
        heads: int,
        kernel: int,
        dropout: float,
        filter_size: int,
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(n_phones, hidden, padding_idx=0)
        self.duration = nn.Linear(1, hidden)
        self.blocks = nn.ModuleList(
            FFTBlock(hidden, heads, filter_size, kernel, dropout) for _ in range(layers)
        )
        self.hidden = hidden

    def forward(self, phones: Tensor, ph_frames: Tensor) -> Tensor:
        pad = phones == 0
        x = self.embed(phones) * math.sqrt(self.hidden) + sinusoid(
            phones.shape[1], self.hidden, phones.device
        )
        x = x + self.duration(torch.log1p(ph_frames.float()).unsqueeze(-1))
        for block in self.blocks:
            x = block(x, pad)
        return x


def length_regulate(hidden: Tensor, ph_frames: Tensor, n_frames: int) -> tuple[Tensor, Tensor, Tensor]:
    """Repeat phone vectors over their frames: ([B, F, H], phone index per frame [B, F], elapsed fraction
    of the phone [B, F]); frames past an item's end repeat its last phone (mask them with the frame mask)."""
    ends = ph_frames.cumsum(1)  # [B, P]
    frames = torch.arange(n_frames, device=hidden.device)
    index = torch.searchsorted(ends, frames.expand(ends.shape[0], -1).contiguous(), right=True)
    index = index.clamp(max=ph_frames.shape[1] - 1)
    starts = (ends - ph_frames).gather(1, index)
    length = ph_frames.gather(1, index).clamp(min=1)
    fraction = ((frames[None] - starts).float() + 0.5) / length.float()
    out = hidden.gather(1, index.unsqueeze(-1).expand(-1, -1, hidden.shape[-1]))
    return out, index, fraction.clamp(0.0, 1.0)


class FrameConditioner(nn.Module):
    """Frame-level condition c = E_m + pitch(F0) + position-in-phone + voice (all [B, F, H])."""

    def __init__(self, hidden: int, n_voices: int) -> None:
        super().__init__()
        self.bins = int((PITCH_HIGH - PITCH_LOW) * PITCH_BINS_PER_SEMITONE) + 1
        self.pitch_embed = nn.Embedding(self.bins, hidden)
        self.pitch_linear = nn.Linear(1, hidden)
        self.fraction = nn.Linear(1, hidden)
        self.voice = nn.Embedding(n_voices, hidden)

    def forward(self, expanded: Tensor, midi: Tensor, fraction: Tensor, voice: Tensor) -> Tensor:
        """expanded [B, F, H], midi = fractional MIDI of F0 [B, F], fraction [B, F], voice ids [B]."""
        bucket = ((midi - PITCH_LOW) * PITCH_BINS_PER_SEMITONE).round().long().clamp(0, self.bins - 1)
        pitch = self.pitch_embed(bucket) + self.pitch_linear(((midi - 60.0) / 12.0).unsqueeze(-1))
        return expanded + pitch + self.fraction(fraction.unsqueeze(-1)) + self.voice(voice)[:, None, :]
