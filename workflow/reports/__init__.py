"""Renderers for the ledger and the annual-report section: files a person opens.

They read `workflow.ledger.Ledger` and never touch the database themselves, except
ics.py, which reads the open assignments it exports. Every
format takes the same column model (`tabular.py`), so a header is defined once.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    from workflow.ledger.compute import Ledger

# "table" (terminal) and "json" are printed by the CLI itself; the rest are files.
FORMATS = ("table", "csv", "xlsx", "html", "md", "json")
FILE_FORMATS = ("csv", "xlsx", "html", "md")


def is_stream(target: Any) -> bool:
    return hasattr(target, "write")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield `name.part` to write to, and move it over `name` only when writing finished.

    A crash, a full disk or a bad value half-way through a 100,000-row file leaves the
    previous file (or nothing) in place, never a truncated one a person might open.
    """
    final = Path(path)
    part = final.with_name(final.name + ".part")
    try:
        yield part
        os.replace(part, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()


@contextlib.contextmanager
def open_text(target: str | os.PathLike | IO[str], *, encoding: str = "utf-8",
              newline: str | None = None) -> Iterator[IO[str]]:
    """A text stream to write to: the caller's stream as is, or an atomic file."""
    if is_stream(target):
        yield target  # type: ignore[misc]
        return
    with atomic_path(target) as part, open(part, "w", encoding=encoding, newline=newline) as fh:
        yield fh


def write_ledger(ledger: Ledger, fmt: str, out: str | os.PathLike | IO, by: str = "task") -> None:
    """Write `ledger` as csv, xlsx, html or md to a path (atomically) or an open stream.

    xlsx needs a binary stream; a text stream such as sys.stdout is given its `.buffer`.
    """
    if fmt == "csv":
        from workflow.reports.csv_out import write_csv
        write_csv(ledger, out, by)
    elif fmt == "md":
        from workflow.reports.markdown import render_markdown
        with open_text(out) as fh:
            fh.write(render_markdown(ledger, by))
    elif fmt == "html":
        from workflow.reports.html import write_html
        write_html(ledger, out, by)
    elif fmt == "xlsx":
        from workflow.reports.xlsx import write_xlsx
        write_xlsx(ledger, getattr(out, "buffer", out), by)
    else:
        raise ValueError(f"格式“{fmt}”不能写成文件,可选:{'、'.join(FILE_FORMATS)}。")
