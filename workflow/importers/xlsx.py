"""The Excel importer: the first worksheet whose rows contain a plan header.

Merged ranges are resolved the same way as in Word: cells below the top-left one are
None (merged down, inherited with a warning), cells to its right are spans. Rows above
the header (a merged title row) give the title.
"""
from __future__ import annotations

import datetime as dt
import io
from typing import Any

from workflow.errors import BadInput
from workflow.importers.table import Grid, plan_from_grids
from workflow.plan import Plan


def load_xlsx(data: bytes, year: int | None = None, name: str | None = None) -> Plan:
    """Parse a .xlsx plan. openpyxl is imported here, only when a .xlsx arrives."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception:  # openpyxl raises assorted errors for broken packages
        raise BadInput("Excel 文件已损坏或不是有效的 .xlsx:请用 Excel 重新保存后再试。") from None
    last_error: BadInput | None = None
    for sheet in workbook.worksheets:
        try:
            return plan_from_grids([_grid(sheet)], [], [], year=year, name=name)
        except BadInput as exc:
            if "表头" not in exc.message:
                raise
            last_error = exc
    raise last_error or BadInput("Excel 文件中没有工作表:请提供包含分工表的工作簿。")


def _grid(sheet: Any) -> Grid:
    rows = [[_text(v) for v in values] for values in sheet.iter_rows(values_only=True)]
    while rows and not any(rows[-1]):
        rows.pop()
    grid = Grid(rows=rows)  # type: ignore[arg-type]
    for merged in sheet.merged_cells.ranges:
        top, left = merged.min_row - 1, merged.min_col - 1
        if top >= len(rows):
            continue
        text = rows[top][left] if left < len(rows[top]) else ""
        for r in range(top, min(merged.max_row, len(rows))):
            for c in range(left, min(merged.max_col, len(rows[r]))):
                if (r, c) == (top, left):
                    continue
                if r == top:
                    rows[r][c] = text
                    grid.spans.add((r, c))
                else:
                    rows[r][c] = None  # type: ignore[call-overload]
    return grid


def _text(value: Any) -> str:
    """A cell value as the text a reader sees: 1.0 → '1', dates → ISO."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
