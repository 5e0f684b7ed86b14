"""The `vodqa` command line."""

from __future__ import annotations

from vcore.cli_support import make_app, run_cli
from vodqa.commands.ask import ask_command
from vodqa.commands.eval import eval_command
from vodqa.commands.index import index_command
from vodqa.commands.questions import questions_app
from vodqa.commands.search import search_command
from vodqa.commands.train import train_command

app = make_app("vodqa", "vbound retrieval: FAISS-backed Variational Open-Domain QA.", "vbound-retrieval")

app.command("index")(index_command)
app.command("search")(search_command)
app.command("train")(train_command)
app.command("ask")(ask_command)
app.command("eval")(eval_command)
app.add_typer(questions_app, name="questions")


def main() -> None:
    run_cli(app)


if __name__ == "__main__":
    main()
