"""`vaudio eval REF GEN [--json] [--out FILE]`: quality metrics of generated audio against a reference.

REF and GEN are audio files soundfile can read; both are down-mixed to mono and resampled to 16 kHz, then
trimmed to the shorter one. The metrics (see `vaudio.metrics.evaluate`): PESQ-wb and STOI (higher is
better), MCD, log-spectral distance, multi-resolution STFT distance, F0 RMSE in cents and V/UV error (lower
is better). A missing, unreadable, empty, NaN, silent-reference or too-short (< 0.25 s) input ends with exit
code 2 and one line naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from vcore.cli_support import configure_logging, emit_report, fail
from vcore.errors import UserError


def _row(label: str, report: dict[str, Any], key: str, fmt: str, unit: str, note: str) -> str:
    value = report[key]
    if value is None:
        return f"{label:<12} {'-':>8} {unit:<5} ({report['skipped'][key]})"
    return f"{label:<12} {value:{fmt}} {unit:<5} ({note})"


def _table(report: dict[str, Any]) -> str:
    trimmed = abs(report["ref_samples"] - report["gen_samples"])
    note = f"; trimmed {trimmed} samples to the shorter" if trimmed else ""
    return "\n".join(
        [
            f"reference: {report['ref']}",
            f"generated: {report['gen']}",
            f"compared:  {report['compared_seconds']:.3f} s at {report['sample_rate']} Hz{note}",
            _row("PESQ-wb", report, "pesq_wb", "8.3f", "", "1.04 .. 4.64, higher is better"),
            _row("STOI", report, "stoi", "8.4f", "", "0 .. 1, higher is better"),
            _row(
                "MCD",
                report,
                "mcd_db",
                "8.3f",
                "dB",
                f"mel-cepstrum c1..c{report['mcep_order']}, alpha {report['mcep_alpha']}, DTW-aligned",
            ),
            _row("LSD", report, "lsd_db", "8.3f", "dB", "STFT 1024/256"),
            _row(
                "MR-STFT",
                report,
                "mrstft",
                "8.4f",
                "",
                f"spectral convergence {report['mrstft_sc']:.4f} + log magnitude {report['mrstft_log_mag']:.4f}",
            ),
            _row(
                "F0 RMSE",
                report,
                "f0_rmse_cents",
                "8.2f",
                "cents",
                f"{report['voiced_frames_in_both']} of {report['f0_frames']} frames voiced in both, "
                f"{report['f0_method']}",
            ),
            _row("V/UV error", report, "vuv_error", "8.4f", "", f"fraction of {report['f0_frames']} frames"),
        ]
    )


def _run(
    ref_path: Path, gen_path: Path, f0_method: str, as_json: bool, quiet: bool, out: Path | None
) -> None:
    from vaudio.features.world import F0_METHODS
    from vaudio.io.audio import load_audio
    from vaudio.metrics.evaluate import EVAL_SAMPLE_RATE, evaluate_pair

    if f0_method not in F0_METHODS:
        raise UserError(f"--f0-method must be one of {', '.join(F0_METHODS)}, got {f0_method!r}")
    ref = load_audio(ref_path, EVAL_SAMPLE_RATE)
    gen = load_audio(gen_path, EVAL_SAMPLE_RATE)
    report: dict[str, Any] = {
        "ref": str(ref_path),
        "gen": str(gen_path),
        **evaluate_pair(
            ref,
            gen,
            EVAL_SAMPLE_RATE,
            f0_method=f0_method,
            ref_name=str(ref_path),
            gen_name=str(gen_path),
        ),
    }
    emit_report(report, _table(report), as_json=as_json, out=out, quiet=quiet)


def eval_command(
    ref: Annotated[Path, typer.Argument(help="Reference audio file (e.g. the recording).")],
    gen: Annotated[Path, typer.Argument(help="Generated audio file to score against REF.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print every metric as JSON.")] = False,
    f0_method: Annotated[
        str, typer.Option("--f0-method", help="F0 extractor: harvest (robust) or dio (fast).")
    ] = "harvest",
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No status lines (warnings still go to stderr).")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write the JSON report here (atomically).")
    ] = None,
) -> None:
    """PESQ-wb, STOI, MCD, LSD, multi-resolution STFT distance, F0 RMSE and V/UV error of GEN against REF."""
    configure_logging(quiet)
    try:
        _run(ref, gen, f0_method, as_json, quiet, out)
    except UserError as err:
        raise fail(str(err)) from None
