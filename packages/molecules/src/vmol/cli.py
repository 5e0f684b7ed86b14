"""The `vmol` command line."""

from __future__ import annotations

from vcore.cli_support import make_app, run_cli
from vmol.commands.data import data_app
from vmol.commands.eval import eval_command

app = make_app(
    "vmol", "vbound molecules: 3D molecule diffusion and CDVAE crystal generation.", "vbound-molecules"
)

app.add_typer(data_app, name="data")
app.command("eval")(eval_command)


def main() -> None:
    run_cli(app)


if __name__ == "__main__":
    main()
