"""The `vodqa` subcommands."""
