"""Typer commands of the vgeom CLI."""
