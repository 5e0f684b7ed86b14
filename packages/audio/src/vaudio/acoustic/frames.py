r"""A .ds segment at the mel's frame rate: phone ids and frame counts, F0 and note pitch per frame.

With sample rate r and hop h, a segment of D = sum(ph_dur) seconds has F = round(D r) // h frames (the
mel of the wav the corpus stores for it). Phone i covers frames [b_{i-1}, b_i) with
b_i = min(F, round(r / h * sum_{j<=i} ph_dur_j)) (b_0 = 0, b_last = F), so frame counts sum to F exactly;
a phone shorter than half a frame can get 0 frames (the length regulator skips it).

F0 per frame: f0_seq (every f0_timestep seconds, sample j at time j * f0_timestep) linearly interpolated
at the frame centres t_f = f h / r (the mel is a centred STFT), ends held. Note pitch per frame: the MIDI
number of the note sounding at t_f (NaN on rests). `--key N` adds N semitones to both (F0 times 2^(N/12)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vaudio.features.mel import MelConfig
from vaudio.score.ds import DsSegment


@dataclass
class SegmentFrames:
    """Model inputs of one segment (numpy; converted to tensors by the caller)."""

    phones: list[str]
    ph_frames: np.ndarray  # [P] int64, sums to n_frames
    f0: np.ndarray  # [F] Hz, > 0
    note: np.ndarray  # [F] MIDI (float, NaN on rests and where the segment has no notes)

    @property
    def n_frames(self) -> int:
        return int(self.ph_frames.sum())


def n_frames(seconds: float, config: MelConfig) -> int:
    """Mel frames of `seconds` of audio (as `MelConfig.frames` of the rounded sample count)."""
    return round(seconds * config.sample_rate) // config.hop_length


def phone_frames(ph_dur: list[float] | np.ndarray, config: MelConfig) -> np.ndarray:
    """Frame counts per phone (see the module docstring), summing to `n_frames(sum(ph_dur))`."""
    total = n_frames(float(np.sum(ph_dur)), config)
    ends = np.rint(np.cumsum(np.asarray(ph_dur, dtype=np.float64)) * config.sample_rate / config.hop_length)
    ends = np.minimum(ends.astype(np.int64), total)
    ends[-1] = total
    return np.diff(np.concatenate([[0], ends])).clip(min=0)


def frame_times(count: int, config: MelConfig) -> np.ndarray:
    """Centre time in seconds of each of `count` frames."""
    return np.arange(count) * config.hop_length / config.sample_rate


def f0_at_frames(f0_seq: np.ndarray, timestep: float, count: int, config: MelConfig) -> np.ndarray:
    """f0_seq resampled to the frame centres (linear interpolation, ends held)."""
    source = np.arange(len(f0_seq)) * timestep
    return np.interp(frame_times(count, config), source, np.asarray(f0_seq, dtype=np.float64))


def notes_at_frames(segment: DsSegment, count: int, config: MelConfig) -> np.ndarray:
    """MIDI pitch of the note sounding at each frame centre (NaN on rests / without notes)."""
    if segment.note_seq is None or segment.note_dur is None:
        return np.full(count, np.nan)
    midi = np.array([np.nan if m is None else float(m) for m in segment.note_midi()])
    ends = np.cumsum(segment.note_dur)
    index = np.searchsorted(ends, frame_times(count, config), side="right").clip(max=len(midi) - 1)
    return midi[index]


def segment_frames(
    segment: DsSegment, config: MelConfig, f0: np.ndarray | None = None, key: int = 0
) -> SegmentFrames:
    """Frame-level inputs of `segment`; `f0` (Hz per frame) overrides the segment's f0_seq.

    One of the two must be there (`vaudio.acoustic.pitch` makes an F0 curve for scores without one).
    """
    counts = phone_frames(segment.ph_dur, config)
    count = int(counts.sum())
    if f0 is None:
        if segment.f0_seq is None or segment.f0_timestep is None:
            raise ValueError("the segment has no f0_seq: pass an F0 curve")
        f0 = f0_at_frames(segment.f0_seq, segment.f0_timestep, count, config)
    if len(f0) != count:
        raise ValueError(f"F0 has {len(f0)} frames, the segment {count}")
    f0 = np.maximum(np.asarray(f0, dtype=np.float64), 1.0) * 2.0 ** (key / 12.0)
    return SegmentFrames(list(segment.ph_seq), counts, f0, notes_at_frames(segment, count, config) + key)


def hz_to_midi(f0: np.ndarray) -> np.ndarray:
    """Fractional MIDI number 69 + 12 log2(f0 / 440)."""
    return 69.0 + 12.0 * np.log2(np.maximum(np.asarray(f0, dtype=np.float64), 1e-3) / 440.0)
