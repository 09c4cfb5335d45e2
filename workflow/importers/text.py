"""The text importer: a notice as published on the web, its table flattened to lines.

Three line layouts occur, all with the header found by its words:

- one cell per line (the seed): rows start at a bare row number; without a 序号 column,
  at the line whose shape cannot continue the current row;
- delimited rows (`|`, `｜`, tab, markdown tables): one row per line;
- either of them with the page's chrome around it (navigation above, 打印/关闭 below);
  a saved HTML page is first reduced to its text, one table cell per line.

Merged cells are simply missing from a flattened row, so each row's lines are assigned
to columns by shape, in column order (`layout.align`), and `table.build_plan` does the rest.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from workflow.errors import BadInput
from workflow.importers import layout, table
from workflow.importers.deadlines import parse_date_line
from workflow.importers.preamble import is_org_line, read_meta
from workflow.importers.layout import Column
from workflow.importers.table import RawRow
from workflow.plans.model import Plan

_DELIMITERS = ("|", "｜", "\t")
_MARKDOWN_RULE_RE = re.compile(r"^[|｜\s:：\-—–+]*[-—–]{3,}[|｜\s:：\-—–+]*$")
_FOOTER_RE = re.compile(
    r"^(?:扫一扫|【?打印|【?关闭|返回顶部|分享到|上一篇|下一篇|相关链接|相关文章|"
    r"主办单位|承办单位[::]|版权所有|网站标识码|.*ICP备|网站地图|联系我们|技术支持[::]|"
    r"[(（]此件主动公开[)）]|公开方式[::]|抄送[::])"
)
_ISSUER_LINE_RE = re.compile(r"(?:省|市|区|县|州|盟|旗).*(?:局|厅|委员会|委|政府|办公室)$")
_HTML_RE = re.compile(r"(?i)<(?:html|body|table|tr|td|div|p)\b[^>]*>")
_PAREN_ONLY_RE = re.compile(r"^[(（][^()（）]{1,8}[)）]$")


@dataclass
class _Header:
    start: int  # index of the first header line
    end: int  # index after the last header line
    columns: list[Column]
    delimiter: str | None  # None: one cell per line


def parse_text(text: str, year: int | None = None, name: str | None = None) -> Plan:
    """Parse a published notice (or a bare table) into a Plan. `name` is a fallback title."""
    lines = clean_lines(text)
    header = find_header(lines)
    if header is None:
        raise BadInput("没有找到分工表的表头:表格应有“序号”“工作任务/具体要求”“落实处室/责任单位”“完成时限”等列名。")
    body, tail = _split_body(lines[header.end:])
    warnings: list[str] = []
    if header.delimiter:
        rows = _delimited_rows(body, header, warnings)
    else:
        rows = _line_rows(body, header, warnings)
    if not rows:
        raise BadInput("表格只有表头,没有任务行:请在表头下方至少填写一行任务。")
    meta = read_meta(lines[: header.start], tail)
    return table.build_plan(meta, header.columns, rows, year=year, fallback_title=name, warnings=warnings)


def clean_lines(text: str) -> list[str]:
    """Non-empty lines, stripped of page whitespace (ideographic spaces, nbsp, zero-width)."""
    if _HTML_RE.search(text):
        text = html_to_text(text)
    text = text.replace("\u3000", " ").replace("\xa0", " ").replace("\u200b", "").replace("\ufeff", "")
    return [line.strip() for line in text.splitlines() if line.strip()]


def html_to_text(page: str) -> str:
    """A saved web page → its text with one table cell per line, as a browser copy gives it."""
    import html

    page = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>|<!--.*?-->", "", page)
    page = re.sub(r"(?i)<br\s*/?>|</(?:td|th|tr|p|div|li|h\d|table|caption)\s*>", "\n", page)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


# --------------------------------------------------------------------------- header


def find_header(lines: list[str]) -> _Header | None:
    """The first header: a delimited line of column names, or a run of them one per line."""
    for index, line in enumerate(lines):
        delimiter = _delimiter(line)
        if delimiter:
            columns = layout.header_columns(split_cells(line, delimiter))
            if columns:
                return _Header(index, index + 1, columns, delimiter)
            continue
        found = _line_header(lines, index)
        if found:
            return found
    return None


def _line_header(lines: list[str], start: int) -> _Header | None:
    """Header cells one per line (or one line of space-separated names) from `start`."""
    words = lines[start].split()
    if len(words) >= 3 and all(layout.column_of(w) for w in words):
        columns = layout.header_columns(words, min_known=3)
        return _Header(start, start + 1, columns, None) if columns else None
    cells: list[str] = []
    end = start
    while end < len(lines):
        if layout.column_of(lines[end]):
            cells.append(lines[end])
        elif cells and _PAREN_ONLY_RE.match(lines[end]):
            cells[-1] += lines[end]  # '落实处室' / '(部门)' wrapped onto two lines
        else:
            break
        end += 1
    if len(cells) < 3:
        return None
    columns = layout.header_columns(cells, min_known=3)
    return _Header(start, end, columns, None) if columns else None


def _delimiter(line: str) -> str | None:
    return next((d for d in _DELIMITERS if line.count(d) >= 1 and len(split_cells(line, d)) >= 2), None)


def split_cells(line: str, delimiter: str) -> list[str]:
    """'| a | b |' → ['a', 'b']: outer pipes of markdown rows do not make empty cells."""
    cells = [c.strip() for c in line.split(delimiter)]
    if delimiter != "\t" and len(cells) > 1:
        if line.lstrip().startswith(delimiter):
            cells = cells[1:]
        if line.rstrip().endswith(delimiter):
            cells = cells[:-1]
    return cells


def _split_body(lines: list[str]) -> tuple[list[str], list[str]]:
    """Cut the page footer off the table, and a signature (issuer + date) right after it."""
    end = next((i for i, line in enumerate(lines) if _FOOTER_RE.match(line)), len(lines))
    body = lines[:end]
    if len(body) >= 2 and parse_date_line(body[-1]) and _ISSUER_LINE_RE.search(body[-2]) and is_org_line(body[-2]):
        return body[:-2], body[-2:]
    return body, []


# --------------------------------------------------------------------------- delimited rows


def _delimited_rows(body: list[str], header: _Header, warnings: list[str]) -> list[RawRow]:
    columns = header.columns
    real = [c for c in columns if not c.synthetic]
    rows: list[tuple[RawRow, list[str]]] = []
    for line in body:
        if _MARKDOWN_RULE_RE.match(line):
            continue
        if not _delimiter(line):
            _loose_line(line, rows, columns)
            continue
        cells = split_cells(line, header.delimiter or "|")
        if layout.header_columns(cells):
            continue  # the header repeated (a table continued on another page)
        rows.append((_delimited_row(cells, columns, real, len(rows) + 1, warnings), cells))
    full = len(real)
    return _drop_incomplete([r for r, _ in rows], [c if len(c) < full else [] for _, c in rows], columns, warnings)


def _delimited_row(cells: list[str], columns: list[Column], real: list[Column], ordinal: int,
                   warnings: list[str]) -> RawRow:
    """Cells in header order when the count matches; else placed by shape (merged cells)."""
    while len(cells) > len(real) and not cells[-1]:
        cells = cells[:-1]
    if len(cells) > len(real):
        warnings.append(f"第 {ordinal} 个数据行的单元格多于表头,多出的内容已并入最后一列")
        cells = [*cells[: len(real) - 1], ",".join(c for c in cells[len(real) - 1:] if c)]
    if len(cells) == len(real):
        by_column = iter(cells)
        return RawRow([None if c.synthetic else next(by_column) for c in columns])
    placed = layout.align(cells, columns, multi=False)
    if placed is None:
        placed = [[] for _ in columns]
        placed[_kind_at(columns, "requirement")] = [c for c in cells if c]
    return table.row_from_placed(placed)


def _loose_line(line: str, rows: list[tuple[RawRow, list[str]]], columns: list[Column]) -> None:
    """A line without delimiters: a heading row, or the continuation of the last cell."""
    if layout.is_heading(line) or not rows:
        cells: list[str | None] = [None] * len(columns)
        cells[_kind_at(columns, "task")] = line
        rows.append((RawRow(cells), [line]))
        return
    row = rows[-1][0]
    last = max(i for i, c in enumerate(row.cells) if c is not None) if any(row.cells) else 0
    row.cells[last] = f"{row.cells[last] or ''}\n{line}".strip()
    rows[-1][1].append(line)


def _kind_at(columns: list[Column], kind: str) -> int:
    return next(i for i, c in enumerate(columns) if c.kind == kind)


# --------------------------------------------------------------------------- one cell per line


def _line_rows(body: list[str], header: _Header, warnings: list[str]) -> list[RawRow]:
    columns = header.columns
    header_cells = {c.title for c in columns}
    body = [line for line in body if line not in header_cells]  # header repeated on page breaks
    segments = _segments_by_seq(body) if any(c.kind == "seq" for c in columns) else []
    if not segments:  # no 序号 column, or a page that dropped the numbers
        segments = _segments_by_shape(body, columns)
    rows, items = [], []
    for segment in segments:
        placed = layout.align(segment, columns, multi=True)
        if placed is None:
            placed = [[] for _ in columns]
            placed[_kind_at(columns, "requirement")] = segment
        rows.append(table.row_from_placed(placed))
        items.append(segment)
    return _drop_incomplete(rows, items, columns, warnings)


def _segments_by_seq(body: list[str]) -> list[list[str]]:
    """Split at bare row numbers (1, 2, …); heading lines just before a number open its row."""
    segments: list[list[str]] = []
    current: list[str] = []
    last = 0
    for line in body:
        number = _row_number(line, last)
        if number is None:
            current.append(line)
            continue
        if last:
            carried = _trailing_headings(current)
            segments.append(current[: len(current) - len(carried)])
        else:
            carried = [x for x in current if layout.is_heading(x)]  # headings above row 1
        current, last = [line, *carried], number
    if last:
        segments.append(current)
    return [s for s in segments if s]


def _row_number(line: str, last: int) -> int | None:
    """The row number a bare-number line starts, if it plausibly follows `last`."""
    if not layout.SEQ_RE.match(line):
        return None
    number = int(line.rstrip(".、．"))
    return number if last < number <= last + 50 else None


def _trailing_headings(lines: list[str]) -> list[str]:
    count = 0
    while count < len(lines) and layout.is_heading(lines[len(lines) - 1 - count]):
        count += 1
    return lines[len(lines) - count:] if count else []


def _segments_by_shape(body: list[str], columns: list[Column]) -> list[list[str]]:
    """Rows without numbers: a new row starts where a line cannot continue the current one.

    A heading after any non-heading line, a requirement-like line after the department
    line, or after a finished sentence (the row above had its department cell merged).
    """
    resp_at = min(i for i, c in enumerate(columns) if c.kind == "resp")
    deadline_at = next((i for i, c in enumerate(columns) if c.kind == "deadline"), -1)
    segments: list[list[str]] = []
    current: list[str] = []
    seen_resp = False
    for line in body:
        shape = layout.shape_of(line)
        new_row = bool(current) and (
            (shape == "heading" and not all(layout.is_heading(x) for x in current))
            or (shape in ("plain", "title") and (seen_resp or current[-1].endswith(layout.TERMINAL)))
            or (shape == "deadline" and seen_resp and deadline_at < resp_at)
        )
        if new_row:
            segments.append(current)
            current, seen_resp = [], False
        current.append(line)
        seen_resp = seen_resp or shape in ("resp", "depts")
    if current:
        segments.append(current)
    return segments


# --------------------------------------------------------------------------- truncated pages


def _drop_incomplete(rows: list[RawRow], items: list[list[str]], columns: list[Column],
                     warnings: list[str]) -> list[RawRow]:
    """Drop the last row if the page stops in the middle of it."""
    while rows and _is_heading_only(rows[-1], columns):
        rows, items = rows[:-1], items[:-1]  # a heading with no row under it
    if not rows or _complete(rows[-1], items[-1], columns):
        return rows
    seq_text = rows[-1].cells[_kind_at(columns, "seq")] if any(c.kind == "seq" for c in columns) else None
    number = seq_text.strip().rstrip(".、．") if seq_text else str(len(rows))
    warnings.append(f"第 {number} 行不完整,已舍弃")
    return rows[:-1]


def _is_heading_only(row: RawRow, columns: list[Column]) -> bool:
    texts = [line for c in row.cells if c for line in c.splitlines()]
    return bool(texts) and all(layout.is_heading(t) for t in texts)


def _complete(row: RawRow, items: list[str], columns: list[Column]) -> bool:
    """Whether a row reads as finished. `items` is empty for a delimited row with every cell."""
    if not row.cells[_kind_at(columns, "requirement")]:
        return False
    texts = [item.strip() for item in items if item.strip()]
    if not texts:
        return True
    last = texts[-1]
    if last.endswith(layout.TERMINAL):
        return True
    shape = layout.shape_of(last)
    if shape == "resp":
        return not _resp_note(last)
    return shape in ("depts", "deadline", "seq")


def _resp_note(text: str) -> str | None:
    from workflow.importers.grammar import parse_cell

    return parse_cell(text).note
