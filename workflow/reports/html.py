"""The ledger as one self-contained HTML file: opened offline, mailed, printed on A4.

No external CSS, script, font or image: the file must open on an intranet machine with
no network and show the same thing years later. The chart is inline SVG whose geometry
is computed here in Python. Jinja2 autoescapes everything, so text a department typed
(`<script>`, `{{ 7*7 }}`) is shown, never run or evaluated.

For 100,000 rows the page is streamed to the file in chunks (`Template.generate`), and
the rows of the detail table, most of the page, are written here rather than by a loop
in the template: one escape per row (its cells joined by NUL, which a cleaned text never
holds and escaping leaves alone), then the NULs become the cell boundaries. The bytes
are those the template loop wrote (tests/test_ledger_formats.py renders both).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, Iterator, Sequence

import jinja2
from markupsafe import Markup, escape

import states
from workflow.ledger.compute import Ledger, LedgerRow, Totals
from workflow.reports import open_text
from workflow.reports.tabular import (
    DEPARTMENT_TOTAL_COLUMNS, DETAIL_COLUMNS, INT, LIGHT, LIGHT_FILL, LIGHT_INK, OVERDUE_COLOUR,
    PERCENT, PRINT_LAYOUT, STATE_COLOURS, STATE_TOTAL_COLUMNS, TOTAL_LABEL, Column, as_of_line,
    NUL, department_totals, detail_rows, headers, joined_texts, state_totals, summary,
)

TEMPLATE_DIR = Path(__file__).parent / "templates"

# Chart geometry, in SVG user units (pixels at 100%).
LABEL_W, BAR_W, TAIL_W = 170, 620, 130
BAR_H, BAR_GAP, LEGEND_H = 18, 8, 34
# Minimum widths of the long text columns; the rest of the detail table does not wrap.
WIDE_EM = {"章节": 7, "具体要求": 10, "延期情况": 9, "最近报送内容": 10}


@dataclass(frozen=True)
class Segment:
    x: float
    width: float
    colour: str
    tip: str


@dataclass(frozen=True)
class Bar:
    department: str
    y: float
    total: int
    overdue: int
    segments: list[Segment]
    end: float  # where the bar stops: the counts are written after it
    overdue_width: float  # the red line under the bar, on the same scale


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def write_html(ledger: Ledger, out: str | os.PathLike | IO[str], by: str = "task") -> None:
    """Write the page to a path (atomically) or an open text stream, chunk by chunk."""
    with open_text(out) as fh:
        for chunk in render_chunks(ledger, by):
            fh.write(chunk)


def render_html(ledger: Ledger, by: str = "task") -> str:
    """The whole page as one string (small ledgers, tests)."""
    return "".join(render_chunks(ledger, by))


def render_chunks(ledger: Ledger, by: str = "task") -> Iterator[str]:
    """The page in pieces: the template's outputs, and the detail rows 500 at a time."""
    # Not buffered: the detail rows, most of the page, arrive 500 to a piece already.
    yield from environment().get_template("ledger.html.j2").generate(page_context(ledger, by))


def page_context(ledger: Ledger, by: str) -> dict[str, Any]:
    rows = detail_rows(ledger, by)
    bars, chart_height = chart_bars(ledger.by_department)
    return {
        "title": ledger.title, "as_of": as_of_line(ledger), "summary": summary(ledger),
        "view": "按处室" if by == "department" else "按任务",
        "bars": bars, "chart_height": chart_height, "chart_width": LABEL_W + BAR_W + TAIL_W,
        "geometry": {"label_w": LABEL_W, "bar_w": BAR_W, "bar_h": BAR_H},
        "legend": legend(), "overdue_colour": OVERDUE_COLOUR,
        "dept_table": table(DEPARTMENT_TOTAL_COLUMNS, department_totals(ledger)),
        "state_table": table(STATE_TOTAL_COLUMNS, state_totals(ledger)),
        "detail_headers": headers(DETAIL_COLUMNS),
        "detail_html": detail_html(rows, by),
        "css": column_css(),
    }


def table(columns: Sequence[Column], items: Sequence[Totals]) -> dict[str, Any]:
    """A small totals table: headers, cell texts, and which row is the 合计 row."""
    return {"headers": headers(columns),
            "numeric": [c.kind in (INT, PERCENT) for c in columns],
            "rows": [([c.text(t) for c in columns], t.name == TOTAL_LABEL) for t in items]}


def detail_html(rows: Sequence[LedgerRow], by: str, per_chunk: int = 500) -> Iterator[Markup]:
    """The detail table's rows as markup, `per_chunk` rows a piece: each row
    `<tr class="…"><td>…</td>…</tr>` and a line break, every cell's text escaped."""
    texts = joined_texts(DETAIL_COLUMNS)
    lines: list[str] = []
    for css, row in row_classes(rows, by):
        cells = str(escape(texts(row))).replace(NUL, "</td><td>")
        lines.append(f'<tr class="{css}"><td>{cells}</td></tr>\n')
        if len(lines) == per_chunk:
            yield Markup("".join(lines))
            lines = []
    if lines:
        yield Markup("".join(lines))


def row_classes(rows: Sequence[LedgerRow], by: str) -> Iterator[tuple[str, LedgerRow]]:
    """(row class, row): the class carries the light (the CSS colours the light cell by
    position) and marks the first row of each department in the department view, and
    in the task view the rows after a task's first."""
    previous = None
    for row in rows:
        css = f"l-{row.light or 'closed'}"
        if by == "department" and row.department != previous:
            css += " grp"
            previous = row.department
        elif by == "task":
            if row.task_seq == previous:
                css += " cont"  # printed without its task's number and requirement
            previous = row.task_seq
        yield css, row


def column_css() -> str:
    """Per-column CSS from the column model: numbers right-aligned, long text given room,
    the light cell coloured by the row's light. Ours only, no user text in it."""
    rules = []
    for i, c in enumerate(DETAIL_COLUMNS, 1):
        cell = f"td:nth-child({i})"
        if c.kind in (INT, PERCENT):
            rules.append(f"table.detail {cell}{{text-align:right}}")
        if c.kind == LIGHT:
            rules.append(f"table.detail {cell}{{text-align:center;font-weight:bold}}")
            rules += [f"table.detail tr.l-{k} {cell}{{background:#{LIGHT_FILL[k]};color:#{LIGHT_INK[k]}}}"
                      for k in LIGHT_FILL]
        if c.wide:
            rules.append(f"table.detail {cell}{{min-width:{WIDE_EM.get(c.header, 9)}em;white-space:pre-wrap}}")
        else:
            rules.append(f"table.detail {cell}{{white-space:nowrap}}")
    return "\n".join(rules) + "\n" + print_css()


def print_css() -> str:
    """The detail table on paper: only the columns of the printed ledger (PRINT_LAYOUT,
    as in the xlsx 打印版), each given its share of the page width, long text wrapped
    anywhere; in the task view a task's number and requirement once, on its first row."""
    keep = {h: w for h, w in PRINT_LAYOUT}
    total = sum(keep.values())
    rules = []
    for i, c in enumerate(DETAIL_COLUMNS, 1):
        cells = f"table.detail th:nth-child({i}), table.detail td:nth-child({i})"
        if c.header in keep:
            width = keep[c.header] / total * 100
            rules.append(f"  {cells}{{width:{width:.1f}%;min-width:0;white-space:normal}}")
        else:
            rules.append(f"  {cells}{{display:none}}")
    seq, requirement = (next(i for i, c in enumerate(DETAIL_COLUMNS, 1) if c.header == h)
                        for h in ("序号", "具体要求"))
    rules.append(f"  table.detail tr.cont td:nth-child({seq}), table.detail tr.cont td:nth-child({requirement})"
                 "{font-size:0;border-top-style:hidden}")
    return "@media print {\n" + "\n".join(rules) + "\n}"


def chart_bars(totals: Sequence[Totals]) -> tuple[list[Bar], int]:
    """One horizontal bar per department, one segment per state, lengths on a common
    scale (the largest department fills the bar area) so departments compare."""
    longest = max((t.total for t in totals), default=0) or 1
    bars = []
    for n, t in enumerate(totals):
        y = LEGEND_H + n * (BAR_H + BAR_GAP)
        x, segments = float(LABEL_W), []
        for s in states.STATES:
            count = t.states.get(s.name, 0)
            if count:
                width = BAR_W * count / longest
                segments.append(Segment(round(x, 2), round(width, 2), STATE_COLOURS[s.name],
                                        f"{t.name} {s.label} {count}"))
                x += width
        bars.append(Bar(t.name, y, t.total, t.overdue, segments, round(x, 2),
                        round(BAR_W * t.overdue / longest, 2)))
    return bars, LEGEND_H + len(totals) * (BAR_H + BAR_GAP) + 4


def legend() -> list[tuple[float, str, str, bool]]:
    """(x, colour, label, is_line) of each state's swatch in the machine's order, then
    the red line that marks the overdue part of a bar."""
    items, x = [], float(LABEL_W)
    for s in states.STATES:
        items.append((x, STATE_COLOURS[s.name], s.label, False))
        x += 24 + 13 * len(s.label)
    items.append((x, OVERDUE_COLOUR, "逾期", True))
    return items
