"""The ledger as Markdown: pasted into a wiki page, a mail or the annual-report draft.

Every cell is escaped so user text cannot break the table (a `|` would start a new
cell, a newline a new row) or inject markup (`<script>` stays text when rendered).
"""
from __future__ import annotations

import re
from typing import Any, Sequence

from workflow.ledger.compute import Ledger
from workflow.reports.tabular import (
    DEPARTMENT_TOTAL_COLUMNS, DETAIL_COLUMNS, INT, PERCENT, STATE_TOTAL_COLUMNS, Column,
    as_of_line, department_totals, detail_rows, state_totals, summary,
)

_SPECIAL = re.compile(r"([\\`*_\[\]|#])")
_NEWLINES = re.compile(r"\r\n|\r|\n")
_ANY = re.compile(r"[\\`*_\[\]|#<>&\r\n]")  # most cells have none: skip the rest


def escape_cell(text: str) -> str:
    """One line of Markdown that renders as `text`: entities for < > &, backslashes for
    the characters Markdown gives a meaning, <br> for line breaks."""
    if not _ANY.search(text):
        return text.strip()
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _SPECIAL.sub(r"\\\1", text)
    return _NEWLINES.sub("<br>", text.strip())


def table(columns: Sequence[Column], items: Sequence[Any]) -> list[str]:
    """A GitHub-flavoured pipe table; numbers aligned right."""
    lines = ["| " + " | ".join(escape_cell(c.header) for c in columns) + " |",
             "|" + "|".join("---:" if c.kind in (INT, PERCENT) else "---" for c in columns) + "|"]
    for item in items:
        lines.append("| " + " | ".join(escape_cell(c.text(item)) for c in columns) + " |")
    return lines


def render_markdown(ledger: Ledger, by: str = "task") -> str:
    """Title, as-of line, summary, totals per department and per state, then the detail."""
    heads = "、".join(f"{k} {v}" for k, v in summary(ledger).items())
    view = "按处室" if by == "department" else "按任务"
    parts = [f"# {escape_cell(ledger.title)}", "", as_of_line(ledger), "", heads, "",
             "## 处室汇总", "", *table(DEPARTMENT_TOTAL_COLUMNS, department_totals(ledger)), "",
             "## 状态汇总", "", *table(STATE_TOTAL_COLUMNS, state_totals(ledger)), "",
             f"## 台账明细({view})", "", *table(DETAIL_COLUMNS, detail_rows(ledger, by)), ""]
    return "\n".join(parts)
