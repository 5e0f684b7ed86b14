"""DiffWave against Griffin-Lim on held-out audio: the comparison that decides the default vocoder.

For every held-out recording (the `test` split of corpus folders, and pysptk's arctic_a0007.wav, a real
human recording), the mel is computed, turned back into audio by DiffWave (`steps`, 6 = its fast
schedule) and by Griffin-Lim (torchaudio, 32 iterations) from the same mel, and both are scored against the
recording with `vaudio.metrics.evaluate.evaluate_pair`. The report holds every file's scores, means per
group (corpus voice, or "arctic") and overall means of PESQ-wb, STOI, MCD, LSD and MR-STFT; its
``diffwave`` / ``griffin_lim`` means are what `vaudio.vocoder.choice` reads from a shipped ``heldout.json``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vaudio.data.corpus import manifest_items
from vaudio.features.mel import griffin_lim, mel_spectrogram
from vaudio.io.audio import load_audio
from vaudio.metrics.evaluate import evaluate_pair
from vaudio.vocoder import process
from vaudio.vocoder.diffwave import DiffWave
from vaudio.vocoder.synthesis import sampler_for
from vcore.errors import UserError

logger = logging.getLogger(__name__)

SCORES = ("pesq_wb", "stoi", "mcd_db", "lsd_db", "mrstft")
VOCODERS = ("diffwave", "griffin_lim")


@dataclass(frozen=True)
class HeldOut:
    """One held-out recording and the group it is reported under."""

    name: str
    path: Path
    group: str


def arctic_recording() -> Path:
    """pysptk's example recording arctic_a0007.wav (CMU ARCTIC, a real speaker), installed with pysptk."""
    path = Path(str(resources.files("pysptk") / "example_audio_data" / "arctic_a0007.wav"))
    if not path.is_file():
        raise UserError("pysptk's example_audio_data/arctic_a0007.wav is not installed")
    return path


def heldout_files(folders: list[Path], limit: int | None = None, arctic: bool = True) -> list[HeldOut]:
    """The `test` items of each corpus folder (at most `limit` per group), then arctic_a0007."""
    files: list[HeldOut] = []
    for folder in folders:
        items = manifest_items(folder)
        if items is None:
            raise UserError(f"{folder}: no manifest.json (a `vaudio data songs|speech` folder is needed)")
        counts: dict[str, int] = {}
        for item in items:
            if item.get("split") != "test":
                continue
            group = f"{folder.name}/{item.get('voice', 'all')}"
            if limit is not None and counts.get(group, 0) >= limit:
                continue
            counts[group] = counts.get(group, 0) + 1
            files.append(HeldOut(Path(item["wav"]).stem, folder / item["wav"], group))
    if arctic:
        files.append(HeldOut("arctic_a0007", arctic_recording(), "arctic"))
    if not files:
        raise UserError("no held-out recordings: the corpus folders have no test split")
    return files


def _means(rows: list[dict[str, Any]], vocoder: str) -> dict[str, float]:
    out = {}
    for score in SCORES:
        values = [r[vocoder][score] for r in rows if r[vocoder][score] is not None]
        out[score.replace("_wb", "")] = float(np.mean(values)) if values else math.nan
    return out


def compare_vocoders(
    model: DiffWave, files: list[HeldOut], steps: int = 6, seed: int = 0, gl_iters: int = 32
) -> dict[str, Any]:
    """Scores of DiffWave and Griffin-Lim on every file, with means per group and overall."""
    config = model.config.mel
    method, n = sampler_for(steps, model.config.num_steps)
    rows = []
    for k, item in enumerate(files):
        audio = torch.from_numpy(load_audio(item.path, config.sample_rate))
        mel = mel_spectrogram(audio, config)
        ref = audio[: mel.shape[-1] * config.hop_length].numpy()
        with torch.inference_mode():
            generator = torch.Generator().manual_seed(seed + k)
            dw = process.sample(model, mel, method, n, generator=generator).clamp(-1, 1).numpy()
            gl = griffin_lim(mel, config, n_iter=gl_iters, seed=seed + k).clamp(-1, 1).numpy()
        row: dict[str, Any] = {
            "name": item.name,
            "group": item.group,
            "seconds": len(ref) / config.sample_rate,
        }
        for vocoder, gen in zip(VOCODERS, (dw, gl), strict=True):
            scores = evaluate_pair(ref, gen, config.sample_rate, ref_name=str(item.path), gen_name=vocoder)
            row[vocoder] = {s: scores[s] for s in SCORES}
        logger.info(
            "%s: PESQ %.2f / %.2f, STOI %.3f / %.3f (DiffWave / Griffin-Lim)",
            item.name,
            row["diffwave"]["pesq_wb"] or math.nan,
            row["griffin_lim"]["pesq_wb"] or math.nan,
            row["diffwave"]["stoi"] or math.nan,
            row["griffin_lim"]["stoi"] or math.nan,
        )
        rows.append(row)
    groups = sorted({r["group"] for r in rows})
    return {
        "steps": steps,
        "griffin_lim_iterations": gl_iters,
        "files": len(rows),
        "seconds": sum(r["seconds"] for r in rows),
        "diffwave": _means(rows, "diffwave"),
        "griffin_lim": _means(rows, "griffin_lim"),
        "groups": {g: {v: _means([r for r in rows if r["group"] == g], v) for v in VOCODERS} for g in groups},
        "rows": rows,
    }
