"""The ledger as an Excel workbook: 台账明细, 打印版, 处室汇总, 状态汇总.

- 台账明细: every column, for filtering, sorting and summing on screen (frozen header,
  filter, fitted widths).
- 打印版: the columns a reader of the paper needs, laid out for A4 landscape: wrapped
  text with row heights computed here (LibreOffice and WPS do not grow a row to fit
  wrapped text in a file they open, Excel only sometimes), thin borders, the title and
  第 N 页 共 M 页 on every page, the header row repeated, a print area, and widths that
  fit the page at 100 % so the text prints at its own size (10 pt). In the task view a
  task's number and requirement are printed once, on the first of its rows: the
  requirement is the longest text and repeating it on every department's row tripled
  the page count.
- 处室汇总, 状态汇总: the totals.

Written with XlsxWriter in constant-memory mode: each row goes to a temporary file as
soon as the next one starts, so 100,000 rows cost about the memory of one. Measured in
bench/ledger.py against the same rows written bare by XlsxWriter.

Every cell is in 宋体 (charset 134, GB2312) and the workbook's theme names 宋体 as its
East-Asian font, so Excel, WPS and LibreOffice draw Chinese in a Chinese font rather
than a fallback picked per glyph.

Values are real: dates are date cells (yyyy-mm-dd), rates are numbers (0.0%), counts
are integers, so the office can sort, filter and sum. Text that looks like a formula
is stored as a string cell and never evaluated.
"""
from __future__ import annotations

import io
import math
import os
import shutil
import tempfile
from typing import IO, Any, Sequence

import xlsxwriter
from xlsxwriter.theme import THEME_XML_2007

from workflow.ledger.compute import Ledger, LedgerRow
from workflow.reports import atomic_path, is_stream
from workflow.reports.tabular import (
    DATE, DEPARTMENT_TOTAL_COLUMNS, DETAIL_COLUMNS, INT, LIGHT, LIGHT_FILL, LIGHT_INK, PERCENT,
    PRINT_LAYOUT, STATE_TOTAL_COLUMNS, TOTAL_LABEL, Column, as_of_line, department_totals,
    detail_rows, display, state_totals,
)

MAX_CELL = 32767  # Excel's limit on the characters of one cell
MAX_WIDTH = 60
MAX_HEADER = 200  # characters of the printed page header (Excel refuses > 255)
MAX_ROW_HEIGHT = 409  # points, Excel's limit
TRUNCATED = "…（内容过长，已截断）"
DATE_FORMAT = "yyyy-mm-dd"
PERCENT_FORMAT = "0.0%"
KIND_WIDTH = {DATE: 12, INT: 8, PERCENT: 10, LIGHT: 6}

FONT = "宋体"
GB2312 = 134  # the font charset Excel writes for a Simplified Chinese font
SCREEN_SIZE = 11
PRINT_SIZE = 11
# Height of one line of wrapped text, in points per point of font size: CJK fonts
# (宋体, and Noto Sans/Serif CJK that LibreOffice falls back to) need about 1.4.
LINE = 1.45

DETAIL_SHEET, PRINT_SHEET = "台账明细", "打印版"
HEADER_FILL = "#D9E1F2"
BORDER_COLOUR = "#808080"

# Rows of the printed sheet at most: 5,000 rows are about 200 pages. A bigger ledger is
# printed per department (`--dept`) or per quarter; the sheet says so in its last row.
PRINT_MAX_ROWS = 5000
# In the task view, the columns printed once per task (on its first row).
TASK_GROUP = ("序号", "具体要求")
MARGIN_IN = 10 / 25.4


def write_xlsx(ledger: Ledger, out: str | os.PathLike | IO[bytes], by: str = "task") -> None:
    """Write the four sheets to a path (atomically) or a binary stream."""
    if is_stream(out):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "ledger.xlsx")
            build_workbook(ledger, path, by)
            with open(path, "rb") as fh:
                shutil.copyfileobj(fh, out)  # type: ignore[arg-type]
        return
    with atomic_path(out) as part:
        build_workbook(ledger, str(part), by)


def build_workbook(ledger: Ledger, path: str, by: str) -> None:
    wb = xlsxwriter.Workbook(path, {
        "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
        "strings_to_urls": False,
        # Top-aligned by default, so plain cells need no format of their own (a cell
        # format costs XlsxWriter a style attribute per cell).
        "default_format_properties": {"font_name": FONT, "font_size": SCREEN_SIZE,
                                      "font_charset": GB2312, "valign": "top"},
    })
    wb.use_custom_theme(io.StringIO(east_asian_theme(FONT)))
    wb.set_properties({"title": ledger.title, "subject": as_of_line(ledger), "author": "duban 督办",
                       "comments": as_of_line(ledger)})
    styles = Styles(wb)
    rows = detail_rows(ledger, by)
    detail = wb.add_worksheet(DETAIL_SHEET)
    printed = wb.add_worksheet(PRINT_SHEET)
    printed.activate()  # the workbook opens on the page that prints (Ctrl+P prints it)
    write_rows(detail, printed, styles, rows, ledger, by)
    for name, columns, items in (
        ("处室汇总", DEPARTMENT_TOTAL_COLUMNS, department_totals(ledger)),
        ("状态汇总", STATE_TOTAL_COLUMNS, state_totals(ledger)),
    ):
        totals_sheet(wb.add_worksheet(name), styles, columns, items, ledger)
    wb.close()


def east_asian_theme(font: str) -> str:
    """Excel's 2007 Office theme with `font` as the East-Asian (ea) and Simplified
    Chinese (Hans) typeface of both its heading and body fonts."""
    return (THEME_XML_2007.replace('<a:ea typeface=""/>', f'<a:ea typeface="{font}"/>')
            .replace('<a:font script="Hans" typeface="宋体"/>', f'<a:font script="Hans" typeface="{font}"/>'))


# --------------------------------------------------------------------------- styles

class Styles:
    """The workbook's cell formats, made once and looked up by what the cell shows."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self.wb = wb
        self._cache: dict[tuple, Any] = {}

    def get(self, kind: str = "", *, light: str = "", bold: bool = False, wrap: bool = False,
            printed: bool = False, header: bool = False, top: bool = True, bottom: bool = True) -> Any:
        key = (kind, light, bold, wrap, printed, header, top, bottom)
        fmt = self._cache.get(key)
        if fmt is None:
            fmt = self._cache[key] = self.wb.add_format(self._props(*key))
        return fmt

    @staticmethod
    def _props(kind: str, light: str, bold: bool, wrap: bool, printed: bool, header: bool,
               top: bool, bottom: bool) -> dict[str, Any]:
        props: dict[str, Any] = {"font_name": FONT, "font_charset": GB2312,
                                 "font_size": PRINT_SIZE if printed else SCREEN_SIZE,
                                 "valign": "top"}
        if header:
            props.update(bold=True, bg_color=HEADER_FILL, align="center", valign="vcenter",
                         text_wrap=True, bottom=1, bottom_color=BORDER_COLOUR)
        if kind == DATE:
            props["num_format"] = DATE_FORMAT
        elif kind == PERCENT:
            props["num_format"] = PERCENT_FORMAT
        if kind in (LIGHT, DATE) or (kind == PERCENT and not header):
            props["align"] = "center"
        if light:
            props.update(bg_color="#" + LIGHT_FILL[light], font_color="#" + LIGHT_INK[light], bold=True)
        if bold:
            props["bold"] = True
        if wrap:
            props["text_wrap"] = True
        if printed:
            props.update(border=1, border_color=BORDER_COLOUR)
            # A task's number and requirement read as one cell over the task's rows.
            if not top:
                props["top"] = 0
            if not bottom:
                props["bottom"] = 0
        return props


# --------------------------------------------------------------------------- widths

def text_cols(text: str) -> int:
    """Display width in columns, full-width characters counting two: exact for ASCII and
    for the three-byte UTF-8 of CJK, found without a Python loop per character."""
    n = len(text)
    return n + (len(text.encode("utf-8", "surrogatepass")) - n) // 2


def line_count(text: str, width: float, size: float = SCREEN_SIZE) -> int:
    """Lines that `text` in a `size` pt font takes when wrapped in a column `width`
    characters of the 11 pt default font wide. A 宋体 character is as wide as two
    digits at the same size (Excel's width unit is a digit); LibreOffice, measuring in
    its fallback font, finds the text a little narrower, so the rows never clip."""
    usable = max(width - 1.5, 1.0) * SCREEN_SIZE / size  # the cell's padding, a break that falls early
    if "\n" not in text:
        return max(1, math.ceil(text_cols(text) / usable))
    return sum(max(1, math.ceil(text_cols(part) / usable)) for part in text.split("\n"))


def row_height(lines: int, size: float) -> float:
    return min(MAX_ROW_HEIGHT, round(lines * size * LINE + 3, 1))


def fit_widths(columns: Sequence[Column], items: Sequence[Any]) -> list[float]:
    """Column widths from the longest value, full-width characters counting two, capped
    at MAX_WIDTH (longer text wraps). Fixed widths for dates, numbers and lights."""
    widths = [text_cols(c.header) for c in columns]
    for i, c in enumerate(columns):
        widths[i] = max(widths[i], KIND_WIDTH.get(c.kind, 0))
    for i, c in enumerate(columns):
        if c.kind in KIND_WIDTH:
            continue
        for value in set(map(c.get, items)):  # each distinct text once
            if value:
                text = str(value)
                w = max(map(text_cols, text.split("\n"))) if "\n" in text else text_cols(text)
                if w > widths[i]:
                    widths[i] = w
                    if w >= MAX_WIDTH:
                        break
    return [min(w, MAX_WIDTH) + 2 for w in widths]


# --------------------------------------------------------------------------- detail and print

def setup_page(ws: Any, ledger: Ledger, last_row: int, last_col: int, *, fit: bool) -> None:
    """A4 landscape, header row repeated, the title and the as-of day on top of every
    page, 第 N 页 共 M 页 at the bottom."""
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=MARGIN_IN, right=MARGIN_IN, top=0.75, bottom=0.6)
    ws.repeat_rows(0)
    ws.print_area(0, 0, max(last_row, 1), last_col)
    if fit:
        ws.fit_to_pages(1, 0)
    title = f"{ledger.title}  {as_of_line(ledger)}"[:MAX_HEADER].replace("&", "&&")
    ws.set_header(f'&C&"{FONT},Regular"&12&B{title}', margin=0.3)  # &B ends the size: a title may start with digits
    ws.set_footer(f'&C&"{FONT},Regular"&9第 &P 页 共 &N 页', margin=0.25)  # ascii-punct: the font spec's comma
    ws.set_start_page(1)  # each sheet counts its own pages (LibreOffice would go on from the last sheet)


def write_rows(detail: Any, printed: Any, styles: Styles, rows: Sequence[LedgerRow], ledger: Ledger,
               by: str) -> None:
    """Both row sheets in one pass: each row's values are read once and written twice.

    This loop is most of the time of a big ledger, so everything that does not change
    from row to row (formats, which method writes a column, widths) is decided before
    it, and empty cells of the printed sheet are not written at all: their borders come
    from the column's format."""
    columns = DETAIL_COLUMNS
    last_row = len(rows)
    widths = fit_widths(columns, rows)
    for i, w in enumerate(widths):
        detail.set_column(i, i, w)
    detail.freeze_panes(1, 0)
    detail.autofilter(0, 0, last_row, len(columns) - 1)
    setup_page(detail, ledger, last_row, len(columns) - 1, fit=False)

    index = {c.header: i for i, c in enumerate(columns)}
    layout = [(index[h], w) for h, w in PRINT_LAYOUT]
    grouped = {index[h] for h in TASK_GROUP} if by == "task" else {index["处室"]}
    group_key = (lambda r: r.task_seq) if by == "task" else (lambda r: r.department)
    wide = [i for i, c in enumerate(columns) if c.wide]
    print_wrap = {i for i, _ in layout if columns[i].kind == "text"}

    # What an empty cell of the printed sheet shows: the column's own borders (only the
    # sides for a task's number and requirement, so its rows read as one cell).
    for j, (i, w) in enumerate(layout):
        printed.set_column(j, j, w, styles.get(columns[i].kind, printed=True, wrap=i in print_wrap,
                                                top=i not in grouped, bottom=i not in grouped))
    printed.freeze_panes(1, 0)
    print_rows = min(last_row, PRINT_MAX_ROWS)
    setup_page(printed, ledger, print_rows + (last_row > print_rows), len(layout) - 1, fit=True)

    header_fmt = styles.get(header=True)
    for i, c in enumerate(columns):
        detail.write_string(0, i, c.header, header_fmt)
    printed.set_row(0, row_height(max(line_count(columns[i].header, w, PRINT_SIZE) for i, w in layout),
                                  PRINT_SIZE))
    print_header_fmt = styles.get(header=True, printed=True)
    for j, (i, _) in enumerate(layout):
        printed.write_string(0, j, columns[i].header, print_header_fmt)

    getters = [c.value for c in columns]
    lights = {k: display(k, LIGHT) for k in ("red", "yellow", "green", "")}
    # (column, format, writer) per sheet and kind of value
    d_fmt = [styles.get(c.kind, wrap=True) if i in wide else
             None if c.kind in ("text", INT) else styles.get(c.kind) for i, c in enumerate(columns)]
    d_light = {k: styles.get(LIGHT, light=k) for k in lights}
    p_fmt = {i: styles.get(columns[i].kind, printed=True, wrap=i in print_wrap) for i, _ in layout}
    p_light = {k: styles.get(LIGHT, light=k, printed=True) for k in lights}
    p_bottom = {i: styles.get(columns[i].kind, printed=True, wrap=i in print_wrap, top=False)
                for i in grouped}
    write = {"str": (detail.write_string, printed.write_string),
             "num": (detail.write_number, printed.write_number),
             "date": (detail.write_datetime, printed.write_datetime)}
    how = {DATE: "date", INT: "num", PERCENT: "num"}
    d_plan = [(i, write[how.get(c.kind, "str")][0], d_fmt[i]) for i, c in enumerate(columns)
              if c.kind != LIGHT]
    p_plan = [(j, i, write[how.get(columns[i].kind, "str")][1], p_fmt[i], i in grouped)
              for j, (i, _) in enumerate(layout) if columns[i].kind != LIGHT]
    p_light_col = next(j for j, (i, _) in enumerate(layout) if i == LIGHT_COLUMN)
    d_lines = [(i, widths[i], {}) for i in wide]
    p_lines = [(i, w, {}) for i, w in layout if i in print_wrap]
    d_set_row, p_set_row = detail.set_row, printed.set_row
    d_write_light, p_write_light = detail.write_string, printed.write_string
    previous: Any = object()

    for r, row in enumerate(rows, 1):
        values = [get(row) for get in getters]
        for i in wide:
            v = values[i]
            if v and ("\r" in v or len(v) > MAX_CELL):
                values[i] = fit_cell(v)
        light = values[LIGHT_COLUMN] or ""

        # 台账明细: every column; a row as tall as its longest wrapped text.
        n = 1
        for i, width, cache in d_lines:
            v = values[i]
            if v:
                k = cache.get(v)
                if k is None:
                    k = cache[v] = line_count(v, width, SCREEN_SIZE)
                if k > n:
                    n = k
        if n > 1:
            d_set_row(r, row_height(n, SCREEN_SIZE))
        for i, method, fmt in d_plan:
            v = values[i]
            if v is not None and v != "":
                method(r, i, v, fmt)
        d_write_light(r, LIGHT_COLUMN, lights[light], d_light[light])

        # 打印版: the reader's columns; a task's number and requirement on its first row.
        if r > print_rows:
            if r == print_rows + 1:
                printed.write_string(r, 0, PRINT_CUT.format(shown=print_rows, total=last_row))
            continue
        key = group_key(row)
        first = key != previous
        previous = key
        n = 1
        for i, width, cache in p_lines:
            v = values[i]
            if v and (first or i not in grouped):
                k = cache.get(v)
                if k is None:
                    k = cache[v] = line_count(v, width, PRINT_SIZE)
                if k > n:
                    n = k
        p_set_row(r, row_height(n, PRINT_SIZE))
        for j, i, method, fmt, in_group in p_plan:
            v = values[i]
            if in_group and not first:
                if r == print_rows:  # close the last task's cell at the bottom of the table
                    printed.write_blank(r, j, None, p_bottom[i])
            elif v is not None and v != "":
                method(r, j, v, fmt)
        p_write_light(r, p_light_col, lights[light], p_light[light])


LIGHT_COLUMN = next(i for i, c in enumerate(DETAIL_COLUMNS) if c.kind == LIGHT)
PRINT_CUT = ("打印版只列出前 {shown} 行（共 {total} 行），全部事项见“台账明细”；"
             "如需打印全部，请按处室（--dept）或按季度（--quarter）分别导出。")


def fit_cell(text: str) -> str:
    """A line break in a cell is LF (XlsxWriter would write CR as _x000D_), and a cell
    holds at most Excel's 32,767 characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if len(text) > MAX_CELL:
        text = text[:MAX_CELL - len(TRUNCATED)] + TRUNCATED
    return text


def write_cell(ws: Any, styles: Styles, r: int, c: int, value: Any, kind: str, *, bold: bool) -> None:
    """One cell of a totals sheet."""
    fmt = styles.get(kind, bold=bold, printed=True)
    if value is None or value == "":
        if kind == PERCENT:
            ws.write_string(r, c, display(None, PERCENT), fmt)
        else:
            ws.write_blank(r, c, None, fmt)
    elif isinstance(value, str):
        ws.write_string(r, c, value, fmt)
    else:
        ws.write_number(r, c, value, fmt)


def totals_sheet(ws: Any, styles: Styles, columns: Sequence[Column], items: Sequence[Any],
                 ledger: Ledger) -> None:
    """A totals sheet: bold frozen header with a filter, one row per item, 合计 in bold."""
    for i, w in enumerate(fit_widths(columns, items)):
        ws.set_column(i, i, w)
    last = len(columns) - 1
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, len(items), last)
    setup_page(ws, ledger, len(items), last, fit=True)
    header_fmt = styles.get(header=True, printed=True)
    for i, c in enumerate(columns):
        ws.write_string(0, i, c.header, header_fmt)
    for r, item in enumerate(items, 1):
        bold = getattr(item, "name", None) == TOTAL_LABEL
        for i, c in enumerate(columns):
            write_cell(ws, styles, r, i, c.value(item), c.kind, bold=bold)
