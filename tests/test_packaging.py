"""Packaging checks across the monorepo: versions agree, every package builds a wheel, core installs alone."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest
import tomllib
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {
    "core": ("vbound-core", "vcore"),
    "audio": ("vbound-audio", "vaudio"),
    "geometry": ("vbound-geometry", "vgeom"),
    "molecules": ("vbound-molecules", "vmol"),
    "retrieval": ("vbound-retrieval", "vodqa"),
}
DOMAINS = [name for name in PACKAGES if name != "core"]


def pyproject(package: str) -> dict:
    return tomllib.loads((ROOT / "packages" / package / "pyproject.toml").read_text())


def core_requirement(package: str) -> SpecifierSet:
    deps = pyproject(package)["project"]["dependencies"]
    (spec,) = [d.removeprefix("vbound-core") for d in deps if d.startswith("vbound-core")]
    return SpecifierSet(spec)


@pytest.mark.parametrize("package", DOMAINS)
def test_domain_pins_core_to_a_minor_range_that_admits_core(package: str) -> None:
    spec = core_requirement(package)
    core_version = Version(pyproject("core")["project"]["version"])
    assert core_version in spec
    next_minor = Version(f"{core_version.major}.{core_version.minor + 1}.0")
    assert next_minor not in spec, f"{package} must pin vbound-core below the next minor release"
    assert not any("@" in d or "path" in d for d in pyproject(package)["project"]["dependencies"])


@pytest.mark.parametrize("package", list(PACKAGES))
def test_installed_version_matches_pyproject(package: str) -> None:
    dist, _ = PACKAGES[package]
    assert version(dist) == pyproject(package)["project"]["version"]


@pytest.mark.parametrize("package", list(PACKAGES))
def test_cli_help_runs(package: str) -> None:
    _, module = PACKAGES[package]
    script = Path(sys.executable).parent / module
    for argv in ([str(script), "--help"], [sys.executable, "-m", module, "--help"]):
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "Usage" in done.stdout


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("wheels")
    built = {}
    for package in PACKAGES:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "build",
                "--wheel",
                "--no-isolation",
                "--outdir",
                str(out / package),
                str(ROOT / "packages" / package),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        (wheel,) = (out / package).glob("*.whl")
        built[package] = wheel
    return built


@pytest.mark.parametrize("package", list(PACKAGES))
def test_package_builds_a_wheel_with_its_cli(wheels: dict[str, Path], package: str) -> None:
    _, module = PACKAGES[package]
    with zipfile.ZipFile(wheels[package]) as wheel:
        names = wheel.namelist()
        assert f"{module}/__init__.py" in names
        assert f"{module}/cli.py" in names
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        assert f"{module}={module}.cli:main" in wheel.read(entry_points).decode().replace(" ", "")


def make_venv(path: Path) -> Path:
    """A fresh virtual environment that sees none of this one's packages."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=300)
    return path / "bin" / "python"


def check_core_alone(python: Path) -> None:
    bin_dir = python.parent
    done = subprocess.run([str(bin_dir / "vcore"), "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "ppca-select" in done.stdout
    where = subprocess.run(
        [str(python), "-c", "import vcore; print(vcore.__file__)"], capture_output=True, text=True, check=True
    ).stdout
    assert where.startswith(str(bin_dir.parent)), where
    for module in ("vaudio", "vgeom", "vmol", "vodqa"):
        absent = subprocess.run([str(python), "-c", f"import {module}"], capture_output=True)
        assert absent.returncode != 0, f"{module} must not be importable next to core alone"


def test_core_wheel_installs_alone_into_a_fresh_venv_and_runs_help(
    wheels: dict[str, Path], tmp_path: Path
) -> None:
    python = make_venv(tmp_path / "venv")
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-c", str(ROOT / "constraints.txt"), str(wheels["core"])],
        check=True,
        timeout=1200,
        env=env,
    )
    check_core_alone(python)
    assert not any(n.startswith("vbound") and n != "vbound-core" for n in installed_distributions(python))


def installed_distributions(python: Path) -> list[str]:
    listing = subprocess.run(
        [
            str(python),
            "-c",
            "from importlib.metadata import distributions as d; print(*{x.metadata['Name'] for x in d()})",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return listing.stdout.split()
