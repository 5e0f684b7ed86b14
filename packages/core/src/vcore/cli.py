"""The `vcore` command line: `vcore ppca-select`, `vcore info`, `vcore version`."""

from __future__ import annotations

import json
import platform

import typer

from vcore.cli_support import make_app, run_cli
from vcore.commands.ppca_select import ppca_select

app = make_app("vcore", "vbound core: variational bounds, schedules and samplers.", "vbound-core")
app.command("ppca-select")(ppca_select)


@app.command("info")
def info(as_json: bool = typer.Option(False, "--json", help="Print the versions as JSON.")) -> None:
    """Print the versions of vbound-core, Python, torch and the installed vbound packages."""
    from importlib.metadata import PackageNotFoundError, version

    import torch

    versions = {"python": platform.python_version(), "torch": torch.__version__}
    for dist in ("vbound-core", "vbound-audio", "vbound-geometry", "vbound-molecules", "vbound-retrieval"):
        try:
            versions[dist] = version(dist)
        except PackageNotFoundError:
            continue
    versions["torch_threads"] = str(torch.get_num_threads())
    versions["cuda_available"] = str(torch.cuda.is_available())
    if as_json:
        typer.echo(json.dumps(versions, indent=2))
    else:
        for name, value in versions.items():
            typer.echo(f"{name:<18} {value}")


def main() -> None:
    run_cli(app)


if __name__ == "__main__":
    main()
