"""Command run functions and typer sub-apps, split out of cli.py to keep it thin."""
