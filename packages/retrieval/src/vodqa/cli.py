"""The `vodqa` command line."""

from __future__ import annotations

from vcore.cli_support import make_app, run_cli

app = make_app("vodqa", "vbound retrieval: FAISS-backed Variational Open-Domain QA.", "vbound-retrieval")


def main() -> None:
    run_cli(app)


if __name__ == "__main__":
    main()
