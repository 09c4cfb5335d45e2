"""The ledger as tables: one column model shared by every file format.

Headers, value getters and the kind of each value are declared once here, so csv,
markdown, xlsx and html cannot drift apart (a renamed header or a new column shows
up in all of them). Getters return plain Python values (dates stay dates, rates stay
floats); each format decides how to spell them: xlsx wants real dates and numbers,
csv and markdown want text.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import states
from workflow.ledger.compute import LIGHT_LABELS, DelayRecord, Ledger, LedgerRow, Totals
from workflow.ledger.lights import LATE_HEADER, ORDER as LIGHT_ORDER


class _StateColours(dict):
    def __missing__(self, name: str) -> str:
        return states.state_colour(name)

VIEWS = ("task", "department")

TEXT, DATE, INT, PERCENT, LIGHT = "text", "date", "int", "percent", "light"

# Order of urgency for the department view: red, yellow, green, then closed ("").
LIGHT_RANK = LIGHT_ORDER  # workflow/ledger/lights.py

# Fill and text colours of the lights: declared once in states/ (the mails use them too).
LIGHT_FILL, LIGHT_INK = states.LIGHT_FILL, states.LIGHT_INK

# Chart colours per state: "done" is the green of the lights and "cancelled" the grey of
# closed rows; open states are blues and purples so they never read as a red or yellow light.
# (declared per State in states/machine.py; a state missing here reads grey, never a KeyError)
STATE_COLOURS = _StateColours({s.name: s.colour for s in states.STATES})
OVERDUE_COLOUR = "#" + LIGHT_INK["red"]

# Characters XML 1.0 (hence xlsx and html) cannot carry: C0 controls except \t \n \r.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# A cell starting with one of these is a formula to Excel (csv and xlsx alike).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NONE_RATE = "—"


@dataclass(frozen=True)
class Column:
    """One column of a table: what the reader sees on top, and how to get the value."""

    header: str
    get: Callable[[Any], Any]
    kind: str = TEXT
    wide: bool = False  # long free text: wrapped in xlsx, given room in html

    def value(self, item: Any) -> Any:
        """The raw value (text cleaned of control characters)."""
        value = self.get(item)
        return clean(value) if isinstance(value, str) else value

    def text(self, item: Any) -> str:
        """The value as a reader sees it in a text format (csv, markdown, html)."""
        return display(self.value(item), self.kind)


def clean(text: str) -> str:
    """Drop control characters a spreadsheet or browser would choke on (\\t \\n \\r stay)."""
    return _ILLEGAL.sub("", text) if _ILLEGAL.search(text) else text


def display(value: Any, kind: str) -> str:
    """How a value is written in text formats: ISO dates, 87.5%, a light's Chinese label."""
    if kind == LIGHT:
        return LIGHT_LABELS.get(value or "", "—")
    if kind == PERCENT:
        return NONE_RATE if value is None else percent(value)
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def percent(rate: float) -> str:
    """0.875 → '87.5%' (one decimal, as the office reports it)."""
    return f"{rate * 100:.1f}%"


def is_formula_like(text: str) -> bool:
    """Would Excel run this text as a formula if it arrived unquoted?"""
    return bool(text) and text.startswith(FORMULA_START)


def text_width(text: str, cap: int = 60) -> int:
    """Display width in columns: full-width (CJK) characters count two; stops at `cap`."""
    if text.isascii():
        return min(len(max(text.split("\n"), key=len)) if "\n" in text else len(text), cap)
    width = best = 0
    for ch in text:
        if ch == "\n":
            best, width = max(best, width), 0
            continue
        width += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if width >= cap:
            return cap
    return max(best, width)


# --- detail rows ---------------------------------------------------------------------

def chapter_text(row: LedgerRow) -> str:
    """'一、… / (一)…': the plan's chapter and section in one cell."""
    return " / ".join(p for p in (row.chapter, row.section) if p)


def original_due(row: LedgerRow) -> dt.date | None:
    """Shown only when a delay moved the due date, so changed rows stand out."""
    return row.original_due if row.original_due != row.due else None


def delay_text(delay: DelayRecord) -> str:
    """'11-10 申请 2021-11-30→2021-12-15 同意': when asked, from what to what, the answer."""
    return (f"{delay.requested_on:%m-%d} 申请 {delay.old_due.isoformat()}→"
            f"{delay.requested_due.isoformat()} {delay.outcome_label}")


def delays_text(row: LedgerRow) -> str:
    return "；".join(delay_text(d) for d in row.delays)


DETAIL_COLUMNS: tuple[Column, ...] = (
    Column("序号", lambda r: r.task_seq, INT),
    Column("章节", chapter_text, wide=True),
    Column("具体要求", lambda r: r.requirement, wide=True),
    Column("处室", lambda r: r.department),
    Column("职责", lambda r: r.role_label),
    Column("期次", lambda r: r.period),
    Column("状态", lambda r: r.state_label),
    Column("完成时限", lambda r: r.due, DATE),
    Column("原定时限", original_due, DATE),
    Column("灯", lambda r: r.light, LIGHT),
    Column("报送日期", lambda r: r.submitted_on, DATE),
    Column("办结日期", lambda r: r.approved_on, DATE),
    Column(LATE_HEADER, lambda r: r.days_late, INT),
    Column("退回次数", lambda r: r.send_backs, INT),
    Column("延期情况", delays_text, wide=True),
    Column("最近报送内容", lambda r: r.latest_summary, wide=True),
)

LIGHT_COLUMN = next(i for i, c in enumerate(DETAIL_COLUMNS) if c.kind == LIGHT)

# The columns a reader of the printed ledger needs, with their widths in characters of
# the 11 pt default font (xlsx 打印版; the html print stylesheet takes their shares).
# The widths add up to 122.5 characters: in Excel or WPS with 宋体 they take about nine
# tenths of the 277 mm between 10 mm margins of A4 landscape, at 100 %. LibreOffice
# without 宋体 measures a character of the default font with a wider fallback (DejaVu
# Sans) and shrinks the sheet to fit the width; at 122.5 characters it still prints the
# 11 pt text at 9 pt or more (tests/test_print_render.py; at 139 it printed 10 pt text at
# 7.6 pt). 处室 and 职责 hold a nine-character department (公共法律服务管理处) and every
# role (技术保障) on one line: a task's rows after its first print nothing longer, so
# they stay one line high.
PRINT_LAYOUT: tuple[tuple[str, float], ...] = (
    ("序号", 5), ("具体要求", 30), ("处室", 19.5), ("职责", 9.5), ("期次", 7.5), ("状态", 8),
    ("完成时限", 11), ("灯", 5), (LATE_HEADER, 7.5), ("最近报送内容", 19.5),
)


def detail_rows(ledger: Ledger, by: str) -> list[LedgerRow]:
    """The ledger's rows in the order of the view.

    by="task": as the plan reads (task seq, then department).
    by="department": departments in the ledger's order (most overdue first), and within
    each the most urgent first (red, yellow, green, closed), then the earliest due date.
    """
    if by == "task":
        return sorted(ledger.rows, key=lambda r: (r.task_seq, r.department, r.role, r.period, r.assignment_id))
    if by == "department":
        rank = {t.name: i for i, t in enumerate(ledger.by_department)}
        return sorted(ledger.rows, key=lambda r: (
            rank.get(r.department, len(rank)), r.department, LIGHT_RANK.get(r.light, 3),
            r.due, r.task_seq, r.assignment_id))
    raise ValueError(f"视图“{by}”无效，应为 task（按任务）或 department（按处室）。")


# --- totals --------------------------------------------------------------------------

TOTAL_LABEL = "合计"


def _state_count(name: str) -> Callable[[Totals], int]:
    return lambda t: t.states.get(name, 0)


DEPARTMENT_TOTAL_COLUMNS: tuple[Column, ...] = (
    Column("处室", lambda t: t.name),
    Column("合计", lambda t: t.total, INT),
    *(Column(s.label, _state_count(s.name), INT) for s in states.STATES),
    Column("逾期", lambda t: t.overdue, INT),
    Column("应办结", lambda t: t.due, INT),
    Column("按时办结", lambda t: t.on_time, INT),
    Column("逾期办结", lambda t: t.done_late, INT),
    Column("按时办结率", lambda t: t.on_time_rate, PERCENT),
    Column("退回次数", lambda t: t.send_backs, INT),
    Column("延期申请", lambda t: t.delays, INT),
)

STATE_TOTAL_COLUMNS: tuple[Column, ...] = (
    Column("状态", lambda t: t.name),
    Column("事项数", lambda t: t.total, INT),
    Column("逾期", lambda t: t.overdue, INT),
    Column("退回次数", lambda t: t.send_backs, INT),
    Column("延期申请", lambda t: t.delays, INT),
)


def department_totals(ledger: Ledger) -> list[Totals]:
    """One Totals per department (the ledger's order) and a last 合计 row for the plan."""
    grand = dataclasses.replace(ledger.total, name=TOTAL_LABEL)
    return [*ledger.by_department, grand]


def state_totals(ledger: Ledger) -> list[Totals]:
    """One Totals per state in the machine's order (empty states included), then 合计."""
    per_state = {s.name: Totals(name=s.label) for s in states.STATES}
    grand = Totals(name=TOTAL_LABEL)
    for row in ledger.rows:
        totals = per_state.get(row.state)
        if totals is None:
            totals = per_state[row.state] = Totals(name=row.state_label)
        totals.add(row)
        grand.add(row)
    return [*per_state.values(), grand]


# --- convenience for the text formats -----------------------------------------------

def headers(columns: Sequence[Column]) -> list[str]:
    return [c.header for c in columns]


def text_rows(columns: Sequence[Column], items: Iterable[Any]) -> Iterable[list[str]]:
    """Every item as a list of display strings, one per column."""
    for item in items:
        yield [c.text(item) for c in columns]


NUL = "\x00"  # never in a cleaned text: the cell boundary of joined_texts


def joined_texts(columns: Sequence[Column]) -> Callable[[Any], str]:
    """`item → NUL.join(c.text(item) for c in columns)`, for 100,000 rows (html).

    The same spelling (`display`, `clean`), decided per column once instead of per cell:
    a value of the kind's usual type takes a short path, anything else (None included)
    goes through `display`; control characters are looked for once in the joined row,
    and only a row that has some is cleaned cell by cell.
    """
    width = len(columns)
    spell_all = _unrolled(columns)

    def joined(item: Any) -> str:
        out = spell_all(item)
        text = NUL.join(out)
        if text.count(NUL) != width - 1 or _ILLEGAL_BUT_NUL.search(text):
            return NUL.join([clean(t) for t in out])
        return text

    return joined


def _unrolled(columns: Sequence[Column]) -> Callable[[Any], list[str]]:
    """`item → [spell_i(get_i(item)) …]` written out as one list display: half the time
    of a loop over (get, spell) pairs at 16 cells × 100,000 rows. The generated source
    holds only names of our own (g0, s0, …), never a header or a value."""
    names: dict[str, Any] = {}
    cells = []
    for i, c in enumerate(columns):
        names[f"g{i}"], names[f"s{i}"] = c.get, _spelling(c.kind)
        cells.append(f"s{i}(g{i}(item))")
    exec(f"def spell_all(item):\n    return [{', '.join(cells)}]\n", names)  # noqa: S102
    return names["spell_all"]


def _spelling(kind: str) -> Callable[[Any], str]:
    """display(value, kind) with the common case first (the cleaning is joined_texts')."""
    if kind == TEXT:
        return lambda v: v if v.__class__ is str else display(v, TEXT)
    if kind == INT:
        return lambda v: str(v) if v.__class__ is int else display(v, INT)
    if kind == DATE:
        return lambda v: v.isoformat() if v.__class__ is dt.date else display(v, DATE)
    if kind == LIGHT:
        return lambda v: (LIGHT_LABELS[v] if v in LIGHT_LABELS
                          else display(clean(v) if isinstance(v, str) else v, LIGHT))
    return lambda v: display(v, kind)


_ILLEGAL_BUT_NUL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f]")  # NUL is counted instead


def summary(ledger: Ledger) -> dict[str, str]:
    """The one-line summary of the whole plan: 总数, 已办结, 逾期, 按时办结率."""
    t = ledger.total
    return {"总数": str(t.total), "已办结": str(t.states.get("done", 0)), "逾期": str(t.overdue),
            "按时办结率": display(t.on_time_rate, PERCENT)}


def as_of_line(ledger: Ledger) -> str:
    """'统计截至 2021年09月30日(临期提醒 5 天)' under every title."""
    return f"统计截至 {ledger.as_of:%Y年%m月%d日}（临期提醒 {ledger.warn_days} 天）"
