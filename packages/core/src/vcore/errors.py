"""Errors a user can cause.

A `UserError` names the input and what is wrong with it in one line. CLIs turn it into that
line on stderr and exit code 2, with no traceback (see `vcore.cli_support.run_cli`).
"""


class UserError(Exception):
    """A problem with the user's input (file, option, checkpoint), reported as one line."""
