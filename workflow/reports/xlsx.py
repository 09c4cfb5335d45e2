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
from typing import IO, Any, Iterable, Sequence

import xlsxwriter
from xlsxwriter.theme import THEME_XML_2007

from workflow.ledger import Ledger, LedgerRow
from workflow.reports import atomic_path, is_stream
from workflow.reports.tabular import (
    DATE, DEPARTMENT_TOTAL_COLUMNS, DETAIL_COLUMNS, INT, LIGHT, LIGHT_FILL, LIGHT_INK, PERCENT,
    STATE_TOTAL_COLUMNS, TOTAL_LABEL, Column, as_of_line, department_totals, detail_rows,
    display, state_totals,
)

MAX_CELL = 32767  # Excel's limit on the characters of one cell
MAX_WIDTH = 60
MAX_HEADER = 200  # characters of the printed page header (Excel refuses > 255)
MAX_ROW_HEIGHT = 409  # points, Excel's limit
TRUNCATED = "…(内容过长，已截断)"
DATE_FORMAT = "yyyy-mm-dd"
PERCENT_FORMAT = "0.0%"
KIND_WIDTH = {DATE: 12, INT: 8, PERCENT: 10, LIGHT: 6}

FONT = "宋体"
GB2312 = 134  # the font charset Excel writes for a Simplified Chinese font
SCREEN_SIZE = 11
PRINT_SIZE = 10
# Height of one line of wrapped text, in points per point of font size: CJK fonts
# (宋体, and Noto Sans/Serif CJK that LibreOffice falls back to) need about 1.4.
LINE = 1.45

DETAIL_SHEET, PRINT_SHEET = "台账明细", "打印版"
HEADER_FILL = "#D9E1F2"
BORDER_COLOUR = "#808080"

# The printed sheet: (header of a detail column, width in characters). The widths add
# up to 139 characters of 宋体 11, which fits the 277 mm between 10 mm margins of A4
# landscape at 100 % in LibreOffice and Excel (fit-to-width stays on only as a guard).
PRINT_LAYOUT = (
    ("序号", 5), ("具体要求", 41), ("处室", 17), ("职责", 7.5), ("期次", 7.5), ("状态", 8),
    ("完成时限", 11), ("灯", 5), ("逾期天数", 7.5), ("最近报送内容", 29.5),
)
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
        "default_format_properties": {"font_name": FONT, "font_size": SCREEN_SIZE,
                                      "font_charset": GB2312},
    })
    wb.use_custom_theme(io.StringIO(east_asian_theme(FONT)))
    wb.set_properties({"title": ledger.title, "subject": as_of_line(ledger), "author": "duban 督办",
                       "comments": as_of_line(ledger)})
    styles = Styles(wb)
    rows = detail_rows(ledger, by)
    detail = wb.add_worksheet(DETAIL_SHEET)
    printed = wb.add_worksheet(PRINT_SHEET)
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


def fit_widths(columns: Sequence[Column], items: Iterable[Any]) -> list[float]:
    """Column widths from the longest value, full-width characters counting two, capped
    at MAX_WIDTH (longer text wraps). Fixed widths for dates, numbers and lights."""
    widths = [text_cols(c.header) for c in columns]
    for i, c in enumerate(columns):
        widths[i] = max(widths[i], KIND_WIDTH.get(c.kind, 0))
    measured = [(i, c.get) for i, c in enumerate(columns) if c.kind not in KIND_WIDTH]
    for item in items:
        for i, get in measured:
            if widths[i] < MAX_WIDTH:
                value = get(item)
                if value:
                    text = str(value)
                    w = max(map(text_cols, text.split("\n"))) if "\n" in text else text_cols(text)
                    if w > widths[i]:
                        widths[i] = w
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
    ws.set_header(f'&C&"{FONT},Regular"&B&12{title}', margin=0.3)
    ws.set_footer(f'&C&"{FONT},Regular"&9第 &P 页 共 &N 页', margin=0.25)


def write_rows(detail: Any, printed: Any, styles: Styles, rows: Sequence[LedgerRow], ledger: Ledger,
               by: str) -> None:
    """Both row sheets in one pass: each row's values are read once and written twice."""
    columns = DETAIL_COLUMNS
    widths = fit_widths(columns, rows)
    for i, w in enumerate(widths):
        detail.set_column(i, i, w)
    last = len(columns) - 1
    detail.freeze_panes(1, 0)
    detail.autofilter(0, 0, len(rows), last)
    setup_page(detail, ledger, len(rows), last, fit=False)

    index = {c.header: i for i, c in enumerate(columns)}
    layout = [(index[h], w) for h, w in PRINT_LAYOUT]
    for j, (_, w) in enumerate(layout):
        printed.set_column(j, j, w)
    printed.freeze_panes(1, 0)
    setup_page(printed, ledger, len(rows), len(layout) - 1, fit=True)

    header_fmt = styles.get(header=True)
    print_header_fmt = styles.get(header=True, printed=True)
    for i, c in enumerate(columns):
        detail.write_string(0, i, c.header, header_fmt)
    printed.set_row(0, row_height(max(line_count(columns[i].header, w, PRINT_SIZE) for i, w in layout), PRINT_SIZE))
    for j, (i, w) in enumerate(layout):
        printed.write_string(0, j, columns[i].header, print_header_fmt)

    kinds = [c.kind for c in columns]
    wide = [i for i, c in enumerate(columns) if c.wide]
    getters = [c.value for c in columns]
    grouped = {index[h] for h in TASK_GROUP} if by == "task" else {index["处室"]}
    group_key = (lambda r: r.task_seq) if by == "task" else (lambda r: r.department)
    print_wrap = {i for i, _ in layout if columns[i].wide or columns[i].kind not in (DATE, INT, LIGHT, PERCENT)}
    lines_cache: dict[tuple[str, float, float], int] = {}
    previous = object()

    def lines(text: str, width: float, size: float) -> int:
        key = (text, width, size)
        n = lines_cache.get(key)
        if n is None:
            n = lines_cache[key] = line_count(text, width, size)
            if len(lines_cache) > 50_000:
                lines_cache.clear()
        return n

    for r, row in enumerate(rows, 1):
        values = [get(row) for get in getters]
        light = values[LIGHT_COLUMN] or ""
        values[LIGHT_COLUMN] = display(light, LIGHT)
        for i in wide:
            v = values[i]
            if isinstance(v, str) and len(v) > MAX_CELL:
                values[i] = v[:MAX_CELL - len(TRUNCATED)] + TRUNCATED

        # 台账明细: every column; a row as tall as its longest wrapped text.
        n = max((lines(values[i], widths[i], SCREEN_SIZE) for i in wide if values[i]), default=1)
        if n > 1:
            detail.set_row(r, row_height(n, SCREEN_SIZE))
        for i, v in enumerate(values):
            write_cell(detail, styles, r, i, v, kinds[i], light if i == LIGHT_COLUMN else "",
                       wrap=i in wide, printed=False, bold=False)

        # 打印版: the reader's columns, bordered; a task's requirement once.
        key = group_key(row)
        first = key != previous
        closes = r == len(rows) or group_key(rows[r]) != key  # the task's last row
        previous = key
        n = 1
        for j, (i, w) in enumerate(layout):
            v = values[i]
            if i in grouped and not first:
                v = None
            elif v and i in print_wrap and isinstance(v, str):
                n = max(n, lines(v, w, PRINT_SIZE))
        printed.set_row(r, row_height(n, PRINT_SIZE))
        for j, (i, w) in enumerate(layout):
            v = None if (i in grouped and not first) else values[i]
            write_cell(printed, styles, r, j, v, kinds[i], light if i == LIGHT_COLUMN else "",
                       wrap=i in print_wrap, printed=True, bold=False,
                       top=first or i not in grouped, bottom=closes or i not in grouped)


LIGHT_COLUMN = next(i for i, c in enumerate(DETAIL_COLUMNS) if c.kind == LIGHT)


def write_cell(ws: Any, styles: Styles, r: int, c: int, value: Any, kind: str, light: str, *,
               wrap: bool, printed: bool, bold: bool, top: bool = True, bottom: bool = True) -> None:
    fmt = styles.get(kind, light=light, bold=bold, wrap=wrap, printed=printed, top=top, bottom=bottom)
    if value is None or value == "":
        if kind == PERCENT:
            ws.write_string(r, c, display(None, PERCENT), fmt)
        elif printed or light:
            ws.write_blank(r, c, None, fmt)
    elif isinstance(value, str):
        if "\r" in value:  # a cell's line break is LF; XlsxWriter would write CR as _x000D_
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        ws.write_string(r, c, value, fmt)  # "=1+1" stays the four characters the department wrote
    elif kind == DATE:
        ws.write_datetime(r, c, value, fmt)
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
            write_cell(ws, styles, r, i, c.value(item), c.kind, "", wrap=False, printed=True, bold=bold)
