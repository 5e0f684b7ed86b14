"""The `vmol` command line."""

from __future__ import annotations

from vcore.cli_support import make_app, run_cli
from vmol.commands.data import data_app
from vmol.commands.eval import eval_command
from vmol.commands.nll import nll_command
from vmol.commands.sample import sample_command
from vmol.commands.train import train_app

app = make_app(
    "vmol", "vbound molecules: 3D molecule diffusion and CDVAE crystal generation.", "vbound-molecules"
)

app.add_typer(data_app, name="data")
app.command("eval")(eval_command)
app.add_typer(train_app, name="train")
app.command("sample")(sample_command)
app.command("nll")(nll_command)


def main() -> None:
    run_cli(app)


if __name__ == "__main__":
    main()
