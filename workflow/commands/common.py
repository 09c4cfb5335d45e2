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


def check_out(out: Any, option: str = "--out") -> None:
    """Refuse, before any work, a file that cannot be written where --out says.

    One sentence for each way it fails (the folder is missing, is not a folder, cannot be
    written; the target is a folder), never an internal error after the work was done.
    """
    import os
    from pathlib import Path

    from workflow.errors import BadInput

    out = Path(out)
    folder = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise BadInput(f"{option} {out} 是一个文件夹,请给出文件名。")
    if not folder.exists():
        raise BadInput(f"{option} 的文件夹 {folder} 不存在;请先创建它,或写到已有的文件夹中。")
    if not folder.is_dir():
        raise BadInput(f"{option} 的上级 {folder} 不是文件夹;请给出文件夹中的文件名。")
    if not os.access(folder, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise BadInput(f"没有权限写入 {out};请换一个可写的文件夹。")


def _default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
