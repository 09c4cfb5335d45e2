"""What every typer command needs: the App built by the root callback, and output helpers.

Errors are not caught here: a DubanError raised by any command propagates to
cli.main(), which prints its one sentence to stderr and exits with its code.
"""
from __future__ import annotations

import json
from typing import Any

import typer

from workflow.app import App


def app_of(ctx: typer.Context) -> App:
    """The App the root callback stored on the context."""
    return ctx.find_root().obj


def print_json(app: App, data: Any) -> None:
    """Stable, UTF-8 JSON for scripts (dates as ISO strings)."""
    print(json.dumps(data, ensure_ascii=False, indent=2, default=_default), file=app.out)


def _default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
