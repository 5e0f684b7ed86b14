"""The `vgeom` command line."""

from __future__ import annotations

from vcore.cli_support import make_app, run_cli
from vgeom.commands.data import data_app
from vgeom.commands.eval import eval_command
from vgeom.commands.reconstruct import reconstruct_command
from vgeom.commands.sample import sample_command
from vgeom.commands.train import train_command

app = make_app(
    "vgeom", "vbound geometry: diffusion point clouds and SE(3)-diffusion registration.", "vbound-geometry"
)

app.add_typer(data_app, name="data")
app.command("train")(train_command)
app.command("sample")(sample_command)
app.command("reconstruct")(reconstruct_command)
app.command("eval")(eval_command)


def main() -> None:
    run_cli(app)


if __name__ == "__main__":
    main()
