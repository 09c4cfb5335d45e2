"""The PDF importer: a text-based PDF's ruled tables, read by pdfplumber, into the same grids
the Word and Excel importers give the table parser.

A published PDF is usually a Word file printed: the table is ruled, a row may break across
a page (its rest is the first row of the next page's table, with an empty 序号), the header
may repeat on every page, and the notice's paragraphs are text outside the tables. A cell
merged down is missing from the rows below (None, inherited like Word's), a cell merged
across repeats its text (a span). A PDF without ruled tables is read as text (numbered
paragraphs, a table drawn without lines) by the text importer. A PDF with no text layer
(a scan) is refused: there is nothing to read without OCR.

pdfplumber is imported only when a PDF arrives.
"""
from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from workflow.errors import BadInput
from workflow.importers.table import Grid
from workflow.plans.model import Plan

# A line ending within this many characters of the cell's longest line was wrapped by the
# layout (Chinese line breaking keeps a closing quote, a number or a bracket with the
# character before it, so a wrapped line may end a few characters short).
WRAP_SLACK = 4
MAX_PAGES = 300  # a plan is a few dozen pages; more is not a plan (and would take minutes)
_TOLERANCE = 2.0  # points: cell edges closer than this are the same line
# a line starting so begins a heading or list item, never the rest of a wrapped line
_HEADING_RE = re.compile(r"^(?:[一二三四五六七八九十]{1,3}[、.．]|[(\uff08][一二三四五六七八九十\d]{1,3}[)\uff09]|\d{1,2}[、.．](?!\d))")


def load_pdf(data: bytes, path: Path, year: int | None) -> Plan:
    try:
        import pdfplumber
    except ImportError:  # pragma: no cover - a dependency, but say so if it is missing
        raise BadInput(f"读取 PDF 需要 pdfplumber，当前未安装：请安装 duban 的依赖，或提供 {path.stem} 的 Word 版本。") from None
    try:
        document = pdfplumber.open(io.BytesIO(data))
        pages = document.pages
    except Exception:  # pdfminer raises assorted errors for broken files
        raise BadInput(f"{path.name} 是损坏或不完整的 PDF 文件：请重新下载或另存后再试。") from None
    with document:
        if len(pages) > MAX_PAGES:
            raise BadInput(f"{path.name} 有 {len(pages)} 页，超过上限 {MAX_PAGES} 页：请只提供分工方案本身。")
        try:
            return _read(pages, path, year)
        except BadInput:
            raise
        except Exception:  # a malformed page deep inside pdfminer
            raise BadInput(f"{path.name} 中有无法解析的页面：请用 PDF 阅读器另存后再试，或提供 Word 版本。") from None


def _read(pages: list[Any], path: Path, year: int | None) -> Plan:
    from workflow.importers import parse_plan_text
    from workflow.importers.table import plan_from_grids

    if not any(page.chars for page in pages):
        raise BadInput(f"{path.name} 是扫描件（没有文字层），duban 读不出其中的文字："
                       f"请提供该方案的 Word、Excel 或网页版本，或先用 OCR 软件识别为文字再导入。")
    grids: list[Grid] = []
    before: list[str] = []
    after: list[str] = []
    texts: list[str] = []
    for page in pages:
        tables = page.find_tables()
        texts.append(page.extract_text() or "")
        outside = _text_outside(page, [t.bbox for t in tables])
        (after if grids else before).extend(outside)
        for table in tables:
            grid = _grid(table)
            if grid.rows and not _continues(grids, grid):
                grids.append(grid)
    if grids:
        try:
            return plan_from_grids(grids, before, after, year=year, name=path.stem)
        except BadInput as exc:  # the ruled tables are not the plan: try the text
            try:
                return parse_plan_text("\n".join(texts), year, name=path.stem)
            except BadInput:
                raise exc from None
    return parse_plan_text("\n".join(texts), year, name=path.stem)


def _text_outside(page: Any, boxes: list[tuple[float, float, float, float]]) -> list[str]:
    """The page's lines that are not inside a table (the notice around the table)."""
    if not boxes:
        return [line for line in (page.extract_text() or "").splitlines() if line.strip()]

    def outside(obj: dict) -> bool:
        x = (obj["x0"] + obj["x1"]) / 2
        y = (obj["top"] + obj["bottom"]) / 2
        return not any(x0 <= x <= x1 and top <= y <= bottom for x0, top, x1, bottom in boxes)

    text = page.filter(lambda obj: obj.get("object_type") != "char" or outside(obj)).extract_text() or ""
    return [line for line in text.splitlines() if line.strip()]


def _grid(table: Any) -> Grid:
    """The table as a Grid: a missing cell is merged down (None) unless the cell to its left
    reaches over its column (merged across: a span repeating that text)."""
    boxes = [row.cells for row in table.rows]
    texts = [[_cell_text(table.page, box) if box else None for box in row] for row in boxes]
    lefts = _column_lefts(boxes)
    grid = Grid(rows=[])
    for r, (row_texts, row_boxes) in enumerate(zip(texts, boxes)):
        row: list[str | None] = []
        for c, (text, box) in enumerate(zip(row_texts, row_boxes)):
            if box is not None:
                row.append((text or "").strip())
                continue
            left = next((k for k in range(c - 1, -1, -1) if row_boxes[k] is not None), None)
            if left is not None and c < len(lefts) and row_boxes[left][2] > lefts[c] + _TOLERANCE:
                row.append(row[left])
                grid.spans.add((r, c))
            else:
                row.append(None)
        grid.rows.append(row)
    return grid


def _cell_text(page: Any, box: tuple[float, float, float, float]) -> str:
    """A cell's text with the lines it wraps to joined again: a line that reaches the
    cell's right edge was wrapped by the layout, a line that stops short ended a paragraph
    (a heading line above the section's name, a list inside the cell)."""
    x0, top, x1, bottom = box
    try:
        near = page.within_bbox((x0 - 6, top - 6, x1 + 6, bottom + 6), strict=False)  # objects whole, not clipped
        inside = near.filter(
            lambda obj: obj.get("object_type") != "char"
            or (x0 <= (obj["x0"] + obj["x1"]) / 2 <= x1 and top <= (obj["top"] + obj["bottom"]) / 2 <= bottom))
        lines = inside.extract_text_lines()
    except ValueError:  # a cell outside the page's box
        return ""
    out = ""
    right = max((line["x1"] for line in lines), default=x1)  # where the layout wraps
    for k, line in enumerate(lines):
        text = line["text"].strip()
        if not text:
            continue
        size = max((ch["x1"] - ch["x0"] for ch in line["chars"]), default=10.0)
        out += text
        if k < len(lines) - 1:
            wrapped = line["x1"] >= right - WRAP_SLACK * size and not _HEADING_RE.match(lines[k + 1]["text"].strip())
            out += "" if wrapped else "\n"
    return out.strip()


def _column_lefts(boxes: list[list[Any]]) -> list[float]:
    width = max((len(row) for row in boxes), default=0)
    lefts = []
    for c in range(width):
        xs = [row[c][0] for row in boxes if c < len(row) and row[c] is not None]
        lefts.append(min(xs) if xs else float("inf"))
    return lefts


def _continues(grids: list[Grid], grid: Grid) -> bool:
    """Join a table that continues the previous page's: a row broken by the page break (its
    first cell, the 序号, empty on the new page) is appended to the row it belongs to. The
    rows then continue that grid (same width); True when `grid` was absorbed."""
    if not grids or grids[-1].width != grid.width:
        return False
    previous = grids[-1]
    first = grid.rows[0]
    if first and first[0] == "" and any(first[1:]) and previous.rows:
        last = previous.rows[-1]
        for c, text in enumerate(first):
            if text and c < len(last) and (grid.spans.isdisjoint({(0, c)})):
                last[c] = f"{last[c]}{text}" if last[c] else text
        grid.rows.pop(0)
        grid.spans = {(r - 1, c) for r, c in grid.spans if r > 0}
    offset = len(previous.rows)
    previous.rows.extend(grid.rows)
    previous.spans |= {(r + offset, c) for r, c in grid.spans}
    return True
