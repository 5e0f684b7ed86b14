"""The `vaudio` subcommands."""
