"""The `vmol` subcommands."""
