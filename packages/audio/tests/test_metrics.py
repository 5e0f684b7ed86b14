"""Audio quality metrics (`vaudio.metrics`) and `vaudio eval`: known answers, noise monotonicity, bad input.

The test signals are synthetic and deterministic: a harmonic "voice" (sawtooth-like source up to 7.6 kHz,
F0 glides with a 5.5-Hz, +-30-cent vibrato, three formant resonators) in two notes with silence gaps and a
-60 dBFS noise floor, a sustained vowel without gaps, and pure tones. pysptk's arctic_a0007.wav (real
speech, evaluation data per DESIGN.md) is used for the identity check when the installed package has it.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import lfilter
from typer.testing import CliRunner

from vaudio.cli import app
from vaudio.features.stft import stft_magnitude
from vaudio.features.world import extract_f0
from vaudio.metrics.dtw import dtw
from vaudio.metrics.evaluate import evaluate_pair
from vaudio.metrics.f0 import f0_errors, f0_metrics
from vaudio.metrics.lsd import log_spectral_distance
from vaudio.metrics.mcd import MCD_SCALE, mel_cepstral_distortion
from vaudio.metrics.mrstft import PWG_RESOLUTIONS, multi_resolution_stft
from vaudio.metrics.pesq_wb import pesq_wb
from vaudio.metrics.stoi import stoi
from vcore.errors import UserError

SR = 16000
runner = CliRunner()


def _formants(source: np.ndarray, formants: tuple[float, ...]) -> np.ndarray:
    """Two-pole resonators at `formants` (bandwidths 80, 100, 140 Hz), unity gain at DC."""
    y = source
    for freq, bandwidth in zip(formants, (80.0, 100.0, 140.0), strict=False):
        r = math.exp(-math.pi * bandwidth / SR)
        a = [1.0, -2.0 * r * math.cos(2.0 * math.pi * freq / SR), r * r]
        y = lfilter([sum(a)], a, y)
    return y


def _harmonic(f0: np.ndarray) -> np.ndarray:
    """Band-limited sawtooth-like source: harmonics k f0 < 7.6 kHz with amplitude 1 / k."""
    phase = 2.0 * np.pi * np.cumsum(f0) / SR
    return sum(
        (np.where(k * f0 < 7600.0, np.sin(k * phase) / k, 0.0) for k in range(1, 51)), np.zeros_like(f0)
    )


def _vibrato_f0(start: float, stop: float, n: int) -> np.ndarray:
    t = np.arange(n) / SR
    return (start + (stop - start) * t / t[-1]) * 2.0 ** (30.0 / 1200.0 * np.sin(2.0 * np.pi * 5.5 * t))


@lru_cache(maxsize=1)
def voice() -> np.ndarray:
    """2 s: silence, a note 150 -> 180 Hz on /a/ (0.15-0.85 s), silence, 200 -> 170 Hz on /i/ (1.0-1.8 s)."""
    rng = np.random.default_rng(0)
    out = np.zeros(2 * SR)
    notes = [
        (0.15, 0.85, 150.0, 180.0, (700.0, 1220.0, 2600.0)),
        (1.0, 1.8, 200.0, 170.0, (300.0, 2300.0, 3000.0)),
    ]
    ramp = int(0.02 * SR)
    fade = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
    for start, stop, f_a, f_b, formants in notes:
        i0, i1 = int(start * SR), int(stop * SR)
        source = _harmonic(_vibrato_f0(f_a, f_b, i1 - i0)) + 0.02 * rng.standard_normal(i1 - i0)
        note = _formants(source, formants)
        note[:ramp] *= fade
        note[-ramp:] *= fade[::-1]
        out[i0:i1] = note
    out = 0.5 * out / np.abs(out).max()
    return out + 1e-3 * rng.standard_normal(out.size)


def sustained(cents: float = 0.0, seconds: float = 1.5) -> np.ndarray:
    """A gapless vowel /a/, F0 150 -> 190 Hz with vibrato, transposed by `cents`."""
    f0 = _vibrato_f0(150.0, 190.0, int(seconds * SR)) * 2.0 ** (cents / 1200.0)
    y = _formants(_harmonic(f0), (700.0, 1220.0, 2600.0))
    return 0.5 * y / np.abs(y).max()


def tone(freq: float, seconds: float = 1.0) -> np.ndarray:
    return 0.5 * np.sin(2.0 * np.pi * freq * np.arange(int(seconds * SR)) / SR)


def with_noise(x: np.ndarray, snr_db: float, seed: int = 1) -> np.ndarray:
    """x plus white Gaussian noise at `snr_db` relative to the mean power of x."""
    noise = np.random.default_rng(seed).standard_normal(x.size)
    return x + noise * math.sqrt(np.mean(x**2) / 10.0 ** (snr_db / 10.0))


@lru_cache(maxsize=8)
def voice_report(snr_db: float | None) -> dict:
    x = voice()
    return evaluate_pair(x, x if snr_db is None else with_noise(x, snr_db))


# --- identity, noise, the report -------------------------------------------------------------------


def test_identity_gives_best_values() -> None:
    report = voice_report(None)
    assert report["pesq_wb"] == pytest.approx(4.64, abs=0.01)
    assert report["stoi"] == pytest.approx(1.0, abs=1e-9)
    for key in ("mcd_db", "lsd_db", "mrstft", "mrstft_sc", "mrstft_log_mag", "f0_rmse_cents", "vuv_error"):
        assert report[key] == pytest.approx(0.0, abs=1e-9), key
    assert report["skipped"] == {}
    assert report["compared_seconds"] == 2.0
    # Harvest finds both notes (300 voiced frames of 5 ms) and extends them by a few frames.
    assert 300 <= report["voiced_frames_in_both"] <= 340
    assert report["f0_frames"] == 401
    json.dumps(report)


def test_identity_on_real_speech() -> None:
    pysptk = pytest.importorskip("pysptk")
    path = Path(pysptk.util.example_audio_file())
    if not path.is_file():
        pytest.skip("pysptk's arctic_a0007.wav is not installed")
    x, rate = sf.read(path)
    assert rate == SR
    assert pesq_wb(x, x) == pytest.approx(4.64, abs=0.01)
    assert stoi(x, x, SR) == pytest.approx(1.0, abs=1e-9)


def test_more_noise_is_worse() -> None:
    reports = [voice_report(snr) for snr in (30.0, 20.0, 10.0)]
    clean = voice_report(None)
    for higher_is_better in ("pesq_wb", "stoi"):
        values = [clean[higher_is_better]] + [r[higher_is_better] for r in reports]
        assert values == sorted(values, reverse=True), (higher_is_better, values)
        assert len(set(values)) == 4, (higher_is_better, values)
    for lower_is_better in ("mcd_db", "lsd_db", "mrstft", "mrstft_sc", "mrstft_log_mag"):
        values = [clean[lower_is_better]] + [r[lower_is_better] for r in reports]
        assert values == sorted(values), (lower_is_better, values)
        assert len(set(values)) == 4, (lower_is_better, values)
    # Recorded at 20 dB SNR (the signals are deterministic).
    assert reports[1]["pesq_wb"] == pytest.approx(2.33, abs=0.05)
    assert reports[1]["mcd_db"] == pytest.approx(7.6, abs=0.3)


def test_f0_errors_grow_with_noise() -> None:
    """On a gapless vowel: F0 RMSE grows with noise; voicing decisions break down only near 0 dB SNR.

    With silence gaps both are dominated by a few frames at note boundaries, where Harvest's extended voicing
    follows the noise in the gaps: on `voice` at 30, 20 and 10 dB SNR, F0 RMSE 91, 140, 201 cents and V/UV
    error 0.100, 0.092, 0.087 (noise seed 1; other seeds gave 28 to 302 cents at 30 dB, in no fixed order),
    so the gapless vowel is used here.
    """
    x = sustained()
    f0_ref = extract_f0(x, SR)[0]
    assert (f0_ref > 0).all()
    errors = [f0_errors(f0_ref, extract_f0(with_noise(x, snr), SR)[0]) for snr in (30.0, 10.0, 0.0, -10.0)]
    rmse = [e.rmse_cents for e in errors[:3]]
    assert rmse == sorted(rmse), rmse  # type: ignore[type-var]
    assert rmse[0] < 1.0 < rmse[2] < 30.0, rmse  # type: ignore[operator]
    assert errors[0].vuv_error == errors[1].vuv_error == 0.0
    assert errors[2].vuv_error < 0.05 < 0.5 < errors[3].vuv_error


# --- known answers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("cents", [50.0, -300.0])
def test_f0_rmse_of_a_transposed_voice(cents: float) -> None:
    result = f0_metrics(sustained(), sustained(cents), SR)
    assert result.rmse_cents == pytest.approx(abs(cents), abs=2.0)
    assert result.vuv_error == 0.0


@pytest.mark.parametrize("cents", [50.0, -300.0])
def test_f0_rmse_of_a_shifted_pure_tone(cents: float) -> None:
    """DIO + StoneMask tracks a pure 200-Hz tone; Harvest calls a pure sinusoid unvoiced (documented)."""
    result = f0_metrics(tone(200.0), tone(200.0 * 2.0 ** (cents / 1200.0)), SR, method="dio")
    assert result.rmse_cents == pytest.approx(abs(cents), abs=5.0)
    assert result.voiced_in_both >= 195


def test_harvest_calls_a_pure_tone_unvoiced() -> None:
    assert (extract_f0(tone(200.0), SR, "harvest")[0] > 0).mean() < 0.05


def test_vuv_error_of_a_half_silenced_vowel() -> None:
    x = sustained(seconds=1.0)
    y = x.copy()
    y[SR // 2 :] = 0.0
    result = f0_metrics(x, y, SR)
    assert result.vuv_error == pytest.approx(0.5, abs=0.03)
    assert result.voiced_in_both == pytest.approx(100, abs=5)


def test_f0_errors_by_hand() -> None:
    ref = np.array([0.0, 100.0, 100.0, 200.0, 0.0])
    gen = np.array([0.0, 200.0, 100.0, 0.0, 150.0, 123.0])  # one frame longer: trimmed
    result = f0_errors(ref, gen)
    assert result.rmse_cents == pytest.approx(math.sqrt(1200.0**2 / 2))
    assert result.vuv_error == pytest.approx(2 / 5)
    assert (result.voiced_in_both, result.frames) == (2, 5)
    assert f0_errors(np.zeros(3), np.ones(3)).rmse_cents is None


def test_mcd_is_gain_invariant_without_c0() -> None:
    x = voice()
    assert mel_cepstral_distortion(x, 0.5 * x, SR) == pytest.approx(0.0, abs=1e-4)
    # c0 is the mean natural-log amplitude: a gain g shifts it by ln g, MCD = 10/ln10 * sqrt(2) * |ln g|.
    with_c0 = mel_cepstral_distortion(x, 0.5 * x, SR, include_c0=True)
    assert with_c0 == pytest.approx(MCD_SCALE * math.log(2.0), abs=1e-3)
    assert with_c0 == pytest.approx(4.257, abs=1e-3)


def test_mcd_aligns_a_delayed_copy() -> None:
    """A 50-ms delay: frame-by-frame the cepstra differ, DTW aligns them back (lengths may differ)."""
    x = voice()
    delayed = np.concatenate([np.zeros(800), x])
    assert mel_cepstral_distortion(x, delayed, SR) < 0.3


def test_spectral_distances_of_a_gain() -> None:
    x = voice()
    assert log_spectral_distance(x, 0.5 * x) == pytest.approx(20.0 * math.log10(2.0), abs=1e-3)
    result = multi_resolution_stft(x, 0.5 * x)
    assert result.spectral_convergence == pytest.approx(0.5, abs=1e-6)
    assert result.log_magnitude == pytest.approx(math.log(2.0), abs=0.01)  # the 1e-7 power floor
    assert result.total == result.spectral_convergence + result.log_magnitude
    assert multi_resolution_stft(x, x, PWG_RESOLUTIONS).total == 0.0


def test_length_mismatch_is_trimmed() -> None:
    x = voice()
    padded = np.concatenate([x, np.zeros(200)])  # a vocoder padding to its hop
    report = evaluate_pair(x, padded)
    assert (report["ref_samples"], report["gen_samples"], report["compared_seconds"]) == (32000, 32200, 2.0)
    assert report["pesq_wb"] == pytest.approx(4.64, abs=0.01)
    assert report["lsd_db"] == report["mcd_db"] == report["vuv_error"] == 0.0


# --- building blocks ---------------------------------------------------------------------------------


def _dtw_by_hand(x: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    """The textbook O(NM) recursion with the same tie order (diagonal, vertical, horizontal)."""
    n, m = len(x), len(y)
    cost = np.full((n, m), np.inf)
    length = np.zeros((n, m), dtype=int)
    for i in range(n):
        for j in range(m):
            d = float(np.linalg.norm(x[i] - y[j]))
            if i == j == 0:
                cost[i, j], length[i, j] = d, 1
                continue
            steps = [(i - 1, j - 1), (i - 1, j), (i, j - 1)]
            best = min((s for s in steps if s[0] >= 0 and s[1] >= 0), key=lambda s: cost[s])
            cost[i, j], length[i, j] = d + cost[best], length[best] + 1
    return float(cost[-1, -1]), int(length[-1, -1])


@pytest.mark.parametrize(("n", "m"), [(1, 1), (1, 6), (7, 5), (9, 13), (20, 20)])
def test_dtw_matches_the_textbook_recursion(n: int, m: int) -> None:
    rng = np.random.default_rng(n * 100 + m)
    x, y = rng.standard_normal((n, 3)), rng.standard_normal((m, 3))
    result = dtw(x, y)
    cost, length = _dtw_by_hand(x, y)
    assert result.cost == pytest.approx(cost, rel=1e-12)
    assert result.path_length == length


def test_dtw_of_a_stretched_sequence_is_free() -> None:
    x = np.arange(6.0).reshape(-1, 1)
    y = np.repeat(x, [1, 3, 1, 1, 2, 1], axis=0)
    result = dtw(x, y)
    assert (result.cost, result.path_length) == (0.0, 9)


@pytest.mark.parametrize(("n_fft", "hop", "win"), [(512, 128, 512), (1024, 120, 600)])
def test_stft_matches_torch(n_fft: int, hop: int, win: int) -> None:
    import torch

    x = voice()[:4000]
    ours = stft_magnitude(x, n_fft, hop, win)
    spec = torch.stft(
        torch.from_numpy(x), n_fft, hop, win, torch.hann_window(win, dtype=torch.float64), return_complex=True
    )
    np.testing.assert_allclose(ours, spec.abs().numpy().T, atol=1e-9)


# --- bad input ---------------------------------------------------------------------------------------


def test_evaluate_pair_rejects_bad_input() -> None:
    x = voice()
    with pytest.raises(UserError, match=r"ref\.wav: the reference audio is silent"):
        evaluate_pair(np.zeros(SR), x, ref_name="ref.wav")
    with pytest.raises(UserError, match=r"gen\.wav: 0\.200 s of audio is too short.*0\.25 s"):
        evaluate_pair(x, x[: SR // 5], gen_name="gen.wav")
    with pytest.raises(UserError, match="generated: the audio contains NaN"):
        evaluate_pair(x, np.full(SR, np.nan))
    with pytest.raises(UserError, match="reference: the audio has no samples"):
        evaluate_pair(np.zeros(0), x)
    with pytest.raises(UserError, match="expected mono audio"):
        evaluate_pair(np.stack([x, x]), x)
    with pytest.raises(UserError, match="F0 method must be one of harvest, dio"):
        evaluate_pair(x, x, f0_method="crepe")  # type: ignore[arg-type]


def test_silent_generated_audio_is_scored_without_pesq() -> None:
    x = voice()[: SR // 2]
    report = evaluate_pair(x, np.zeros_like(x), f0_method="dio")
    assert report["pesq_wb"] is None
    assert report["skipped"]["pesq_wb"] == "generated audio is silent"
    assert report["f0_rmse_cents"] is None
    assert report["mrstft_sc"] == pytest.approx(1.0, abs=1e-3)


# --- CLI ---------------------------------------------------------------------------------------------


@pytest.fixture
def wavs(tmp_path: Path) -> tuple[Path, Path]:
    x = voice()[: SR // 2 + SR // 4]
    ref, gen = tmp_path / "ref.wav", tmp_path / "gen.wav"
    sf.write(ref, x, SR, subtype="FLOAT")
    sf.write(gen, np.concatenate([x, np.zeros(100)]), SR, subtype="FLOAT")
    return ref, gen


def test_eval_json_and_report_file(wavs: tuple[Path, Path], tmp_path: Path) -> None:
    ref, gen = wavs
    out = tmp_path / "report.json"
    result = runner.invoke(app, ["eval", str(ref), str(gen), "--json", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report == json.loads(out.read_text())
    assert (report["ref"], report["gen"]) == (str(ref), str(gen))
    assert (report["ref_samples"], report["gen_samples"]) == (12000, 12100)
    assert report["pesq_wb"] == pytest.approx(4.64, abs=0.01)
    assert report["mcd_db"] == report["lsd_db"] == report["f0_rmse_cents"] == 0.0


def test_eval_table(wavs: tuple[Path, Path]) -> None:
    ref, gen = wavs
    result = runner.invoke(app, ["eval", str(ref), str(gen), "--f0-method", "dio", "-q"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        f"reference: {ref}",
        f"generated: {gen}",
        "compared:  0.750 s at 16000 Hz; trimmed 100 samples to the shorter",
    ]
    assert lines[3].startswith("PESQ-wb         4.644       (1.04 .. 4.64, higher is better)")
    assert lines[5].startswith("MCD             0.000 dB    (mel-cepstrum c1..c24, alpha 0.42, DTW-aligned)")
    assert lines[8].endswith("frames voiced in both, dio)")


def test_eval_bad_input_exits_2_with_one_line(wavs: tuple[Path, Path], tmp_path: Path) -> None:
    ref, gen = wavs
    text = tmp_path / "notes.wav"
    text.write_text("not audio\n")
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0), SR)
    nans = tmp_path / "nan.wav"
    sf.write(nans, np.full(SR, np.nan), SR, subtype="FLOAT")
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(SR), SR)
    short = tmp_path / "short.wav"
    sf.write(short, voice()[:1000], SR)
    out = tmp_path / "report.json"
    cases = [
        ([str(tmp_path / "none.wav"), str(gen)], f"error: {tmp_path / 'none.wav'}: no such audio file"),
        ([str(ref), str(text)], f"error: {text}: not an audio file soundfile can read"),
        ([str(empty), str(gen)], f"error: {empty}: the audio file has no samples"),
        ([str(ref), str(nans)], f"error: {nans}: the audio contains NaN or infinite samples"),
        ([str(silent), str(gen)], f"error: {silent}: the reference audio is silent"),
        ([str(ref), str(short)], f"error: {short}: 0.062 s of audio is too short"),
        ([str(ref), str(gen), "--f0-method", "crepe"], "error: --f0-method must be one of harvest, dio"),
    ]
    for args, message in cases:
        result = runner.invoke(app, ["eval", *args, "-o", str(out), "-q"])
        assert result.exit_code == 2, (args, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, (args, lines)
        assert lines[0].startswith(message), (args, lines)
        assert not out.exists()
