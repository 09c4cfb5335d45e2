"""What every typer command needs: the App built by the root callback, and output helpers.

App is the workflow's Context plus what only a terminal has: its streams, whether it is
interactive, and the DUBAN_* environment variables it is filled from.

Errors are not caught here: a DubanError raised by any command propagates to
cli.main(), which prints its one sentence to stderr and exits with its code.
"""
from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Optional, TextIO

import typer

from workflow.context import DEFAULT_DATA_DIR, Context


def _data_dir() -> Path:
    return Path(os.environ.get("DUBAN_DATA") or DEFAULT_DATA_DIR)


@dataclass
class App(Context):
    """The Context of one command-line run, with the terminal's streams."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    interactive: bool = False
    data_dir: Path = field(default_factory=_data_dir)

    @classmethod
    def from_env(cls, **overrides: Any) -> "App":
        """Fill what the caller did not give from DUBAN_* environment variables."""
        values: dict[str, Any] = {
            "db_url": os.environ.get("DUBAN_DB"),
            "actor_name": os.environ.get("DUBAN_USER"),
            "config_path": Path(os.environ["DUBAN_CONFIG"]) if os.environ.get("DUBAN_CONFIG") else None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def config(self) -> Any:
        """The config; its warnings (a readable password file, …) go to stderr once."""
        fresh = self._config is None
        config = super().config()
        if fresh:
            for line in config.warnings:
                print(f"警告：{line}", file=self.err)
        return config

    def say(self, line: str) -> None:
        """A confirmation line: printed on a terminal, silent when piped."""
        if self.interactive:
            print(line, file=self.out)


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


JSON = Annotated[bool, typer.Option("--json", help="以 JSON 输出（供脚本使用）")]
FOR = Annotated[Optional[str], typer.Option("--for", help="代办：以被代办人的名义操作（需本人授权）")]
ID = Annotated[int, typer.Argument(help="事项编号（见 duban task list）", min=1, max=2**62)]


def ex(*lines: str) -> str:
    """An epilog of real examples; \\b keeps click from re-wrapping it."""
    return "\b\n示例：\n" + "\n".join(f"  {line}" for line in lines)


def group(name: str, help_text: str, *example_lines: str) -> typer.Typer:
    """A command group with its help and examples."""
    sub = typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=None,
                      epilog=ex(*example_lines), context_settings={"help_option_names": ["-h", "--help"]})

    @sub.callback()
    def _cb() -> None:  # keeps single-command groups from collapsing
        pass

    _cb.__doc__ = help_text
    return sub


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
        raise BadInput(f"{option} {out} 是一个文件夹，请给出文件名。")
    if not folder.exists():
        raise BadInput(f"{option} 的文件夹 {folder} 不存在；请先创建它，或写到已有的文件夹中。")
    if not folder.is_dir():
        raise BadInput(f"{option} 的上级 {folder} 不是文件夹；请给出文件夹中的文件名。")
    if not os.access(folder, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise BadInput(f"没有权限写入 {out}；请换一个可写的文件夹。")
