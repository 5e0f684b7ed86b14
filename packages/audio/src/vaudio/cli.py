"""The `vaudio` command line."""

from __future__ import annotations

from vcore.cli_support import make_app, run_cli

app = make_app("vaudio", "vbound audio: DiffWave vocoder and DiffSinger singing synthesis.", "vbound-audio")


def main() -> None:
    run_cli(app)


if __name__ == "__main__":
    main()
