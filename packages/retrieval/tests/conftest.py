"""Shared fixtures of the vodqa tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from vcore.cli_support import USER_ERROR_EXIT_CODE
from vcore.errors import UserError

Invoke = Callable[..., tuple[int, str, str]]


@pytest.fixture(scope="session")
def invoke() -> Invoke:
    """Run `vodqa ARGS` as `vcore.cli_support.run_cli` does: a UserError is one line `error: ...`, exit 2."""
    from vodqa.cli import app

    runner = CliRunner()

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args))
        if isinstance(result.exception, UserError):
            return USER_ERROR_EXIT_CODE, result.stdout, f"error: {result.exception}"
        return result.exit_code, result.stdout, result.stderr

    return run
