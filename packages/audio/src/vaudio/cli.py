"""The `vaudio` command line."""

from __future__ import annotations

from vaudio.commands.data import data_app
from vaudio.commands.eval import eval_command
from vaudio.commands.eval_vocoder import eval_vocoder_command
from vaudio.commands.synth import synth_command
from vaudio.commands.train import train_app
from vaudio.commands.vocode import mel2wav_command, vocode_command
from vcore.cli_support import make_app, run_cli

app = make_app("vaudio", "vbound audio: DiffWave vocoder and DiffSinger singing synthesis.", "vbound-audio")
app.add_typer(data_app, name="data")
app.command("eval")(eval_command)
app.command("eval-vocoder")(eval_vocoder_command)
app.add_typer(train_app, name="train")
app.command("vocode")(vocode_command)
app.command("mel2wav")(mel2wav_command)
app.command("synth")(synth_command)


def main() -> None:
    run_cli(app)


if __name__ == "__main__":
    main()
