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
from workflow.importers.hanzi import to_simplified
from workflow.importers.preamble import is_org_line, read_meta
from workflow.importers.layout import Column
from workflow.importers.table import RawRow
from workflow.plans.model import Plan

_DELIMITERS = ("|", "｜", "\t")
_MARKDOWN_RULE_RE = re.compile(r"^[|｜\s:：\-—–+]*[-—–]{3,}[|｜\s:：\-—–+]*$")
_FOOTER_RE = re.compile(
    r"^(?:扫一扫|【?打印|【?关闭|返回顶部|分享到|上一篇|下一篇|相关链接|相关文章|"
    r"主办单位|承办单位[:：]|版权所有|网站标识码|.*ICP备|网站地图|联系我们|技术支持[:：]|"
    r"[(（]此件主动公开[)）]|公开方式[:：]|抄送[:：])"
)
_ISSUER_LINE_RE = re.compile(r"(?:省|市|区|县|州|盟|旗).*(?:局|厅|委员会|委|政府|办公室)$")
_HTML_RE = re.compile(r"(?i)<(?:html|body|table|tr|td|div|p)\b[^>]*>")
UNALIGNED = "的单元格无法按列对齐，已全部放入具体要求，请核对"
_NUMBER = r"^\d+(?:\.\d+)?$"  # (patterns as strings are compiled on first use)
_NUMBERED_LINE = r"^\d{1,3}[.、．](?!\d)"  # '4.完善…': a task, not a continuation
_PAREN_ONLY_RE = re.compile(r"^[(（][^()（）]{1,8}[)）]$")


@dataclass
class _Header:
    start: int  # index of the first header line
    end: int  # index after the last header line
    columns: list[Column]
    delimiter: str | None  # None: one cell per line


def parse_text(text: str, year: int | None = None, name: str | None = None) -> Plan:
    """Parse a published notice (or a bare table) into a Plan. `name` is a fallback title.

    The document is read as a table under the header found by its words; when there is no
    such header, or the table reads badly (tasks without departments), it is also read as
    paragraphs with their responsibility parentheses and as a table without a header, and
    the reading that gives the most tasks with departments wins.
    """
    lines = clean_lines(text)
    header = find_header(lines)
    candidates: list[Plan] = []
    failure: BadInput | None = None
    if header is not None:
        try:
            plan = _table_plan(lines, header, year, name)
        except BadInput as exc:
            failure = exc
        else:
            if _fit(plan) >= len(plan.tasks):
                return plan  # every task has its departments: the usual case, nothing else to try
            candidates.append(plan)
    from workflow.importers.paragraphs import parse_paragraphs

    found = parse_paragraphs(lines)
    if found is not None:
        body, tail = _split_body(lines)
        meta = read_meta(lines[: found.start], tail)
        try:
            candidates.append(table.plan_from_paragraphs(meta, found, year=year, fallback_title=name))
        except BadInput as exc:
            failure = failure or exc
    if header is None:
        inferred = _headerless_table(lines, year, name)
        if inferred is not None:
            candidates.append(inferred)
    if candidates:
        return max(candidates, key=_fit)
    raise failure or BadInput(
        "没有找到分工表的表头，也没有写明责任单位的任务段落：表格应有“序号”“具体要求”“责任单位”"
        "“完成时限”等列名，或每项任务后写明“（牵头单位：…；责任单位：…）”。")


def _fit(plan: Plan) -> int:
    """How well a reading fits: its tasks that have departments."""
    return sum(1 for task in plan.tasks if task.responsibilities)


def _table_plan(lines: list[str], header: _Header, year: int | None, name: str | None) -> Plan:
    body, tail = _split_body(lines[header.end:])
    warnings: list[str] = []
    if header.delimiter:
        rows = _delimited_rows(body, header, warnings)
    else:
        rows = _line_rows(body, header, warnings)
    if not rows:
        raise BadInput("表格只有表头，没有任务行：请在表头下方至少填写一行任务。")
    meta = read_meta(lines[: header.start], tail)
    return table.build_plan(meta, header.columns, rows, year=year, fallback_title=name, warnings=warnings)


_INFERRED_COLUMNS = [Column("task", "工作任务", synthetic=True), Column("requirement", "具体要求", synthetic=True),
                     Column("resp", "责任单位", "implement", synthetic=True),
                     Column("deadline", "完成时限", synthetic=True)]


def _headerless_table(lines: list[str], year: int | None, name: str | None) -> Plan | None:
    """A table copied without its header (an excerpt from inside the page), cells written one
    per line with bars: columns read from the cells' shapes in the usual order (工作任务,
    具体要求, 责任单位, 完成时限). None unless rows with departments come out of it."""
    start = next((i for i, line in enumerate(lines) if line.endswith(("|", "｜"))), None)
    if start is None:
        return None
    body, tail = _split_body(lines[start:])
    cells = _bar_cells(body)
    if cells is body:
        return None
    header = _Header(start, start, list(_INFERRED_COLUMNS), None)
    warnings: list[str] = ["没有找到表头，已按单元格的内容推断各列（工作任务、具体要求、责任单位、完成时限），请核对"]
    rows = _line_rows(cells, header, warnings)
    with_departments = [r for r in rows if r.cells[_kind_at(header.columns, "resp")]]
    if len(with_departments) < 2:
        return None
    meta = read_meta(lines[:start], tail)
    try:
        plan = table.build_plan(meta, header.columns, rows, year=year, fallback_title=name, warnings=warnings)
    except BadInput:
        return None
    return plan


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
            found = _delimited_header(lines, index, delimiter)
            if found:
                return found
            continue
        found = _line_header(lines, index)
        if found:
            return found
    return None


def _delimited_header(lines: list[str], start: int, delimiter: str) -> _Header | None:
    """A delimited header row, or one split over two or three lines (a wrapped header cell)."""
    cells = [c for c in split_cells(lines[start], delimiter) if c]
    end = start + 1
    while True:
        columns = layout.header_columns(cells)
        if columns:
            levels = _level_cells(lines[end], delimiter) if end < len(lines) else None
            if levels:  # '一级 | 二级' under '政府信息公开类别及事项': that column is several
                at = next((i for i, c in enumerate(columns) if c.kind == "task" and not c.synthetic), None)
                if at is not None:
                    columns = [*columns[:at], *(layout.Column("task", t) for t in levels), *columns[at + 1:]]
                    return _Header(start, end + 1, columns, delimiter)
            return _Header(start, end, columns, delimiter)
        if end >= len(lines) or end - start >= 3 or not all(layout.column_of(c) for c in cells):
            return None
        more = [c for c in split_cells(lines[end], delimiter) if c] if delimiter in lines[end] else []
        if not more or not all(layout.column_of(c) for c in more):
            return None
        cells, end = cells + more, end + 1


def _line_header(lines: list[str], start: int) -> _Header | None:
    """Header cells one per line (or one line of space-separated names) from `start`."""
    words = lines[start].split()
    if len(words) >= 3 and all(layout.column_of(w) for w in words):
        columns = layout.header_columns(words, min_known=3)
        return _Header(start, start + 1, columns, None) if columns else None
    cells: list[str] = []
    end = start
    while end < len(lines):
        cell = strip_delimiters(lines[end])
        if cell and layout.column_of(cell):
            cells.append(cell)
        elif cells and _PAREN_ONLY_RE.match(cell):
            cells[-1] += cell  # '落实处室' / '(部门)' wrapped onto two lines
        elif cells and not cell:
            pass  # a line holding only '|' between two header cells
        elif cells and _unnamed_header_cell(cell, lines, end):
            cells.append(cell)  # '民生实事' between 序号 and 责任单位: a column of another name
        else:
            break
        end += 1
    if len(cells) < 3:
        return None
    columns = layout.header_columns(cells, min_known=3)
    return _Header(start, end, columns, None) if columns else None


_LEVEL = r"^[一二三四五六]级(?:指标|要点|类别|目录|事项)?$"


def _level_cells(line: str, delimiter: str) -> list[str] | None:
    """The cells of a sub-header line naming levels ('一级 | 二级'), else None."""
    cells = [c for c in split_cells(line, delimiter) if c]
    return cells if len(cells) >= 2 and all(re.match(_LEVEL, to_simplified(c)) for c in cells) else None


def _unnamed_header_cell(cell: str, lines: list[str], at: int) -> bool:
    """A short label between header words (its column's kind is found from the others)."""
    if len(cell) > 8 or any(ch.isdigit() or ch in ",，。;；:：、" for ch in cell):
        return False
    following = next((strip_delimiters(x) for x in lines[at + 1:at + 3] if strip_delimiters(x)), "")
    return bool(following) and layout.column_of(following) is not None


def strip_delimiters(line: str) -> str:
    """'工作任务 |' → '工作任务'; '|' → '' (a cell written on its own line between bars)."""
    return line.strip().strip("|｜").strip()


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
    header_columns_before = list(header.columns)
    named = [c.title for c in header.columns if not c.synthetic]
    header.columns = _with_unnamed_columns(body, header, header.columns)
    columns = header.columns = _with_delimited_seq_column(body, header)
    added = [c.title for c in columns if not c.synthetic and c not in header_columns_before]
    if added:
        warnings.append(f"表头只列出{'、'.join(named)}，各行还有{'、'.join(added)}列（按单元格内容推断），请核对")
    real = [c for c in columns if not c.synthetic]
    rows: list[tuple[RawRow, list[str]]] = []
    for line in body:
        if _MARKDOWN_RULE_RE.match(line) or not strip_delimiters(line):
            continue  # a rule under a markdown header, or a line holding only '|'
        if not _delimiter(line) and (header.delimiter or "|") not in line:
            _loose_line(line, rows, columns)
            continue
        cells = split_cells(line, header.delimiter or "|")
        if layout.header_columns(cells):
            continue  # the header repeated (a table continued on another page)
        rows.append((_delimited_row(cells, columns, real, len(rows) + 1, warnings), cells))
    full = len(real)
    return _drop_incomplete([r for r, _ in rows], [c if len(c) < full else [] for _, c in rows], columns, warnings)


def _with_unnamed_columns(body: list[str], header: _Header, columns: list[Column]) -> list[Column]:
    """Rows that mostly carry more cells than the header names (a damaged header, '具体要求 |
    责任科室' over '1 | 政策解读 | 做好…。 | 办公室'): the missing names are those of the cells in
    front — a 序号 when they start with a number, then 工作任务 levels."""
    from collections import Counter

    real = [c for c in columns if not c.synthetic]
    counts = Counter()
    firsts = []
    for line in body[:300]:
        cells = split_cells(line, header.delimiter or "|")
        while cells and not cells[-1]:
            cells = cells[:-1]
        if len(cells) > 1:
            counts[len(cells)] += 1
            firsts.append(cells[0])
    if not counts:
        return columns
    width, rows = counts.most_common(1)[0]
    extra = width - len(real)
    if extra <= 0 or rows * 2 < sum(counts.values()) or extra > 3:
        return columns
    front: list[Column] = []
    if not any(c.kind == "seq" for c in columns) and sum(bool(layout.SEQ_RE.match(f)) for f in firsts) * 2 > len(firsts):
        front.append(Column("seq", "序号"))
    front += [Column("task", "工作任务") for _ in range(extra - len(front))]
    return [*front, *(c for c in columns if not (c.synthetic and c.kind == "task"))]


def _with_delimited_seq_column(body: list[str], header: _Header) -> list[Column]:
    """Rows carrying a bare row number the header does not name ('… | 1 | text | …'):
    a 序号 column before the requirement's."""
    columns = header.columns
    if any(c.kind == "seq" for c in columns):
        return columns
    numbered = 0
    for line in body[:200]:
        cells = split_cells(line, header.delimiter or "|")
        if len(cells) > 1 and any(layout.SEQ_RE.match(c) for c in cells[:3]):
            numbered += 1
    if numbered < 2:
        return columns
    at = _kind_at(columns, "requirement")
    return [*columns[:at], Column("seq", "序号"), *columns[at:]]


def _delimited_row(cells: list[str], columns: list[Column], real: list[Column], ordinal: int,
                   warnings: list[str]) -> RawRow:
    """Cells in header order when the count matches; else placed by shape (merged cells).

    Trailing empty cells are dropped first: a row whose merged 工作任务 cell is missing
    often keeps the header's cell count by ending in an empty cell (`req | dept | |`).
    Leading heading cells beyond the header's count (a chapter and a section cell over a
    one-column 工作任务 heading) share the task cell.
    """
    while cells and not cells[-1]:
        cells = cells[:-1]
    while len(cells) > len(real) and len(cells) > 1 and layout.is_heading(cells[0]) and layout.is_heading(cells[1]):
        cells = [f"{cells[0]}\n{cells[1]}", *cells[2:]]
    if len(cells) > len(real):
        warnings.append(f"第 {ordinal} 个数据行的单元格多于表头，多出的内容已并入最后一列")
        cells = [*cells[: len(real) - 1], ",".join(c for c in cells[len(real) - 1:] if c)]
    if len(cells) == len(real):
        by_column = iter(cells)
        return RawRow([None if c.synthetic else next(by_column) for c in columns])
    placed = layout.align(cells, columns, multi=False)
    if placed is None:
        placed = [[] for _ in columns]
        placed[_kind_at(columns, "requirement")] = [c for c in cells if c]
        row = table.row_from_placed(placed)
        row.remarks.append(UNALIGNED)
        return row
    return table.row_from_placed(placed)


def _loose_line(line: str, rows: list[tuple[RawRow, list[str]]], columns: list[Column]) -> None:
    """A line without delimiters: a heading row, or the continuation of the last cell."""
    numbered = re.match(_NUMBERED_LINE, line)
    if layout.is_heading(line) or not rows or numbered:
        cells: list[str | None] = [None] * len(columns)
        cells[_kind_at(columns, "requirement" if numbered else "task")] = line
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
    """Rows of a one-cell-per-line table; a 序号 column the header lacks is added to it."""
    columns = header.columns
    header_cells = {c.title for c in columns}
    body = _bar_cells(body)
    body = [line for line in body if line not in header_cells]  # header repeated on page breaks
    columns = header.columns = _with_seq_column(body, columns)
    seq_at = next((i for i, c in enumerate(columns) if c.kind == "seq"), None)
    if seq_at is None:  # numbers that are not row numbers: scores, counts (23, 0.75)
        body = [line for line in body if not re.match(_NUMBER, line)]
    segments = _segments_by_seq(body, carry_titles=bool(seq_at)) if seq_at is not None else []
    if not segments:  # no 序号 column, or a page that dropped the numbers
        segments = _segments_by_shape(body, columns)
    rows, items = [], []
    for segment in segments:
        placed = layout.align(segment, columns, multi=True)
        unaligned = placed is None
        if placed is None:
            placed = [[] for _ in columns]
            placed[_kind_at(columns, "requirement")] = segment
        row = table.row_from_placed(placed)
        if unaligned:
            row.remarks.append(UNALIGNED)
        names = [len(p) for c, p in zip(columns, placed) if c.kind == "resp" and c.role in ("lead", "cooperate") and p]
        if len(names) == 2 and sum(names) >= 3:
            row.remarks.append("的牵头单位和配合单位各占一行，分界无法从文字确定，已按第一个牵头、其余配合推断，请核对")
        rows.append(row)
        items.append(segment)
    return _drop_incomplete(rows, items, columns, warnings)


def _bar_cells(body: list[str]) -> list[str]:
    """Cells written one per line with bars: lines holding only '|' between cells, or each
    cell line ending in '|'. A cell's lines join; an empty cell (a merged one) is dropped."""
    bars = sum(1 for line in body if line.endswith(("|", "｜")) or line.startswith(("|", "｜")))
    if bars < max(2, len(body) // 4):
        return body
    cells: list[str] = []
    current: list[str] = []
    for line in body:
        text = strip_delimiters(line)
        if text:
            current.append(text)
        if line.endswith(("|", "｜")) or not text:
            if current:
                cells.append("\n".join(current))
            current = []
    if current:
        cells.append("\n".join(current))
    return cells


def _with_seq_column(body: list[str], columns: list[Column]) -> list[Column]:
    """Rows numbered 1, 2, … under a header without a 序号 column (a damaged header): add
    one where the first number stands among the first row's cells."""
    if any(c.kind == "seq" for c in columns):
        return columns
    numbers = [i for i, line in enumerate(body) if layout.SEQ_RE.match(line)]
    if len(numbers) < 2:
        return columns
    values = [int(body[i].rstrip(".、．")) for i in numbers]
    if values[1] != values[0] + 1 or (values[0] != 1 and len(values) > 2 and values[2] != values[0] + 2):
        return columns
    requirement_at = _kind_at(columns, "requirement")
    at = min(numbers[0], requirement_at)
    return [*columns[:at], Column("seq", "序号", synthetic=True), *columns[at:]]


def _segments_by_seq(body: list[str], carry_titles: bool = False) -> list[list[str]]:
    """Split at bare row numbers (1, 2, …); heading lines just before a number open its row.

    With `carry_titles` (a column such as 工作任务 stands before the 序号), a short title
    after a finished row (its department or deadline cell) opens the next row too.
    """
    segments: list[list[str]] = []
    current: list[str] = []
    last = 0
    for line in body:
        number = _row_number(line, last)
        if number is None:
            current.append(line)
            continue
        if last:
            carried = _trailing_titles(current) if carry_titles else _trailing_headings(current)
            segments.append(current[: len(current) - len(carried)])
        elif carry_titles:
            carried = [x for x in current if layout.shape_of(x) in ("heading", "title")]
        else:
            carried = [x for x in current if layout.is_heading(x)]  # headings above row 1
        current, last = ([*carried, line] if carry_titles else [line, *carried]), number
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


def _only_a_numbered_title(items: list[str]) -> bool:
    """A row so far holding only headings and its numbered task line ('6.持续做好…。')."""
    rest = [x for x in items if not layout.is_heading(x)]
    return len(rest) == 1 and bool(re.match(_NUMBERED_LINE, rest[0]))


def _trailing_titles(lines: list[str]) -> list[str]:
    """The title/heading lines at the end of a row after its department or deadline cell."""
    count = 0
    while count < len(lines) - 1 and layout.shape_of(lines[len(lines) - 1 - count]) in ("heading", "title"):
        count += 1
    if count and layout.shape_of(lines[len(lines) - 1 - count]) in ("resp", "depts", "deadline"):
        return lines[len(lines) - count:]
    return _trailing_headings(lines)


def _segments_by_shape(body: list[str], columns: list[Column]) -> list[list[str]]:
    """Rows without numbers: a new row starts where a line cannot continue the current one.

    A heading after any non-heading line, a requirement-like line after the department
    line, or after a finished sentence (the row above had its department cell merged).
    """
    resp_at = min(i for i, c in enumerate(columns) if c.kind == "resp")
    deadline_at = next((i for i, c in enumerate(columns) if c.kind == "deadline"), -1)
    # after the department cell, short cells of the columns behind it (完成情况, 备注) stay in the row
    behind = sum(1 for c in columns[resp_at + 1:] if c.kind in ("other", "note"))
    segments: list[list[str]] = []
    current: list[str] = []
    seen_resp = False
    after_resp = 0
    for line in body:
        shape = layout.shape_of(line)
        trailing_cell = (shape == "title" and seen_resp and after_resp < behind
                         and not re.match(_NUMBERED_LINE, line))
        new_row = bool(current) and not trailing_cell and (
            (shape == "heading" and not all(layout.is_heading(x) for x in current))
            or (shape in ("plain", "title") and (seen_resp or (
                current[-1].endswith(layout.TERMINAL) and len(current[-1]) > layout.MAX_TITLE
                and not _only_a_numbered_title(current))))
            or (shape == "deadline" and seen_resp and 0 <= deadline_at < resp_at)
        )
        if new_row:
            segments.append(current)
            current, seen_resp, after_resp = [], False, 0
        current.append(line)
        after_resp += 1 if seen_resp else 0
        seen_resp = seen_resp or shape in ("resp", "depts", "cut_depts")
    if current:
        segments.append(current)
    return segments


# --------------------------------------------------------------------------- truncated pages


def _drop_incomplete(rows: list[RawRow], items: list[list[str]], columns: list[Column],
                     warnings: list[str]) -> list[RawRow]:
    """Drop the last row if the page stops in the middle of it."""
    while rows and _is_heading_only(rows[-1], columns):
        heading = next(c for c in rows[-1].cells if c)
        warnings.append(f"表格末尾的“{_short_text(heading)}”下没有任务行（页面可能不完整），已舍弃")
        rows, items = rows[:-1], items[:-1]  # a heading with no row under it
    deadline_at = next((i for i, c in enumerate(columns) if c.kind == "deadline"), None)
    dated = deadline_at is not None and sum(1 for r in rows[:-1] if r.cells[deadline_at]) * 2 >= len(rows) - 1 >= 2
    if not rows or _complete(rows[-1], items[-1], columns, dated):
        return rows
    seq_text = rows[-1].cells[_kind_at(columns, "seq")] if any(c.kind == "seq" for c in columns) else None
    number = seq_text.strip().rstrip(".、．") if seq_text else str(len(rows))
    warnings.append(f"第 {number} 行不完整，已舍弃")
    return rows[:-1]


def _short_text(text: str, limit: int = 20) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _is_heading_only(row: RawRow, columns: list[Column]) -> bool:
    texts = [line for c in row.cells if c for line in c.splitlines()]
    return bool(texts) and all(layout.is_heading(t) for t in texts)


def _complete(row: RawRow, items: list[str], columns: list[Column], dated: bool = False) -> bool:
    """Whether a row reads as finished. `items` is empty for a delimited row with every cell.

    When the rows above each have their own deadline (`dated`), a last row holding only
    its requirement (no department, no deadline) is a page cut before its department
    cell, not cells merged with the row above.
    """
    if not row.cells[_kind_at(columns, "requirement")]:
        return False
    others = [c for column, c in zip(columns, row.cells) if column.kind in ("resp", "deadline")]
    if dated and items and not any(others):
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
