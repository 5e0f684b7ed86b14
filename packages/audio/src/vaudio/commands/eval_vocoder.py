"""`vaudio eval-vocoder --data DIR --checkpoint CKPT [-o heldout.json]`: DiffWave vs Griffin-Lim, held out.

Scores both vocoders from the same mels of the corpus folders' test split (and arctic_a0007, a real
recording) with PESQ-wb, STOI, MCD, LSD and MR-STFT (`vaudio.vocoder.heldout`). Written as
``heldout.json`` into a checkpoint folder, the means decide whether `vaudio vocode --method auto` uses it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

from vcore.cli_support import check_seed, configure_logging, emit_report, exits_2_on_user_error
from vcore.errors import UserError


def _table(report: dict[str, Any]) -> str:
    def row(label: str, scores: dict[str, float]) -> str:
        return (
            f"{label:<28} PESQ {scores['pesq']:5.2f}  STOI {scores['stoi']:5.3f}  MCD {scores['mcd_db']:5.2f} dB  "
            f"LSD {scores['lsd_db']:5.2f} dB  MR-STFT {scores['mrstft']:5.3f}"
        )

    lines = [
        f"{report['files']} held-out recordings, {report['seconds']:.1f} s; DiffWave {report['steps']} steps"
    ]
    for group, both in report["groups"].items():
        lines += [
            row(f"{group} DiffWave", both["diffwave"]),
            row(f"{group} Griffin-Lim", both["griffin_lim"]),
        ]
    lines += [row("all DiffWave", report["diffwave"]), row("all Griffin-Lim", report["griffin_lim"])]
    dw, gl = report["diffwave"], report["griffin_lim"]
    verdict = "beats" if dw["pesq"] > gl["pesq"] and dw["stoi"] > gl["stoi"] else "does not beat"
    lines.append(f"DiffWave {verdict} Griffin-Lim on mean PESQ and STOI")
    return "\n".join(lines)


@exits_2_on_user_error
def eval_vocoder_command(
    data: Annotated[list[Path], typer.Option("--data", help="corpus folder with a test split (repeatable)")],
    checkpoint: Annotated[
        Path | None, typer.Option("--checkpoint", help="DiffWave checkpoint (default: shipped)")
    ] = None,
    steps: Annotated[int, typer.Option("--steps", help="DiffWave steps (6: fast schedule)")] = 6,
    limit: Annotated[int | None, typer.Option("--limit", help="at most N recordings per group")] = None,
    arctic: Annotated[bool, typer.Option("--arctic/--no-arctic", help="include arctic_a0007.wav")] = True,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print the whole report as JSON")] = False,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="also write the JSON report here")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no status lines")] = False,
) -> None:
    """Score DiffWave and Griffin-Lim on held-out recordings from the same mels."""
    configure_logging(quiet)
    from vaudio.pretrained import VOCODER_DIR
    from vaudio.vocoder.choice import load_diffwave
    from vaudio.vocoder.heldout import compare_vocoders, heldout_files
    from vcore.io.checkpoint import shipped_checkpoint

    check_seed(seed)
    if limit is not None and limit < 1:
        raise UserError(f"--limit must be at least 1, got {limit}")
    model = load_diffwave(
        checkpoint if checkpoint is not None else shipped_checkpoint(VOCODER_DIR, "vaudio vocoder")
    )
    report = compare_vocoders(model, heldout_files(data, limit, arctic), steps=steps, seed=seed)
    if any(math.isnan(v) for v in report["diffwave"].values()):
        raise UserError("no held-out recording could be scored")
    emit_report(report, _table(report), as_json=as_json, out=out, quiet=quiet)
