"""What every typer command needs: the App built by the root callback, and output helpers.

Errors are not caught here: a DubanError raised by any command propagates to
cli.main(), which prints its one sentence to stderr and exits with its code.
"""
from __future__ import annotations

import json
from typing import Annotated, Any, Optional

import typer

from workflow.context import App


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


JSON = Annotated[bool, typer.Option("--json", help="以 JSON 输出(供脚本使用)")]
FOR = Annotated[Optional[str], typer.Option("--for", help="代办:以被代办人的名义操作(需本人授权)")]
ID = Annotated[int, typer.Argument(help="事项编号(见 duban task list)", min=1, max=2**62)]


def ex(*lines: str) -> str:
    """An epilog of real examples; \\b keeps click from re-wrapping it."""
    return "\b\n示例:\n" + "\n".join(f"  {line}" for line in lines)


def group(name: str, help_text: str, *example_lines: str) -> typer.Typer:
    """A command group with its help and examples."""
    sub = typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=None,
                      epilog=ex(*example_lines), context_settings={"help_option_names": ["-h", "--help"]})

    @sub.callback()
    def _cb() -> None:  # keeps single-command groups from collapsing
        pass

    _cb.__doc__ = help_text
    return sub
