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
from workflow.plans.model import Plan


def load_docx(data: bytes, year: int | None = None, name: str | None = None) -> Plan:
    """Parse a .docx plan. python-docx is imported here, only when a .docx arrives."""
    import docx
    from docx.oxml.ns import qn

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:  # python-docx raises assorted errors for broken packages
        raise BadInput("Word 文件已损坏或不是有效的 .docx：请用 Word 重新保存后再试。") from None
    before: list[str] = []
    after: list[str] = []
    grids: list[Grid] = []
    nested: list[str] = []
    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            (after if grids else before).append(_paragraph_text(child, qn))
        elif child.tag == qn("w:tbl"):
            grids.append(_grid(child, qn, len(grids) + 1, nested))
    if not grids:
        raise BadInput("Word 文件中没有表格：分工方案应以表格列出序号、具体要求、落实处室等。")
    plan = plan_from_grids(grids, before, after, year=year, name=name)
    if nested:
        plan.warnings.append(f"Word 表格中有嵌套的表格（表中表，位于{'、'.join(nested[:5])}"
                             f"{'等' if len(nested) > 5 else ''}），其文字已并入所在单元格，"
                             "其中的任务或处室不会单独读取：请核对这些单元格，必要时把内嵌表格改为文字。")
    return plan


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


def _grid(tbl: Any, qn: Any, number: int = 1, nested: list[str] | None = None) -> Grid:
    """The table's grid; cells holding a table of their own are noted in `nested`."""
    grid = Grid(rows=[])
    tbl_tag = qn("w:tbl")
    for r, tr in enumerate(tbl.tr_lst):
        row: list[str | None] = [""] * (tr.grid_before or 0)
        for tc in tr.tc_lst:
            span = tc.grid_span or 1
            if tc.vMerge == "continue":
                row.extend([None] * span)
                continue
            if nested is not None and next(tc.iterdescendants(tbl_tag), None) is not None:
                nested.append(f"第 {number} 个表格第 {r + 1} 行第 {len(row) + 1} 列")
            text = _cell_text(tc, qn)
            row.append(text)
            for _ in range(span - 1):
                grid.spans.add((r, len(row)))
                row.append(text)
        grid.rows.append(row)
    return grid
