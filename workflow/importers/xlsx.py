"""The Excel importer: the first worksheet whose rows contain a plan header.

Merged ranges are resolved the same way as in Word: cells below the top-left one are
None (merged down, inherited with a warning), cells to its right are spans. Rows above
the header (a merged title row) give the title.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from typing import Any

from workflow.errors import BadInput
from workflow.importers import workbook as workbook_form
from workflow.importers.table import Grid, plan_from_grids
from workflow.plans.model import Plan


MAX_COLUMNS = 200  # a plan table has a handful of columns; more is not a plan
MAX_MERGED_CELLS = 100_000
MAX_FORM_ROWS = 100_000  # a plan workbook has a few hundred task rows  # a merge this large that cannot be clipped is refused


def load_xlsx(data: bytes, year: int | None = None, name: str | None = None) -> Plan:
    """Parse a .xlsx plan. openpyxl is imported here, only when a .xlsx arrives."""
    import openpyxl

    data = _clip_merges(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception:  # openpyxl raises assorted errors for broken packages
        raise BadInput("Excel 文件已损坏或不是有效的 .xlsx：请用 Excel 重新保存后再试。") from None
    for sheet in workbook.worksheets:  # the plan workbook form (template, export, draft) first
        rows = _form_rows(sheet)
        header = workbook_form.header_at(rows)
        if header is not None:
            return workbook_form.read_sheet(rows, header, sheet=sheet.title, year=year, name=name)
    last_error: BadInput | None = None
    for sheet in workbook.worksheets:
        try:
            return plan_from_grids([_grid(sheet)], [], [], year=year, name=name)
        except BadInput as exc:
            if "表头" not in exc.message:
                raise
            last_error = exc
    raise last_error or BadInput("Excel 文件中没有工作表：请提供包含分工表的工作簿。")


_SHEET_RE = re.compile(r"xl/worksheets/[^/]+\.xml")
_MERGE_RE = re.compile(rb'(<(?:\w+:)?mergeCell\b[^>]*?\bref=")([^"]*)(")')
_CELL_RE = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"')
_ANY_CELL_RE = re.compile(rb"<(?:\w+:)?c[\s>/]")
_REF_RE = re.compile(r"([A-Z]{1,3})([0-9]{1,7})(?::([A-Z]{1,3})([0-9]{1,7}))?$")


def _clip_merges(data: bytes) -> bytes:
    """The package with every merged range clipped to the cells the sheet really has.

    openpyxl creates an object per merged cell: selecting a column and merging it
    (G1:G1048576) is a million of them from a 5 KB file. A merge beyond the last row or
    column holding a cell merges nothing, so it is cut there (or dropped) before loading."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        sheets = [m for m in package.infolist() if _SHEET_RE.fullmatch(m.filename)]
        changed: dict[str, bytes] = {}
        for member in sheets:
            xml = package.read(member)
            if b"mergeCell" not in xml:
                continue
            clipped = _clip_sheet(xml)
            if clipped != xml:
                changed[member.filename] = clipped
        if not changed:
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as rebuilt:
            for member in package.infolist():
                rebuilt.writestr(member, changed.get(member.filename) or package.read(member))
    return out.getvalue()


def _clip_sheet(xml: bytes) -> bytes:
    refs = _CELL_RE.findall(xml)
    if len(refs) < len(_ANY_CELL_RE.findall(xml)):  # cells without a reference: no bound known
        max_row = max_col = None
    else:
        max_row = max((int(row) for _, row in refs), default=0)
        max_col = max((_column(col.decode()) for col, _ in refs), default=0)

    def clip(match: re.Match) -> bytes:
        ref = match.group(2).decode("ascii", "replace").upper()
        found = _REF_RE.match(ref)
        if not found or not found.group(3):
            return match.group(0)
        c1, r1, c2, r2 = _column(found.group(1)), int(found.group(2)), _column(found.group(3)), int(found.group(4))
        if max_row is None:
            if (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1) > MAX_MERGED_CELLS:
                raise BadInput(f"Excel 表格中的合并单元格区域 {ref} 过大：请取消整行或整列的合并后再试。")
            return match.group(0)
        r2, c2 = min(r2, max(max_row, r1)), min(c2, max(max_col, c1))
        return match.group(1) + f"{_letters(c1)}{r1}:{_letters(c2)}{r2}".encode() + match.group(3)

    return _MERGE_RE.sub(clip, xml)


def _column(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number


def _letters(column: int) -> str:
    text = ""
    while column:
        column, rest = divmod(column - 1, 26)
        text = chr(65 + rest) + text
    return text


def _form_rows(sheet: Any) -> list[list[str]]:
    """The sheet's cells as text, every cell of a merged range holding its top-left text
    (how the plan workbook form reads a merged 工作任务 or heading row)."""
    # (iter_rows(max_row=N) makes every cell up to row N, even past the sheet's last row)
    rows = [[_text(v) for v in values]
            for values in sheet.iter_rows(max_row=min(sheet.max_row, MAX_FORM_ROWS),
                                          max_col=min(sheet.max_column, MAX_COLUMNS), values_only=True)]
    for merged in sheet.merged_cells.ranges:
        top, left = merged.min_row - 1, merged.min_col - 1
        if top >= len(rows) or left >= len(rows[top]):
            continue
        text = rows[top][left]
        for r in range(top, min(merged.max_row, len(rows))):
            for c in range(left, min(merged.max_col, len(rows[r]))):
                rows[r][c] = text
    return rows


def _grid(sheet: Any) -> Grid:
    rows = [[_text(v) for v in values] for values in sheet.iter_rows(values_only=True)]
    while rows and not any(rows[-1]):
        rows.pop()
    width = max((max((k for k, v in enumerate(row) if v), default=-1) + 1 for row in rows), default=0)
    if width > MAX_COLUMNS:
        raise BadInput(f"工作表“{sheet.title}”有 {width} 列，超过上限 {MAX_COLUMNS} 列：分工表只需序号、具体要求、落实处室、完成时限等几列，请删去多余的列后再试。")
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
