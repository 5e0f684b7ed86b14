"""`vcore ppca-select` end to end (CliRunner and `python -m vcore`), and strict CSV input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from vcore.cli import app
from vcore.errors import UserError
from vcore.ppca.csv_input import load_numeric_csv
from vcore.ppca.select import select_components
from vcore.ppca.synthetic import make_ppca_data, write_csv

RUNNER = CliRunner()


@pytest.fixture(scope="module")
def demo_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ppca") / "demo.csv"
    write_csv(path, make_ppca_data(1000, 10, 3, noise_scale=0.5, rng=0).x)
    return path


def _small(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _valid_rows(n: int, d: int) -> str:
    rng = np.random.default_rng(0)
    return "\n".join(",".join(f"{v:.6f}" for v in row) for row in rng.normal(size=(n, d))) + "\n"


# (file name, file text, extra arguments, what the one error line must contain after the path)
ERROR_CASES = {
    "non-numeric": (
        "bad.csv",
        "a,b,c\n1,2,3\n4,abc,6\n" + _valid_rows(10, 3),
        ["--max-k", "2"],
        "row 3, column 2 ('b'): 'abc' is not a number",
    ),
    "nan": (
        "nan.csv",
        "a,b,c\n1,2,3\nNaN,5,6\n" + _valid_rows(10, 3),
        ["--max-k", "2"],
        "row 3, column 1 ('a') is NaN",
    ),
    "fewer-rows": (
        "short.csv",
        _valid_rows(3, 5),
        ["--max-k", "2"],
        "has 3 data rows and 5 columns; PPCA needs more rows than columns",
    ),
    "max-k-0": (
        "ok.csv",
        _valid_rows(20, 3),
        ["--max-k", "0"],
        "--max-k 0 is out of range for {path} with 3 columns: use 1 to 2",
    ),
    "max-k-d": (
        "ok.csv",
        _valid_rows(20, 3),
        ["--max-k", "3"],
        "--max-k 3 is out of range for {path} with 3 columns: use 1 to 2",
    ),
    "missing": (None, "", ["--max-k", "2"], "no such file"),
}


def _case(tmp_path: Path, case: str) -> tuple[Path, list[str], str]:
    name, text, extra, expected = ERROR_CASES[case]
    path = tmp_path / "missing.csv" if name is None else _small(tmp_path, name, text)
    return path, extra, expected.format(path=path)


def _assert_one_error_line(stderr: str, path: Path, expected: str) -> None:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"error: {path}") or lines[0].startswith("error: --max-k"), lines[0]
    assert str(path) in lines[0]
    assert expected in lines[0], lines[0]


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_user_errors_exit_2_with_one_line_cli_runner(tmp_path: Path, case: str) -> None:
    path, extra, expected = _case(tmp_path, case)
    result = RUNNER.invoke(app, ["ppca-select", str(path), *extra, "--quiet"])
    assert result.exit_code == 2
    assert result.stdout == ""
    _assert_one_error_line(result.stderr, path, expected)


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_user_errors_exit_2_with_one_line_subprocess(tmp_path: Path, case: str) -> None:
    path, extra, expected = _case(tmp_path, case)
    proc = subprocess.run(
        [sys.executable, "-m", "vcore", "ppca-select", str(path), *extra],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    _assert_one_error_line(proc.stderr, path, expected)


def test_json_report(demo_csv: Path) -> None:
    result = RUNNER.invoke(app, ["ppca-select", str(demo_csv), "--max-k", "5", "--json", "--quiet"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["chosen_k"] == 3
    assert (report["noise"], report["noise_models_fitted"]) == ("auto", ["gaussian", "student-t"])
    assert (report["chosen_noise"], report["chosen_nu"]) == ("gaussian", None)
    assert "Gaussian PPCA" in report["max_log_likelihood_model"]
    assert (report["n"], report["d"], report["max_k"]) == (1000, 10, 5)
    assert report["header"] == [f"x{j}" for j in range(1, 11)]
    assert [row["k"] for row in report["per_k"]] == [1, 2, 3, 4, 5]
    assert [row["chosen"] for row in report["per_k"]] == [False, False, True, False, False]
    expected = select_components(load_numeric_csv(demo_csv).values, 5, noise="auto")
    for row, ref in zip(report["per_k"], expected.results, strict=True):
        assert row["elbo"] == ref.elbo == max(fit.elbo for fit in ref.fits)
        assert row["noise"] == ref.best.noise
        for fit in ref.fits:
            assert row["elbo_by_noise"][fit.noise]["elbo"] == fit.elbo
            assert row["elbo_by_noise"][fit.noise]["iterations"] == fit.iterations
        assert row["elbo_by_noise"]["student-t"]["nu"] == ref.fit("student-t").nu  # type: ignore[union-attr]
        assert "nu" not in row["elbo_by_noise"]["gaussian"]
        assert row["max_log_likelihood"] == ref.max_log_likelihood
        assert row["elbo_per_sample"] == pytest.approx(ref.elbo / 1000, rel=1e-15)
        assert row["max_log_likelihood_per_sample"] == pytest.approx(ref.max_log_likelihood / 1000, rel=1e-15)
    assert report["per_k"][2]["elbo"] == pytest.approx(-7968.13, abs=0.05)  # recorded (Gaussian)
    assert report["per_k"][2]["elbo_by_noise"]["student-t"]["elbo"] == pytest.approx(-7969.70, abs=0.05)
    pre = report["preprocessing"]
    assert pre["centre_columns"] is True
    assert pre["global_scale"] == pytest.approx(expected.preprocessing.scale)
    assert len(pre["column_means"]) == 10


def test_json_names_the_student_t_model_on_heavy_tailed_data(tmp_path: Path) -> None:
    path = tmp_path / "t3.csv"
    write_csv(path, make_ppca_data(1000, 10, 3, noise_scale=0.5, noise="student-t", df=3.0, rng=8).x)
    result = RUNNER.invoke(app, ["ppca-select", str(path), "--max-k", "5", "--json", "-q"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    # the Gaussian model alone picks k=5 on this seed; the (noise, k) choice gets the true k
    assert (report["chosen_k"], report["chosen_noise"]) == (3, "student-t")
    assert 5.0 < report["chosen_nu"] < 15.0
    assert report["chosen_nu"] == report["per_k"][2]["elbo_by_noise"]["student-t"]["nu"]
    assert report["per_k"][2]["elbo"] == pytest.approx(-5756.66, abs=0.05)  # recorded
    assert "fitted by maximising the ELBO" in report["prior"]["student_t_nu"]
    gaussian_only = RUNNER.invoke(
        app, ["ppca-select", str(path), "--max-k", "5", "--json", "-q", "--noise", "gaussian"]
    )
    report_g = json.loads(gaussian_only.stdout)
    assert (report_g["chosen_k"], report_g["chosen_noise"], report_g["noise"]) == (5, "gaussian", "gaussian")
    assert list(report_g["per_k"][0]["elbo_by_noise"]) == ["gaussian"]
    assert "student_t_nu" not in report_g["prior"]


def test_table_marks_the_chosen_k(demo_csv: Path) -> None:
    result = RUNNER.invoke(app, ["ppca-select", str(demo_csv), "--max-k", "4", "--quiet"])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines() if line[:3].strip().isdigit()]
    assert [int(r[0]) for r in rows] == [1, 2, 3, 4]
    assert [("<-" in r) for r in rows] == [False, False, True, False]
    assert rows[2][-3:] == ["<-", "chosen", "(gaussian)"]
    # k, ELBO gaussian, ELBO student-t, nu, ELBO/n (the larger), max log-lik, log-lik/n, sweeps g/t
    assert float(rows[2][1]) == pytest.approx(-7968.134, abs=1e-3)
    assert float(rows[2][2]) == pytest.approx(-7969.70, abs=0.05)
    assert float(rows[2][3]) == pytest.approx(1000.0, abs=0.05)
    assert float(rows[2][4]) == pytest.approx(-7.968134, abs=1e-5)
    assert "chosen k = 3, noise = gaussian" in result.stdout
    assert "Gaussian PPCA (Tipping & Bishop)" in result.stdout

    single = RUNNER.invoke(
        app, ["ppca-select", str(demo_csv), "--max-k", "4", "--quiet", "--noise", "gaussian"]
    )
    rows = [line.split() for line in single.stdout.splitlines() if line[:3].strip().isdigit()]
    assert float(rows[2][1]) == pytest.approx(-7968.134, abs=1e-3)  # ELBO in nats
    assert float(rows[2][2]) == pytest.approx(-7.968134, abs=1e-5)  # per sample
    assert "chosen k = 3, noise = gaussian" in single.stdout


@pytest.mark.parametrize("runner", ["cli-runner", "subprocess"])
def test_bad_noise_value_exits_2_with_one_line(demo_csv: Path, runner: str) -> None:
    args = ["ppca-select", str(demo_csv), "--max-k", "3", "--noise", "laplace"]
    expected = "error: --noise must be one of auto, gaussian, student-t, got 'laplace'"
    if runner == "cli-runner":
        result = RUNNER.invoke(app, args)
        code, stdout, stderr = result.exit_code, result.stdout, result.stderr
    else:
        proc = subprocess.run(
            [sys.executable, "-m", "vcore", *args],
            capture_output=True,
            text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
            timeout=120,
            check=False,
        )
        code, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    assert (code, stdout, stderr.splitlines()) == (2, "", [expected])


def test_out_writes_the_report_atomically(demo_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = RUNNER.invoke(
        app, ["ppca-select", str(demo_csv), "--max-k", "4", "--json", "-o", str(out), "-q"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == json.loads(result.stdout)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]  # no temp file left behind

    missing_dir = tmp_path / "nope" / "report.json"
    result = RUNNER.invoke(app, ["ppca-select", str(demo_csv), "--max-k", "2", "-o", str(missing_dir), "-q"])
    assert result.exit_code == 2
    _assert_one_error_line(result.stderr, missing_dir, "does not exist")
    assert not missing_dir.parent.exists()


def test_synthetic_module_and_cli_end_to_end_subprocess(tmp_path: Path) -> None:
    data, out = tmp_path / "demo.csv", tmp_path / "report.json"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    gen = [
        sys.executable,
        "-m",
        "vcore.ppca.synthetic",
        "--out",
        str(data),
        "--n",
        "400",
        "--d",
        "6",
        "--k",
        "2",
    ]
    assert subprocess.run([*gen, "--seed", "3"], env=env, timeout=120, check=False).returncode == 0
    assert np.array_equal(
        load_numeric_csv(data).values, make_ppca_data(400, 6, 2, rng=3).x
    )  # exact round trip
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "vcore",
            "ppca-select",
            str(data),
            "--max-k",
            "4",
            "--json",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["chosen_k"] == 2
    assert json.loads(out.read_text())["chosen_k"] == 2


# ---- strict CSV input ---------------------------------------------------------------------------


def test_csv_header_detection_bom_and_blank_lines(tmp_path: Path) -> None:
    with_header = _small(tmp_path, "h.csv", "\ufeffx, y\n1,2\n\n3, 4.5e0\n")
    m = load_numeric_csv(with_header)
    assert m.header == ("x", " y")
    assert np.array_equal(m.values, [[1.0, 2.0], [3.0, 4.5]])
    no_header = load_numeric_csv(_small(tmp_path, "n.csv", "1,2\n-3,4\n"))
    assert no_header.header is None
    assert np.array_equal(no_header.values, [[1.0, 2.0], [-3.0, 4.0]])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n1,2\n3,\n", "row 3, column 2 ('b') is empty"),
        ("a,b\n1,2\n3,inf\n", "row 3, column 2 ('b') is not finite ('inf')"),
        ("1,x\n1,2\n", "row 1, column 2: 'x' is not a number (a header row must have no numeric cells)"),
        ("a,b\n1,2\n3\n", "row 3 has 1 cells, but row 1 has 2"),
        ("a;b\n3;4\n", "row 2, column 1 ('a;b'): '3;4' is not a number (cells must be separated by commas)"),
        ("a,b\n", "no data rows below the header"),
        ("", "the file has no rows"),
        ("1,2\n3,4\nnan,1\n", "row 3, column 1 is NaN"),
    ],
)
def test_csv_errors_name_file_row_and_column(tmp_path: Path, text: str, message: str) -> None:
    path = _small(tmp_path, "x.csv", text)
    with pytest.raises(UserError) as err:
        load_numeric_csv(path)
    assert str(err.value) == f"{path}: {message}"


def test_csv_unreadable_inputs(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="is a directory"):
        load_numeric_csv(tmp_path)
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81,\x92\n")
    with pytest.raises(UserError, match="not a UTF-8 text file"):
        load_numeric_csv(binary)
