"""The Word importer: the plan's table in a .docx, with the notice's paragraphs around it.

Cells are read from the XML grid rather than `row.cells`, so a vertically merged cell is
seen as merged (None, inherited with a warning, like a flattened page) and a cell spanning
several columns is seen once. Paragraphs before the table give the title, issuer and date.
"""
from __future__ import annotations

import io
from typing import Any

from workflow.errors import BadInput
from workflow.importers.table import Grid, plan_from_grids
from workflow.plan import Plan


def load_docx(data: bytes, year: int | None = None, name: str | None = None) -> Plan:
    """Parse a .docx plan. python-docx is imported here, only when a .docx arrives."""
    import docx
    from docx.oxml.ns import qn

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:  # python-docx raises assorted errors for broken packages
        raise BadInput("Word 文件已损坏或不是有效的 .docx:请用 Word 重新保存后再试。") from None
    before: list[str] = []
    after: list[str] = []
    grids: list[Grid] = []
    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            (after if grids else before).append(_paragraph_text(child, qn))
        elif child.tag == qn("w:tbl"):
            grids.append(_grid(child, qn))
    if not grids:
        raise BadInput("Word 文件中没有表格:分工方案应以表格列出序号、具体要求、落实处室等。")
    return plan_from_grids(grids, before, after, year=year, name=name)


def _paragraph_text(p: Any, qn: Any) -> str:
    """A paragraph's text; a manual line break (Shift+Enter) is a new line, as Word shows it."""
    text_tag, breaks, tab = qn("w:t"), {qn("w:br"), qn("w:cr")}, qn("w:tab")
    parts = []
    for node in p.iter(text_tag, tab, *breaks):
        parts.append((node.text or "") if node.tag == text_tag else "\t" if node.tag == tab else "\n")
    return "".join(parts)


def _cell_text(tc: Any, qn: Any) -> str:
    """A cell's paragraphs, one per line (a cell often holds chapter and section lines)."""
    return "\n".join(_paragraph_text(p, qn) for p in tc.iter(qn("w:p"))).strip()


def _grid(tbl: Any, qn: Any) -> Grid:
    grid = Grid(rows=[])
    for r, tr in enumerate(tbl.tr_lst):
        row: list[str | None] = [""] * (tr.grid_before or 0)
        for tc in tr.tc_lst:
            span = tc.grid_span or 1
            if tc.vMerge == "continue":
                row.extend([None] * span)
                continue
            text = _cell_text(tc, qn)
            row.append(text)
            for _ in range(span - 1):
                grid.spans.add((r, len(row)))
                row.append(text)
        grid.rows.append(row)
    return grid
