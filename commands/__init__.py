"""The command line: one typer module per command group. Parse, call workflow/, render."""
