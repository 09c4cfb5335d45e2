"""The ledger's file formats (DESIGN §7): csv, markdown, xlsx and html.

The ledgers here are built by hand, not by `compute_ledger`, so these tests pin the
renderers alone: every state and light, approved/rejected/pending delays, send-backs,
hostile text (HTML, template syntax, formulas, CR-LF, control characters) and a
10,000-character summary. Each format is read back and compared with the column model.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest

import states
from workflow.ledger.compute import DelayRecord, Ledger, LedgerRow, Totals
from workflow.reports import FORMATS, atomic_path, write_ledger
from workflow.reports import tabular as tab
from workflow.reports.csv_out import write_csv
from workflow.reports.html import render_html, write_html
from workflow.reports.markdown import escape_cell, render_markdown
from workflow.reports.xlsx import MAX_CELL, write_xlsx

AS_OF = dt.date(2021, 9, 30)
D = dt.date
LABEL = {s.name: s.label for s in states.STATES}
ROLE_LABELS = {"lead": "牵头", "assist": "配合", "tech": "技术保障"}

HOSTILE = '<script>alert("办")</script> {{ 7*7 }} a|b\r\n第二行 & <b>粗</b>'
FORMULA = "=HYPERLINK(\"http://evil.example\",\"点我\")"
CONTROL = "含控制字符\x00\x07\x1b结束\t制表"
LONG = ("已公开2021年部门预算、决算及“三公”经费,详见局网站政务公开专栏。" * 400)[:10_000]
DEPARTMENTS = ["装财处", "办公室", "法治调研处", "局政务公开办", "信息<技术>|一科"]


def light_for(state: str, due: dt.date, as_of: dt.date = AS_OF, warn: int = 5) -> str:
    if state in ("done", "cancelled"):
        return ""
    if due < as_of:
        return "red"
    return "yellow" if (due - as_of).days <= warn else "green"


def make_row(aid: int, seq: int, dept: str, state: str, due: dt.date, **kw) -> LedgerRow:
    """A row with the light and days_late a real ledger would give it."""
    role = kw.pop("role", "lead")
    approved = kw.get("approved_on")
    days_late = (approved - due).days if approved and approved > due else 0
    if state not in ("done", "cancelled") and due < AS_OF:
        days_late = (AS_OF - due).days
    return LedgerRow(
        assignment_id=aid, task_seq=seq, chapter=kw.pop("chapter", "一、深化重点领域信息公开"),
        section=kw.pop("section", "(一)财政信息公开"),
        requirement=kw.pop("requirement", f"第{seq}项:按要求公开相关信息。"),
        department=dept, role=role, role_label=ROLE_LABELS[role], period=kw.pop("period", ""),
        state=state, state_label=LABEL[state], due=due, original_due=kw.pop("original_due", due),
        light=light_for(state, due), days_late=days_late, **kw)


def base_rows() -> list[LedgerRow]:
    """Every state, light and delay outcome, with the hostile texts spread around."""
    approved = DelayRecord(D(2021, 9, 10), D(2021, 9, 20), D(2021, 10, 15), "需等待市级平台接口",
                           "approved", D(2021, 9, 12))
    rejected = DelayRecord(D(2021, 8, 1), D(2021, 8, 31), D(2021, 9, 30), "人手不足", "rejected",
                           D(2021, 8, 3))
    pending = DelayRecord(D(2021, 9, 28), D(2021, 10, 3), D(2021, 12, 15), HOSTILE)
    return [
        make_row(1, 1, "装财处", "done", D(2021, 6, 30), submitted_on=D(2021, 6, 20),
                 approved_on=D(2021, 6, 25), latest_summary=LONG, period="2021Q2"),
        make_row(2, 1, "装财处", "done", D(2021, 9, 30), submitted_on=D(2021, 9, 1),
                 approved_on=D(2021, 9, 2), period="2021Q3", send_backs=1, latest_summary="已补充网址"),
        make_row(3, 2, "办公室", "done", D(2021, 7, 31), submitted_on=D(2021, 8, 5),
                 approved_on=D(2021, 8, 10), latest_summary=FORMULA),
        make_row(4, 2, "法治调研处", "in_progress", D(2021, 10, 15), original_due=D(2021, 9, 20),
                 delays=[approved], role="assist"),
        make_row(5, 3, "办公室", "returned", D(2021, 9, 15), submitted_on=D(2021, 9, 10),
                 send_backs=2, latest_summary=HOSTILE, requirement=HOSTILE),
        make_row(6, 3, "信息<技术>|一科", "submitted", D(2021, 10, 3), submitted_on=D(2021, 9, 29),
                 role="tech", latest_summary="-5 项未完成"),
        make_row(7, 4, "局政务公开办", "delay_requested", D(2021, 10, 3), delays=[pending],
                 chapter=HOSTILE, section=None),
        make_row(8, 4, "法治调研处", "assigned", D(2021, 8, 31), delays=[rejected],
                 latest_summary="@SUM(A1:A9)"),
        make_row(9, 5, "装财处", "cancelled", D(2021, 12, 31), latest_summary="+86 020 1234"),
        make_row(10, 5, "信息<技术>|一科", "in_progress", D(2021, 12, 31), latest_summary=CONTROL,
                 requirement="第5项:\r\n一是公开平台\n二是回应关切\r三是"),
        make_row(11, 6, "局政务公开办", "done", D(2021, 9, 30), submitted_on=D(2021, 9, 29),
                 approved_on=D(2021, 9, 30), delays=[approved, rejected]),
        make_row(12, 6, "办公室", "assigned", D(2021, 11, 30), chapter=None, section=None,
                 requirement="{% raw %}{{ config }}{% endraw %}"),
    ]


def build_ledger(rows: list[LedgerRow], as_of: dt.date = AS_OF, quarter: str | None = "2021Q3") -> Ledger:
    """Totals the way the ledger defines them; departments most overdue first."""
    per_dept: dict[str, Totals] = {}
    total = Totals(name="全部")
    for row in rows:
        per_dept.setdefault(row.department, Totals(name=row.department)).add(row)
        total.add(row)
    by_dept = sorted(per_dept.values(), key=lambda t: (-t.overdue, t.name))
    return Ledger(plan_id=1, plan_title="2021年政务公开工作要点分工方案", year=2021, as_of=as_of,
                  quarter=quarter, warn_days=5, rows=rows, by_department=by_dept, total=total)


def make_ledger() -> Ledger:
    return build_ledger(base_rows())


def big_ledger(n: int, departments: int = 24) -> Ledger:
    """n rows cycling through the base rows over many departments (for scale)."""
    base = base_rows()
    names = [f"第{i + 1}处室" for i in range(departments)]
    rows = []
    for i in range(n):
        r = base[i % len(base)]
        rows.append(LedgerRow(**{**r.__dict__, "assignment_id": i + 1, "task_seq": i // 4 + 1,
                                 "department": names[i % departments],
                                 "latest_summary": r.latest_summary if r.latest_summary is not LONG
                                 else "已公开2021年部门预算、决算。"}))
    return build_ledger(rows)


@pytest.fixture
def ledger() -> Ledger:
    return make_ledger()


# --- the column model -----------------------------------------------------------------

def test_detail_columns_are_the_agreed_ones():
    assert tab.headers(tab.DETAIL_COLUMNS) == [
        "序号", "章节", "具体要求", "处室", "职责", "期次", "状态", "完成时限", "原定时限", "灯",
        "报送日期", "办结日期", "逾期工作日", "退回次数", "延期情况", "最近报送内容"]
    assert tab.headers(tab.DEPARTMENT_TOTAL_COLUMNS) == [
        "处室", "合计", *(s.label for s in states.STATES), "逾期", "应办结", "按时办结",
        "逾期办结", "按时办结率", "退回次数", "延期申请"]


def test_delay_text_and_original_due(ledger):
    row = next(r for r in ledger.rows if r.assignment_id == 11)
    assert tab.delays_text(row) == ("09-10 申请 2021-09-20→2021-10-15 同意；"
                                    "08-01 申请 2021-08-31→2021-09-30 不同意")
    pending = next(r for r in ledger.rows if r.assignment_id == 7)
    assert tab.delays_text(pending).endswith("待审核")
    moved = next(r for r in ledger.rows if r.assignment_id == 4)
    assert tab.original_due(moved) == D(2021, 9, 20)
    assert tab.original_due(pending) is None  # unchanged: left blank


def test_views_order_rows(ledger):
    by_task = tab.detail_rows(ledger, "task")
    assert [(r.task_seq, r.department) for r in by_task] == sorted((r.task_seq, r.department) for r in ledger.rows)
    by_dept = tab.detail_rows(ledger, "department")
    order = [t.name for t in ledger.by_department]
    assert [r.department for r in by_dept] == sorted((r.department for r in by_dept), key=order.index)
    for name in order:  # within a department: red, yellow, green, closed; then due date
        group = [r for r in by_dept if r.department == name]
        keys = [(tab.LIGHT_RANK[r.light], r.due) for r in group]
        assert keys == sorted(keys)
    with pytest.raises(ValueError, match="视图"):
        tab.detail_rows(ledger, "week")


def test_totals_views(ledger):
    depts = tab.department_totals(ledger)
    assert depts[-1].name == "合计" and depts[-1].total == len(ledger.rows)
    assert sum(t.total for t in depts[:-1]) == len(ledger.rows)
    by_state = tab.state_totals(ledger)
    assert [t.name for t in by_state] == [s.label for s in states.STATES] + ["合计"]
    assert {t.name: t.total for t in by_state[:-1]} == {
        LABEL[k]: v for k, v in Counter(r.state for r in ledger.rows).items()} | {
        s.label: 0 for s in states.STATES if s.name not in {r.state for r in ledger.rows}}
    assert tab.display(0.875, tab.PERCENT) == "87.5%"
    assert tab.display(None, tab.PERCENT) == "—"


def test_text_width_counts_full_width_twice():
    assert tab.text_width("abc") == 3
    assert tab.text_width("装财处") == 6
    assert tab.text_width("装财处a\uff0c") == 9
    assert tab.text_width("长" * 100) == 60
    assert tab.text_width("ab\n装财处") == 6


def test_control_characters_are_cleaned(ledger):
    row = next(r for r in ledger.rows if r.assignment_id == 10)
    col = tab.DETAIL_COLUMNS[-1]
    assert col.value(row) == "含控制字符结束\t制表"


# --- csv ------------------------------------------------------------------------------

def read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def expected_text(row: LedgerRow) -> list[str]:
    return [c.text(row) for c in tab.DETAIL_COLUMNS]


@pytest.mark.parametrize("by", ["task", "department"])
def test_csv_round_trip(ledger, tmp_path, by):
    path = tmp_path / "台账.csv"
    write_csv(ledger, path, by)
    table = read_csv(path)
    assert table[0] == tab.headers(tab.DETAIL_COLUMNS)
    rows = tab.detail_rows(ledger, by)
    assert len(table) == len(rows) + 1
    for got, row in zip(table[1:], rows):
        want = expected_text(row)
        for i, (g, w) in enumerate(zip(got, want)):
            if tab.is_formula_like(w) and tab.DETAIL_COLUMNS[i].kind == tab.TEXT:
                assert g == "'" + w  # csv injection: Excel shows it, never runs it
            else:
                assert g == w
    assert not list(tmp_path.glob("*.part"))


def test_csv_keeps_multiline_and_dates(ledger, tmp_path):
    path = tmp_path / "t.csv"
    write_csv(ledger, path, "task")
    table = read_csv(path)
    by_id = {r.assignment_id: r for r in ledger.rows}
    rows = tab.detail_rows(ledger, "task")
    line = table[1 + rows.index(by_id[10])]
    assert line[2] == "第5项:\r\n一是公开平台\n二是回应关切\r三是"
    assert line[7] == "2021-12-31"
    assert line[15] == "含控制字符结束\t制表"
    formula = table[1 + rows.index(by_id[3])]
    assert formula[15] == "'" + FORMULA
    assert table[1 + rows.index(by_id[6])][15] == "'-5 项未完成"


def test_csv_to_a_stream_has_the_bom(ledger):
    buf = io.StringIO()
    write_csv(ledger, buf, "task")
    assert buf.getvalue().startswith("\ufeff序号,")


# --- markdown -------------------------------------------------------------------------

UNESCAPED_PIPE = re.compile(r"(?<!\\)(?:\\\\)*\|")


def md_tables(text: str) -> list[list[str]]:
    """Consecutive table lines, grouped per table."""
    tables, current = [], []
    for line in text.split("\n"):
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def test_markdown_tables_never_break(ledger):
    text = render_markdown(ledger, "department")
    assert text.startswith(f"# {ledger.title}\n")
    assert "统计截至 2021年09月30日" in text
    dept, state, detail = md_tables(text)
    assert len(dept) == 2 + len(ledger.by_department) + 1  # header, rule, departments, 合计
    assert dept[-1].startswith("| 合计 |")
    assert len(state) == 2 + len(states.STATES) + 1
    assert len(detail) == 2 + len(ledger.rows)
    for lines, ncols in ((dept, len(tab.DEPARTMENT_TOTAL_COLUMNS)),
                         (state, len(tab.STATE_TOTAL_COLUMNS)), (detail, len(tab.DETAIL_COLUMNS))):
        for line in lines:
            assert len(UNESCAPED_PIPE.findall(line)) == ncols + 1, line[:200]
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_markdown_escape_cell():
    assert escape_cell("a|b\r\nc\nd") == r"a\|b<br>c<br>d"
    assert escape_cell("<b>&") == "&lt;b&gt;&amp;"
    assert escape_cell("x\\|y") == r"x\\\|y"


# --- xlsx -----------------------------------------------------------------------------

def xlsx_value(column: tab.Column, item) -> object:
    """What openpyxl should read back for one cell."""
    value = column.value(item)
    if column.kind == tab.LIGHT:
        return tab.display(value, tab.LIGHT)
    if column.kind == tab.PERCENT and value is None:
        return "—"
    if isinstance(value, str) and len(value) > MAX_CELL:
        return None  # checked separately
    if value == "" or value is None:
        return None
    if isinstance(value, str):  # a line break in a cell is LF, as Excel writes it
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def cell_value(cell) -> object:
    value = cell.value
    return value.date() if isinstance(value, dt.datetime) else value


@pytest.fixture
def workbook(ledger, tmp_path):
    path = tmp_path / "台账.xlsx"
    write_xlsx(ledger, path, "task")
    return openpyxl.load_workbook(path)


def test_xlsx_sheets_and_header(workbook):
    assert workbook.sheetnames == ["台账明细", "打印版", "处室汇总", "状态汇总"]
    for ws, columns in zip([workbook[n] for n in ("台账明细", "处室汇总", "状态汇总")],
                           (tab.DETAIL_COLUMNS, tab.DEPARTMENT_TOTAL_COLUMNS, tab.STATE_TOTAL_COLUMNS)):
        assert [c.value for c in ws[1]] == tab.headers(columns)
        assert all(c.font.bold for c in ws[1])
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(columns))}{ws.max_row}"
    assert "2021年第3季度" in workbook.properties.title


def test_xlsx_detail_values_round_trip(workbook, ledger):
    ws = workbook["台账明细"]
    rows = tab.detail_rows(ledger, "task")
    assert ws.max_row == len(rows) + 1
    for excel_row, row in zip(ws.iter_rows(min_row=2), rows):
        for cell, column in zip(excel_row, tab.DETAIL_COLUMNS):
            assert cell_value(cell) == xlsx_value(column, row), (column.header, row.assignment_id)


def test_xlsx_types_and_styles(workbook, ledger):
    ws = workbook["台账明细"]
    rows = tab.detail_rows(ledger, "task")
    due = tab.headers(tab.DETAIL_COLUMNS).index("完成时限") + 1
    light = tab.LIGHT_COLUMN + 1
    summary = len(tab.DETAIL_COLUMNS)
    for i, row in enumerate(rows, 2):
        assert ws.cell(i, due).is_date and ws.cell(i, due).number_format == "yyyy-mm-dd"
        fill = ws.cell(i, light).fill
        if row.light:
            assert fill.fgColor.rgb.endswith(tab.LIGHT_FILL[row.light])
        else:
            assert fill.fill_type is None
        text = ws.cell(i, summary)
        if row.latest_summary and tab.is_formula_like(row.latest_summary):
            assert text.data_type == "s" and text.value == row.latest_summary  # not a formula
    assert ws.cell(2, 3).alignment.wrap_text  # 具体要求 wraps
    assert ws.column_dimensions["C"].width <= 62
    assert ws.column_dimensions["D"].width >= tab.text_width("信息<技术>|一科")
    long_cell = ws.cell(2 + rows.index(next(r for r in rows if r.latest_summary == LONG)), summary)
    assert long_cell.value == LONG


def test_xlsx_totals_are_numbers(workbook, ledger):
    ws = workbook["处室汇总"]
    headers = [c.value for c in ws[1]]
    rate = headers.index("按时办结率") + 1
    last = ws.max_row
    assert ws.cell(last, 1).value == "合计" and ws.cell(last, 1).font.bold
    assert ws.cell(last, 2).value == len(ledger.rows)
    assert ws.cell(last, rate).value == pytest.approx(ledger.total.on_time_rate)
    assert ws.cell(last, rate).number_format == "0.0%"
    for i, t in enumerate(tab.department_totals(ledger), 2):
        assert [cell_value(c) for c in ws[i]] == [xlsx_value(c, t) for c in tab.DEPARTMENT_TOTAL_COLUMNS]
    ws = workbook["状态汇总"]
    assert [c.value for c in ws["A"]][1:] == [s.label for s in states.STATES] + ["合计"]


def test_xlsx_cuts_text_longer_than_excel_allows(tmp_path):
    rows = base_rows()
    rows[0].latest_summary = "长" * 40_000
    path = tmp_path / "long.xlsx"
    write_xlsx(build_ledger(rows), path)
    value = openpyxl.load_workbook(path)["台账明细"].cell(2, len(tab.DETAIL_COLUMNS)).value
    assert len(value) == MAX_CELL and value.endswith("已截断）")


# --- html -----------------------------------------------------------------------------

class Page(HTMLParser):
    """Counts what the tests look at: rows per table, bars, scripts, outside references."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[dict] = []
        self.in_body = False
        self.cell: list[str] | None = None
        self.bars: list[str] = []
        self.tags = Counter()
        self.refs: list[str] = []
        self.row_classes: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] += 1
        for key in ("src", "href", "xlink:href", "action", "srcset"):
            if key in a:
                self.refs.append(a[key])
        if tag == "table":
            self.tables.append({"class": a.get("class"), "rows": []})
        elif tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.tables[-1]["rows"].append([])
            self.row_classes.append(a.get("class") or "")
        elif tag == "td" and self.in_body:
            self.cell = []
        elif tag == "g" and a.get("class") == "bar":
            self.bars.append(a["data-department"])

    def handle_endtag(self, tag):
        if tag == "tbody":
            self.in_body = False
        elif tag == "td" and self.cell is not None:
            self.tables[-1]["rows"][-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


@pytest.mark.parametrize("by", ["task", "department"])
def test_html_tables_round_trip(ledger, by):
    text = render_html(ledger, by)
    page = parse(text)
    dept, state, detail = page.tables
    assert detail["class"] == "detail"
    assert len(dept["rows"]) == len(ledger.by_department) + 1
    assert len(state["rows"]) == len(states.STATES) + 1
    rows = tab.detail_rows(ledger, by)
    assert len(detail["rows"]) == len(rows)
    for got, row in zip(detail["rows"], rows):
        assert got == expected_text(row)
    for got, t in zip(dept["rows"], tab.department_totals(ledger)):
        assert got == [c.text(t) for c in tab.DEPARTMENT_TOTAL_COLUMNS]


# The detail rows as the template's own loop wrote them before html.detail_html took over
# (one escape per cell); the page must come out byte for byte the same.
TEMPLATE_LOOP = ("{% for css, cells in rows %}\n"
                 "<tr class=\"{{ css }}\">{% for c in cells %}<td>{{ c }}</td>{% endfor %}</tr>\n"
                 "{% endfor %}\n")


@pytest.mark.parametrize("by", ["task", "department"])
def test_html_detail_rows_are_the_template_loops_bytes(by):
    import jinja2

    from workflow.reports import html as html_mod

    big = big_ledger(600)
    odd = big.rows[:40]
    for i, row in enumerate(odd):  # every hostile text, and values of unusual types
        row.latest_summary = [HOSTILE, CONTROL, FORMULA, "\x00开头", "'单引号' \"双引号\"", None][i % 6]
        row.requirement = [CONTROL + HOSTILE, "a\x1fb", "正常"][i % 3]
        row.period = [" ", "2021Q3", "&amp;"][i % 3]
    rows = tab.detail_rows(big, by)
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    expected = env.from_string(TEMPLATE_LOOP).render(rows=[
        (css, [c.text(row) for c in tab.DETAIL_COLUMNS]) for css, row in html_mod.row_classes(rows, by)])
    page = render_html(big, by)
    body = page[page.index("<tbody>", page.index('<table class="detail">')) + len("<tbody>\n"):]
    assert body[:body.index("</tbody>")] == expected
    joined = tab.joined_texts(tab.DETAIL_COLUMNS)
    assert all(joined(r).split(tab.NUL) == [c.text(r) for c in tab.DETAIL_COLUMNS] for r in rows)


def test_html_chart_has_one_bar_per_department(ledger):
    page = parse(render_html(ledger))
    assert page.tags["svg"] == 1
    assert page.bars == [t.name for t in ledger.by_department]
    # one segment per non-empty state of each department, plus the overdue line
    segments = sum(len(+t.states) for t in ledger.by_department)
    overdue_lines = sum(1 for t in ledger.by_department if t.overdue)
    assert page.tags["rect"] == segments + overdue_lines + len(states.STATES) + 1  # + legend


def test_html_escapes_user_text(ledger):
    text = render_html(ledger)
    page = parse(text)
    assert page.tags["script"] == 0 and "<script>" not in text
    assert "&lt;script&gt;" in text
    assert "{{ 7*7 }}" in text and "{% raw %}{{ config }}{% endraw %}" in text
    detail = page.tables[-1]["rows"]
    hostile = [cell for row in detail for cell in row if "7*7" in cell]
    assert hostile and all(cell == tab.clean(HOSTILE) for cell in hostile)
    assert not any("49" in cell for row in detail for cell in row if "alert" in cell)
    assert page.tags["b"] == len(tab.summary(ledger))  # only our own <b>, none from user text


def test_html_is_self_contained(ledger):
    text = render_html(ledger)
    page = parse(text)
    assert page.refs == []
    assert page.tags["link"] == 0 and page.tags["img"] == 0 and page.tags["iframe"] == 0
    assert "@import" not in text and "url(" not in text
    style = text[text.index("<style>"):text.index("</style>")]
    assert "http" not in style and "@media print" in style and "A4 landscape" in style
    assert "table-header-group" in style


def test_html_light_colours_follow_the_rows(ledger):
    page = parse(render_html(ledger, "department"))
    rows = tab.detail_rows(ledger, "department")
    assert [c.split()[0] for c in page.row_classes[-len(rows):]] == [
        f"l-{r.light or 'closed'}" for r in rows]
    assert sum("grp" in c for c in page.row_classes) == len(ledger.by_department)


def test_html_handles_an_empty_ledger():
    empty = build_ledger([])
    page = parse(render_html(empty))
    assert page.tables[-1]["rows"] == [] and page.bars == []
    assert "按时办结率 <b>—</b>" in render_html(empty)


# --- the entry point ------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["csv", "xlsx", "html", "md"])
def test_write_ledger_writes_each_format(ledger, tmp_path, fmt):
    path = tmp_path / f"台账.{fmt}"
    write_ledger(ledger, fmt, path, by="department")
    assert path.stat().st_size > 1000
    assert not list(tmp_path.glob("*.part"))
    assert fmt in FORMATS


def test_write_ledger_to_streams(ledger):
    text = io.StringIO()
    write_ledger(ledger, "md", text)
    assert text.getvalue().startswith("# ")
    binary = io.BytesIO()
    write_ledger(ledger, "xlsx", binary)
    assert openpyxl.load_workbook(io.BytesIO(binary.getvalue())).sheetnames[0] == "台账明细"


def test_write_ledger_refuses_terminal_formats(ledger, tmp_path):
    with pytest.raises(ValueError, match="格式"):
        write_ledger(ledger, "json", tmp_path / "x.json")


def test_a_failed_write_leaves_the_old_file(ledger, tmp_path, monkeypatch):
    path = tmp_path / "台账.html"
    path.write_text("旧台账", encoding="utf-8")
    import workflow.reports.html as html_mod

    def broken(*args, **kwargs):
        yield "<!DOCTYPE html><html>"
        raise RuntimeError("磁盘已满")

    monkeypatch.setattr(html_mod, "render_chunks", broken)
    with pytest.raises(RuntimeError):
        write_html(ledger, path)
    assert path.read_text(encoding="utf-8") == "旧台账"
    assert not list(tmp_path.glob("*.part"))


def test_atomic_path_replaces_only_on_success(tmp_path):
    target = tmp_path / "a.txt"
    with atomic_path(target) as part:
        part.write_text("新")
        assert not target.exists()
    assert target.read_text() == "新"


# --- scale and a real browser -----------------------------------------------------------

def test_many_rows_in_every_format(tmp_path):
    big = big_ledger(3000)
    for fmt in ("csv", "xlsx", "html", "md"):
        write_ledger(big, fmt, tmp_path / f"big.{fmt}", by="department")
    assert len(read_csv(tmp_path / "big.csv")) == 3001
    sheet = openpyxl.load_workbook(tmp_path / "big.xlsx", read_only=True)["台账明细"]
    assert sum(1 for _ in sheet.iter_rows(values_only=True)) == 3001
    page = parse((tmp_path / "big.html").read_text(encoding="utf-8"))
    assert len(page.tables[-1]["rows"]) == 3000 and len(page.bars) == 24


@pytest.mark.skipif(not shutil.which("chromium"), reason="未安装 chromium,跳过浏览器截图检查")
def test_chromium_renders_the_page(ledger, tmp_path):
    page = tmp_path / "台账.html"
    write_html(ledger, page, "department")
    png = tmp_path / "ledger.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={png}", "--window-size=1400,1000", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    assert png.exists() and png.stat().st_size > 20_000
