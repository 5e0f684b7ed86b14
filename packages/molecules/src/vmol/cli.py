"""The `vmol` command line."""

from __future__ import annotations

from vcore.cli_support import make_app, run_cli

app = make_app(
    "vmol", "vbound molecules: 3D molecule diffusion and CDVAE crystal generation.", "vbound-molecules"
)


def main() -> None:
    run_cli(app)


if __name__ == "__main__":
    main()
