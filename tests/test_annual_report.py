"""The annual-report section 政务公开工作要点落实情况 (task 28 of the seed): the numbers,
recomputed here straight from the database, appear in md, html and docx; user text is
escaped and never run as a template; an office's own template wins; the CLI writes
the file atomically and refuses bad input in one Chinese sentence."""
from __future__ import annotations

import datetime as dt
import io
from fractions import Fraction
from pathlib import Path

import pytest

from cli_helpers import run
from conftest import World
from workflow.ledger.compute import DelayRecord, Ledger, LedgerRow, Totals
from workflow.reports import annual
from workflow.reports.annual import render_annual

AS_OF = dt.date(2021, 12, 31)
INJECTION = "{{ 7*7 }}<script>alert(1)</script>"
SUMMARY = "已在门户网站公开2021年部门预算" + INJECTION
REASON = "需等待市级平台接口开放" + INJECTION


# ---------------------------------------------------------------- a year of work
def act(world: World, aid: int, trigger: str, user: str, day: str, **fields) -> None:
    from commands.lifecycle import transition
    from workflow.lifecycle.engine import Fields

    transition(world.app(user, today=day), aid, trigger, Fields(**fields))


@pytest.fixture
def year(world: World) -> World:
    """The test plan worked through 2021: on time, late, delayed, cancelled and open."""
    a = world.assignment
    zc1, bgs1, kj1 = a(1, "装财处"), a(1, "办公室"), a(1, "科监处")
    office_q3 = a(2, "局政务公开办", period="2021Q3")
    kj3, zc3 = a(3, "科监处", "lead"), a(3, "装财处")
    act(world, zc1, "start", "张三", "2021-08-02")
    act(world, zc1, "submit", "张三", "2021-11-01", summary=SUMMARY)
    act(world, zc1, "approve", "李审核", "2021-11-02")
    act(world, zc3, "start", "张三", "2021-09-01")
    act(world, zc3, "submit", "张三", "2021-12-01", summary="门户网站 IPv6 改造配合完成")
    act(world, zc3, "approve", "李审核", "2021-12-02")
    act(world, office_q3, "start", "李审核", "2021-08-03")
    act(world, office_q3, "submit", "李审核", "2021-10-10", summary="第三季度督办台账已更新")
    act(world, office_q3, "approve", "王审核", "2021-10-11")  # eleven days late
    act(world, kj1, "request_delay", "孙科监", "2021-11-20", reason=REASON, until=dt.date(2021, 12, 15))
    act(world, kj1, "approve_delay", "李审核", "2021-11-22")  # still open on 12-31: overdue
    act(world, bgs1, "cancel", "吴管理", "2021-09-01", reason="方案调整")
    act(world, kj3, "start", "孙科监", "2021-09-01")  # due 12-31: open, not overdue
    return world


def ledger_of(world: World, as_of: dt.date = AS_OF) -> Ledger:
    from workflow.ledger.compute import compute_ledger

    with world.session() as s:
        return compute_ledger(s, world.plan_id, as_of)


def expected(world: World, as_of: dt.date = AS_OF) -> dict:
    """The report's numbers, counted directly from the assignment and event tables."""
    from sqlalchemy import select

    from db.models import Assignment, Department, Event, Task

    with world.session() as s:
        rows = s.execute(select(Assignment.id, Assignment.state, Assignment.due_date, Task.seq, Department.name)
                         .join(Task, Task.id == Assignment.task_id)
                         .join(Department, Department.id == Assignment.department_id)
                         .where(Assignment.plan_id == world.plan_id)).all()
        approved = dict(s.execute(select(Event.assignment_id, Event.at).where(Event.trigger == "approve")).all())
    live = [r for r in rows if r.state != "cancelled"]
    done = [r for r in live if r.state == "done"]
    overdue = [r for r in live if r.state != "done" and r.due_date < as_of]
    on_time = [r for r in done if approved[r.id].date() <= r.due_date]
    return {"tasks": len({r.seq for r in live}), "departments": len({r.name for r in live}),
            "assignments": len(live), "done": len(done), "open": len(live) - len(done),
            "overdue": len(overdue), "due": len(done) + len(overdue), "on_time": len(on_time),
            "cancelled": len(rows) - len(live)}


def pct(part: int, whole: int) -> str:
    tenths = int(Fraction(part * 1000, whole) + Fraction(1, 2))
    return f"{tenths // 10}.{tenths % 10}%"


# ---------------------------------------------------------------- formatting helpers
@pytest.mark.parametrize("part,whole,text", [(2, 3, "66.7%"), (1, 8, "12.5%"), (1, 80, "1.3%"),
                                             (3, 3, "100.0%"), (0, 5, "0.0%"), (0, 0, "—")])
def test_percent_one_decimal_half_up(part, whole, text):
    assert annual.percent(part, whole) == text


def test_chinese_numbering_and_task_ranges():
    assert [annual.cn_number(n) for n in (1, 5, 10, 12, 20, 21)] == ["一", "五", "十", "十二", "二十", "二十一"]
    assert annual.seq_ranges([5, 1, 2, 3, 7, 8]) == "第1–3、5、7–8项"
    assert annual.seq_ranges([28]) == "第28项"
    assert annual.chapter_name("二、紧扣宏观政策落地见效深化政务公开") == "紧扣宏观政策落地见效深化政务公开"
    assert annual.chapter_name(None) == annual.chapter_name("  ") == "其他"
    assert annual.cn_date(dt.date(2021, 1, 5)) == "2021年1月5日"
    assert annual.quote(annual.clip("做好“六稳”工作。")) == "“做好‘六稳’工作”"


def test_clip_keeps_one_line_and_drops_control_characters():
    text = annual.clip("第一行\r\n第二行\x00\x07" + "长" * 100, 20)
    assert "\n" not in text and "\r" not in text and "\x00" not in text
    assert len(text) == 20 and text.endswith("…")


# ---------------------------------------------------------------- context from hand-built ledgers
def _row(aid: int, seq: int, chapter: str | None, dept: str, state: str, *, light: str = "",
         days_late: int = 0, summary: str | None = None, delays=()) -> LedgerRow:
    due = dt.date(2021, 11, 30)
    return LedgerRow(assignment_id=aid, task_seq=seq, chapter=chapter, section=None,
                     requirement=f"任务{seq}的具体要求。", department=dept, role="lead", role_label="牵头",
                     period="", state=state, state_label=state, due=due, original_due=due, light=light,
                     days_late=days_late, latest_summary=summary, delays=list(delays))


def _ledger(rows: list[LedgerRow]) -> Ledger:
    total = Totals("合计")
    for r in rows:
        total.add(r)
    return Ledger(plan_id=1, plan_title="测试局2021年政务公开工作要点分工方案", year=2021, as_of=AS_OF,
                  quarter=None, warn_days=5, rows=rows, by_department=[], total=total)


def test_chapters_in_plan_order_with_other_last():
    rows = [_row(1, 3, None, "科监处", "done", summary="甲"),
            _row(2, 1, "一、财政信息", "装财处", "done", summary="乙"),
            _row(3, 2, "二、政策解读", "办公室", "in_progress", light="red", days_late=31),
            _row(4, 4, "一、财政信息", "装财处", "cancelled")]
    chapters = annual.build_chapters(rows)
    assert [(c.number, c.name, c.seqs) for c in chapters] == [
        ("（一）", "财政信息", [1]), ("（二）", "政策解读", [2]), ("（三）", "其他", [3])]
    assert chapters[0].cancelled_seqs == [4] and "第4项任务因方案调整撤销" in chapters[0].text
    assert "已办结1项，办结率100.0%" in chapters[0].text and "装财处“乙”" in chapters[0].text
    assert "尚未办结1项，其中逾期1项" in chapters[1].text


def test_highlights_are_few_one_per_task_and_clipped():
    rows = [_row(i, i, "一、甲", f"处{i}", "done", summary=f"第{i}项成果" + "很长" * 50) for i in range(1, 6)]
    picked = annual.highlights(rows)
    assert len(picked) == annual.HIGHLIGHTS_PER_CHAPTER
    assert all(len(h["summary"]) <= annual.SUMMARY_LIMIT for h in picked)


def test_nothing_delayed_or_unfinished_is_said_in_a_sentence():
    context = annual.annual_context(_ledger([_row(1, 1, "一、甲", "装财处", "done", summary="已完成")]))
    assert context["delays"] == [] and context["unfinished"] == []
    assert "没有申请延期的事项，也没有未完成的事项" in context["exceptions"]
    md = render_annual(_ledger([_row(1, 1, "一、甲", "装财处", "done", summary="已完成")]), "md")
    assert "没有申请延期的事项，也没有未完成的事项" in md and "**延期事项**" not in md


def test_unfinished_are_grouped_by_task_with_departments_and_days():
    rows = [_row(1, 7, None, "科监处", "in_progress", light="red", days_late=31),
            _row(2, 7, None, "立法二处", "assigned", light="red", days_late=31),
            _row(3, 8, None, "办公室", "in_progress", light="green")]
    items = annual.unfinished_items(rows)
    assert [(i["seq"], i["days_overdue"]) for i in items] == [(7, 31), (8, 0)]
    assert "科监处（牵头，in_progress）、立法二处（牵头，assigned）尚未办结" in items[0]["text"]
    assert "已逾期31个工作日" in items[0]["text"] and "尚在办理时限内" in items[1]["text"]


def test_delay_items_name_dates_outcome_and_reason():
    pending = DelayRecord(requested_on=dt.date(2021, 11, 25), old_due=dt.date(2021, 11, 30),
                          requested_due=dt.date(2022, 1, 15), reason="等待\r\n市级平台")
    items = annual.delay_items([_row(1, 7, None, "科监处", "delay_requested", light="red", days_late=31,
                                     delays=[pending])])
    assert items[0]["text"] == ("第7项（科监处牵头）：完成时限由2021年11月30日申请延至2022年1月15日，"
                                "延期申请待审核；书面说明理由：等待 市级平台。")


def test_unknown_format_is_refused():
    with pytest.raises(ValueError):
        render_annual(_ledger([]), "pdf")


# ---------------------------------------------------------------- the real year, both databases
def test_markdown_numbers_match_the_database(year):
    exp = expected(year)
    md = render_annual(ledger_of(year), "md")
    assert md.startswith("# 政务公开工作要点落实情况")
    for heading in ("一、总体情况", "二、分章节落实情况", "三、延期和未完成事项", "四、下一步工作"):
        assert f"## {heading}" in md
    assert "按照《测试局2021年政务公开工作要点分工方案》要求" in md
    assert f"分解为{exp['tasks']}项具体任务，涉及{exp['departments']}个处室（单位），共{exp['assignments']}项办理事项" in md
    assert f"截至2021年12月31日，已办结{exp['done']}项，办结率{pct(exp['done'], exp['assignments'])}" in md
    assert f"应办结的{exp['due']}项中按时办结{exp['on_time']}项，按时办结率{pct(exp['on_time'], exp['due'])}" in md
    assert f"尚未办结的办理事项{exp['open']}项，其中逾期{exp['overdue']}项" in md
    assert f"另有{exp['cancelled']}项办理事项因方案调整撤销" in md
    assert f"| **合计** | **{exp['tasks']}** | **{exp['assignments']}** | **{exp['done']}** |" in md
    # chapters: task 1 under its chapter, the two tasks without one under 其他
    assert "**（一）财政信息。**" in md and "**（二）其他。**" in md


def test_delays_and_unfinished_are_listed(year):
    md = render_annual(ledger_of(year), "md")
    section = md.split("## 三、延期和未完成事项")[1].split("## 四、")[0]
    assert "第1项（科监处技术保障）：完成时限由2021年11月30日申请延至2021年12月15日，已同意延期" in section
    assert "需等待市级平台接口开放" in section
    assert "已逾期12个工作日" in section  # open past the approved 12-15: 12 working days
    assert "规范性文件审查处（牵头，已下发）尚未办结，完成时限2021年9月30日，已逾期62个工作日" in section
    assert "装财处" not in section.split("**未办结事项**")[1]  # both of its assignments are done


def test_user_text_is_escaped_and_never_evaluated(year):
    ledger = ledger_of(year)
    html = render_annual(ledger, "html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html
    assert "{{ 7*7 }}" in html and "49" not in html
    md = render_annual(ledger, "md")
    assert r"{{ 7\*7 }}\<script\>" in md and "<script>" not in md
    assert "49" not in md


def test_html_is_a_complete_page_with_the_table(year):
    exp = expected(year)
    html = render_annual(ledger_of(year), "html")
    assert html.lstrip().startswith("<!DOCTYPE html>") and "</html>" in html
    assert '<h1>政务公开工作要点落实情况</h1>' in html
    assert f'<tr class="total"><td>合计</td><td class="n">{exp["tasks"]}</td><td class="n">{exp["assignments"]}</td>' in html


def test_docx_opens_with_heading_paragraphs_and_table(year):
    import docx

    exp = expected(year)
    data = render_annual(ledger_of(year), "docx")
    assert isinstance(data, bytes)
    doc = docx.Document(io.BytesIO(data))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "政务公开工作要点落实情况"
    assert doc.paragraphs[0].style.name == "Heading 1"
    assert [p.text for p in doc.paragraphs if p.style.name == "Heading 2"] == [
        "一、总体情况", "二、分章节落实情况", "三、延期和未完成事项", "四、下一步工作"]
    body = "\n".join(texts)
    assert f"已办结{exp['done']}项，办结率{pct(exp['done'], exp['assignments'])}" in body
    assert "{{ 7*7 }}<script>" in body  # plain text in Word, not markup
    table = doc.tables[0]
    cells = [[c.text for c in row.cells] for row in table.rows]
    assert cells[0] == annual.TABLE_HEADERS
    assert cells[-1][:4] == ["合计", str(exp["tasks"]), str(exp["assignments"]), str(exp["done"])]


def test_office_template_wins_and_the_rest_falls_back(year, tmp_path):
    (tmp_path / "annual.md.j2").write_text(
        "# 我局自定义\n已办结{{ counts.done }}/{{ counts.assignments }};{{ overview }}\n", encoding="utf-8")
    ledger = ledger_of(year)
    exp = expected(year)
    md = render_annual(ledger, "md", tmp_path)
    assert md.startswith("# 我局自定义\n") and f"已办结{exp['done']}/{exp['assignments']}" in md
    assert "{{ 7*7 }}" not in md or "<script>" in md  # values printed, never evaluated
    html = render_annual(ledger, "html", tmp_path)  # not overridden: the package's template
    assert "<h1>政务公开工作要点落实情况</h1>" in html


def test_as_of_before_the_deadline_has_nothing_overdue(year):
    md = render_annual(ledger_of(year, dt.date(2021, 9, 1)), "md")
    assert "截至2021年9月1日" in md
    overview = md.split("## 一、总体情况")[1].split("|")[0]
    assert "其中逾期" not in overview and "按时办结率" not in overview  # nothing was due yet
    assert "已逾期" not in md


# ---------------------------------------------------------------- the command line
def test_cli_writes_each_format(year, tmp_path):
    exp = expected(year)
    for name, check in (("落实情况.md", lambda p: p.read_text(encoding="utf-8").startswith("# 政务公开")),
                        ("落实情况.html", lambda p: "<h1>政务公开工作要点落实情况</h1>" in p.read_text(encoding="utf-8")),
                        ("落实情况.docx", lambda p: p.read_bytes()[:2] == b"PK")):
        out = tmp_path / name
        proc = run("report", "annual", str(year.plan_id), "--out", str(out), "--as-of", "2021-12-31", db=year.url, user="李审核")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "" and check(out)
        assert not (tmp_path / (name + ".part")).exists()
    out = tmp_path / "section.txt"
    proc = run("report", "annual", "测试局", "--format", "md", "--out", str(out), "--as-of", "2021-12-31", db=year.url, user="李审核")
    assert proc.returncode == 0, proc.stderr
    assert f"共{exp['assignments']}项办理事项" in out.read_text(encoding="utf-8")


def test_cli_as_of_defaults_to_year_end_or_today(year, tmp_path):
    out = tmp_path / "a.md"
    assert run("report", "annual", str(year.plan_id), "--out", str(out), db=year.url, today="2022-03-01", user="李审核").returncode == 0
    assert "截至2021年12月31日" in out.read_text(encoding="utf-8")
    assert run("report", "annual", str(year.plan_id), "--out", str(out), db=year.url, today="2021-10-08", user="李审核").returncode == 0
    assert "截至2021年10月8日" in out.read_text(encoding="utf-8")


def test_cli_templates_option(year, tmp_path):
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "annual.html.j2").write_text("<p>{{ plan_title }}:{{ counts.done }}</p>\n", encoding="utf-8")
    out = tmp_path / "a.html"
    proc = run("report", "annual", str(year.plan_id), "--out", str(out), "--as-of", "2021-12-31",
               "--templates", str(folder), db=year.url, user="李审核")
    assert proc.returncode == 0, proc.stderr
    assert out.read_text(encoding="utf-8") == f"<p>测试局2021年政务公开工作要点分工方案:{expected(year)['done']}</p>\n"


def test_cli_templates_from_config(year, tmp_path):
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "annual.md.j2").write_text("配置模板 {{ counts.assignments }}\n", encoding="utf-8")
    config = tmp_path / "duban.toml"
    config.write_text('templates_dir = "tpl"\n', encoding="utf-8")
    out = tmp_path / "a.md"
    proc = run("--config", str(config), "report", "annual", str(year.plan_id), "--out", str(out),
               "--as-of", "2021-12-31", db=year.url, user="李审核")
    assert proc.returncode == 0, proc.stderr
    assert out.read_text(encoding="utf-8") == f"配置模板 {expected(year)['assignments']}\n"


@pytest.mark.parametrize("args,code,words", [
    (["--format", "pdf", "--out", "{out}.md"], 2, "--format pdf 无效"),
    (["--out", "{out}.pdf"], 2, "--format"),
    (["--out", "{out}.md", "--as-of", "2021-13-01"], 2, "2021-13-01"),
    (["--out", "{out}.md", "--templates", "{out}-missing"], 2, "--templates"),
    (["--out", "{dir}/no/such/folder/a.md"], 2, "不存在"),
])
def test_cli_bad_input_is_one_sentence_and_writes_nothing(year, tmp_path, args, code, words):
    folder = tmp_path / "out"  # the SQLite database lives in tmp_path itself
    folder.mkdir()
    args = [a.replace("{out}", str(folder / "report")).replace("{dir}", str(folder)) for a in args]
    proc = run("report", "annual", str(year.plan_id), *args, db=year.url, user="李审核")
    assert proc.returncode == code, proc.stderr
    assert words in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert list(folder.iterdir()) == []


def test_cli_unknown_plan_is_refused(world, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    proc = run("report", "annual", "999", "--out", str(folder / "a.md"), db=world.url, user="李审核")
    assert proc.returncode == 1
    assert proc.stderr.strip() == "错误：计划“999”不存在；可用 duban plan list 查看。"
    assert list(folder.iterdir()) == []


def test_cli_unpublished_plan_is_refused(db_url, tmp_path):
    from conftest import build_world

    world = build_world(db_url, publish=False)
    folder = tmp_path / "out"
    folder.mkdir()
    proc = run("report", "annual", str(world.plan_id), "--out", str(folder / "a.md"), db=world.url, user="李审核")
    assert proc.returncode == 1
    assert "没有已下发的事项" in proc.stderr and f"duban plan publish {world.plan_id}" in proc.stderr
    assert list(folder.iterdir()) == []


def test_cli_broken_office_template_is_one_sentence(world, tmp_path):
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "annual.md.j2").write_text("{% for x in %}\n", encoding="utf-8")
    out = tmp_path / "a.md"
    proc = run("report", "annual", str(world.plan_id), "--out", str(out), "--templates", str(folder), db=world.url, user="李审核")
    assert proc.returncode == 2
    assert "模板" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_package_ships_the_templates():
    shipped = {p.name for p in Path(annual.TEMPLATE_DIR).iterdir()}
    assert {"annual.md.j2", "annual.html.j2"} <= shipped
