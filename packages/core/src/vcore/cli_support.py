"""Helpers shared by every package's CLI: user errors as one line and exit code 2, logging set-up."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec

import typer

from vcore.errors import UserError

USER_ERROR_EXIT_CODE = 2

P = ParamSpec("P")


def fail(message: str) -> typer.Exit:
    """Print `error: <message>` on stderr and return the exit (code 2) for the caller to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=USER_ERROR_EXIT_CODE)


def exits_2_on_user_error(command: Callable[P, None]) -> Callable[P, None]:
    """Wrap a typer command so that a `UserError` prints one `error:` line and exits with code 2 (also when
    the command is invoked in-process, e.g. by typer's CliRunner, without `run_cli`)."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except UserError as err:
            raise fail(str(err)) from None

    return wrapper


def run_cli(app: typer.Typer, argv: list[str] | None = None) -> None:
    """Run a typer app; a `UserError` anywhere below becomes one line on stderr and exit code 2."""
    try:
        app(args=argv, standalone_mode=True)
    except UserError as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(USER_ERROR_EXIT_CODE)


def configure_logging(quiet: bool = False) -> None:
    """Only CLIs configure logging; libraries log through `logging.getLogger(__name__)`."""
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def version_command(distribution: str) -> Callable[[], None]:
    """A `version` command for a package's CLI: prints the distribution's and vbound-core's versions."""

    def show_version() -> None:
        """Print this package's version and the vbound-core version it runs on."""
        from importlib.metadata import version

        typer.echo(f"{distribution} {version(distribution)} (vbound-core {version('vbound-core')})")

    return show_version


def make_app(name: str, help_text: str, distribution: str) -> typer.Typer:
    """A package's root typer app: a command group (even with one command) with a `version` command."""
    app = typer.Typer(
        name=name, help=help_text, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
    )

    @app.callback()
    def group() -> None:
        """Command group; subcommands do the work."""

    app.command("version")(version_command(distribution))
    return app


def write_report(path: Path, text: str) -> None:
    """Write a command's report atomically; a missing folder or an unwritable path is the user's error."""
    from vcore.io.atomic import atomic_write_text

    if not path.parent.is_dir():
        raise UserError(f"{path}: cannot write the report, directory {path.parent} does not exist")
    if path.is_dir():
        raise UserError(f"{path}: cannot write the report, it is a directory")
    try:
        atomic_write_text(path, text)
    except OSError as err:
        raise UserError(f"{path}: cannot write the report ({err.strerror or err})") from None


def check_seed(seed: int, flag: str = "--seed") -> None:
    """UserError unless `seed` is a valid NumPy/torch seed, 0 <= seed < 2**32."""
    if not 0 <= seed < 2**32:
        raise UserError(f"{flag} must be in [0, 2**32), got {seed}")


def emit_report(report: dict[str, Any], table: str, *, as_json: bool, out: Path | None, quiet: bool) -> None:
    """Print a command's report (JSON with --json, else `table`) and write its JSON to `out` if given."""
    text = json.dumps(report, indent=2)
    if out is not None:
        write_report(out, text + "\n")
    typer.echo(text if as_json else table)
    if out is not None and not quiet:
        typer.echo(f"wrote {out}", err=True)


def set_threads(threads: int | None) -> None:
    """Apply `--threads N` to torch (None: leave torch's default)."""
    if threads is None:
        return
    if threads < 1:
        raise UserError(f"--threads must be at least 1, got {threads}")
    import torch

    torch.set_num_threads(threads)


def echo_train_summary(summary: dict[str, Any], out: Path, *, as_json: bool, quiet: bool) -> None:
    """The last line of a `train` command: the summary as JSON, or where the model went and how long it took."""
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
    elif not quiet:
        typer.echo(f"saved {out} after {summary['steps']} steps ({summary['wall_s']:.0f} s)")
