r"""Held-out evaluation of an acoustic model against Festival's renderings (what `make bench` reports).

For test phrases of a songs corpus (melodies never trained on; both voices of the first `limit // 2`
phrases, in id order), each decoding system makes a mel from the phrase's .ds (phones, ph_dur, f0_seq)
with the same seed:

- `aux`: the auxiliary decoder alone (the L1 "FFT-Singer" baseline);
- `shallow`: shallow diffusion from the checkpoint's boundary k, DDPM over k steps (`vaudio synth`'s
  default);
- `full`: full diffusion from Gaussian noise, DDPM over all T steps (T >= k);
- `full_k`: full diffusion with k DDIM steps (the same number of network calls as `shallow`);
- `gt_mel`: the ground-truth mel itself (the vocoder's ceiling).

Metrics per system, averaged over phrases:

- `variance_ratio`: over-smoothing, the mean over mel bins of var_t(generated) / var_t(ground truth)
  (variance over frames of each bin's [0, 1] log-mel, per phrase); 1 is the ground truth's texture, the
  L1 decoder is expected below 1;
- `mcd_db`, `pesq`, `stoi`: `vaudio.metrics.evaluate.evaluate_pair` of the vocoded mel (the default
  vocoder choice: Griffin-Lim while no DiffWave ships) against Festival's wav.

Pitch (`pitch`): median |F0 - note| in cents over voiced frames inside notes (Harvest, 5 ms; as the
corpus's own check, `vaudio.data.song_labels.note_cents_error`) of the `vaudio synth` output with
default settings: `from_f0_seq` with the .ds's f0_seq, `from_notes` with the F0 the score model derives
from the notes alone. Speed: the real-time factor (acoustic model + vocoder seconds / audio seconds) of
the default synthesis, with torch's current thread count.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vaudio.acoustic.dataset import corpus_entries, load_clip
from vaudio.acoustic.model import AcousticModel
from vaudio.acoustic.synth import ScoreInput, prepare, synthesize

logger = logging.getLogger(__name__)

SYSTEMS = ("gt_mel", "aux", "shallow", "full", "full_k")


def variance_ratio(generated: np.ndarray, reference: np.ndarray) -> float:
    """Mean over bins of var over frames (generated) / var over frames (reference), [n_mels, F] arrays."""
    ref = reference.var(axis=1)
    gen = generated.var(axis=1)
    keep = ref > 1e-8
    return float(np.mean(gen[keep] / ref[keep]))


def pick_items(data: Path, split: str, limit: int) -> list[tuple[str, str, Path, Path]]:
    """Both voices of the first phrases of `split`, in id order (at most `limit` items)."""
    entries = sorted(corpus_entries(data, split))
    phrases = sorted({e[0].rsplit("-", 1)[0] for e in entries})[: max(1, limit // 2)]
    return [e for e in entries if e[0].rsplit("-", 1)[0] in phrases][:limit]


def evaluate_heldout(
    model: AcousticModel, data: Path, limit: int = 12, seed: int = 0, split: str = "test"
) -> dict[str, Any]:
    """The report described in the module docstring."""
    from vaudio.data.song_labels import note_cents_error
    from vaudio.features.world import extract_f0
    from vaudio.io.audio import load_audio
    from vaudio.metrics.evaluate import evaluate_pair
    from vaudio.vocoder.choice import choose_vocoder
    from vaudio.vocoder.synthesis import vocode_mel

    config = model.config.mel
    k = model.config.boundary_k or model.config.num_steps // 2
    vocoder = choose_vocoder("auto", None)
    items = pick_items(data, split, limit)
    per_system: dict[str, list[dict[str, float]]] = {s: [] for s in SYSTEMS}
    cents_f0: list[np.ndarray] = []
    cents_notes: list[np.ndarray] = []
    synth_seconds = audio_seconds = 0.0
    settings = {
        "aux": ("aux", None, None),
        "shallow": ("shallow", k, None),
        "full": ("full", None, None),
        "full_k": ("full", None, k),
    }
    for item_id, voice, wav, ds in items:
        clip = load_clip(item_id, voice, wav, ds, config)
        reference = load_audio(wav, config.sample_rate)
        gt = clip.mel.numpy()
        segments = prepare(model, ScoreInput([clip.segment], False, item_id), {}, 0)
        mels: dict[str, np.ndarray] = {"gt_mel": gt}
        audios: dict[str, np.ndarray] = {}
        for name, (mode, kk, steps) in settings.items():
            start = time.perf_counter()
            result = synthesize(model, segments, voice, 0, mode, kk, steps, seed)  # type: ignore[arg-type]
            mels[name] = result.mel[:, : gt.shape[1]]
            if name == "shallow":
                audio = vocode_mel(vocoder, torch.from_numpy(result.mel), seed=seed)
                synth_seconds += time.perf_counter() - start
                audio_seconds += len(audio) / config.sample_rate
                audios[name] = audio
                f0, _ = extract_f0(audio, config.sample_rate, "harvest")
                cents_f0.append(note_cents_error(f0, clip.segment))
        for name, mel in mels.items():
            audio = audios[name] if name in audios else vocode_mel(vocoder, torch.from_numpy(mel), seed=seed)
            n = min(len(audio), len(reference))
            scores = evaluate_pair(reference[:n], audio[:n], config.sample_rate)
            per_system[name].append(
                {
                    "variance_ratio": variance_ratio(mel, gt),
                    "mcd_db": scores["mcd_db"],
                    "pesq": scores["pesq_wb"] or float("nan"),
                    "stoi": scores["stoi"] or float("nan"),
                }
            )
        notes_only = dataclasses.replace(clip.segment, f0_seq=None, f0_timestep=None)
        result = synthesize(
            model,
            prepare(model, ScoreInput([notes_only], False, item_id), {}, 0),
            voice,
            0,
            "shallow",
            k,
            None,
            seed,
        )
        audio = vocode_mel(vocoder, torch.from_numpy(result.mel), seed=seed)
        f0, _ = extract_f0(audio, config.sample_rate, "harvest")
        cents_notes.append(note_cents_error(f0, clip.segment))
        logger.info("%s: done", item_id)
    systems = {
        name: {metric: round(float(np.nanmean([r[metric] for r in rows])), 4) for metric in rows[0]}
        for name, rows in per_system.items()
        if rows
    }
    all_f0, all_notes = np.concatenate(cents_f0), np.concatenate(cents_notes)
    return {
        "items": [i[0] for i in items],
        "split": split,
        "k": k,
        "num_steps": model.config.num_steps,
        "boundary": model.config.boundary,
        "vocoder": vocoder.method,
        "vocoder_reason": vocoder.reason,
        "systems": systems,
        "pitch": {
            "from_f0_seq_median_cents": round(float(np.median(all_f0)), 2),
            "from_notes_median_cents": round(float(np.median(all_notes)), 2),
            "voiced_frames": int(all_f0.size),
        },
        "speed": {
            "realtime_factor": round(synth_seconds / audio_seconds, 3),
            "audio_seconds": round(audio_seconds, 2),
            "threads": torch.get_num_threads(),
        },
        "checks": {
            "pitch_within_50_cents": bool(np.median(all_f0) <= 50.0),
            "shallow_variance_closer_to_1_than_aux": bool(
                abs(systems["shallow"]["variance_ratio"] - 1) < abs(systems["aux"]["variance_ratio"] - 1)
            ),
            "shallow_mcd_within_0.5_db_of_aux": bool(
                abs(systems["shallow"]["mcd_db"] - systems["aux"]["mcd_db"]) <= 0.5
            ),
            "shallow_mcd_no_worse_than_full": bool(systems["shallow"]["mcd_db"] <= systems["full"]["mcd_db"]),
            "realtime_factor_at_most_2": bool(synth_seconds / audio_seconds <= 2.0),
        },
    }
