"""The annual-report section 政务公开工作要点落实情况 (task 28 of the seed: 纳入年度报告).

A bureau's 政务公开工作年度报告 has a section on how the year's 工作要点 were carried
out. It is written in prose, so this module turns a `Ledger` into a context of counts,
lists and ready sentences (`annual_context`), and lays it out three ways:

- md and html from jinja2 templates (`templates/annual.md.j2`, `annual.html.j2`); an
  office's own `template_dir` is searched first, so it can restyle or reword the
  section without touching the package. The sentences are in the context as well as
  the numbers behind them, so a template may also write its own wording.
- docx with python-docx from the same context (not by converting html), because the
  report is finished in Word.

User text (requirements, summaries, delay reasons) only ever enters as context
*values*, never as template source: `{{ 7*7 }}` in a summary is printed as is. HTML
is autoescaped; markdown output escapes the characters that would start markup.
"""
from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Iterable

import states
from workflow.ledger.compute import Ledger, LedgerRow, Totals, period_label

SECTION_TITLE = "政务公开工作要点落实情况"
OTHER_CHAPTER = "其他"
FORMATS = ("md", "html", "docx")
TEMPLATE_DIR = Path(__file__).parent / "templates"
HIGHLIGHTS_PER_CHAPTER = 3
SUMMARY_LIMIT = 60  # characters of a quoted submission summary
TABLE_HEADERS = ["章节", "任务（项）", "办理事项（项）", "已办结（项）", "办结率", "未办结（项）", "其中逾期（项）"]

_CN_DIGITS = "零一二三四五六七八九"
_ROLE_RANK = {"lead": 0, "implement": 1, "coordinate": 2, "tech_support": 3, "cooperate": 4, "supervise": 5}
_CHAPTER_NUMBER = re.compile(r"^\s*[一二三四五六七八九十百]+\s*[、.．]\s*")
_WS = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")  # not allowed in XML (docx), noise elsewhere


# ---------------------------------------------------------------- formatting
def cn_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 21 → 二十一 (chapter numbering up to 99)."""
    if n < 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN_DIGITS[tens]) + "十" + (_CN_DIGITS[ones] if ones else "")


def percent(part: int, whole: int) -> str:
    """Share as a percentage with one decimal, rounded half up as people expect
    (1/8 → 12.5%, 1/80 → 1.3%); '—' when there is nothing to divide by."""
    if not whole:
        return "—"
    value = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{value}%"


def cn_date(day: dt.date | None) -> str:
    """2021-12-31 → 2021年12月31日 (the report's style: no zero padding, no weekday)."""
    return f"{day.year}年{day.month}月{day.day}日" if day else "未定"


def one_line(text: Any) -> str:
    """User text on one line: CR/LF and runs of spaces become one space, control
    characters go (python-docx refuses them and they mean nothing in a report)."""
    return _WS.sub(" ", _CONTROL.sub("", str(text or ""))).strip()


def clip(text: Any, limit: int = SUMMARY_LIMIT) -> str:
    """One line of at most `limit` characters, with … when cut; a trailing full stop is
    dropped so the text can sit inside quotation marks in a sentence."""
    line = one_line(text)
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line.rstrip("。；；，，")


def quote(text: str) -> str:
    """“text”, with quotation marks inside turned into single ones (‘六稳’), as in print."""
    return "“" + text.replace("“", "‘").replace("”", "’") + "”"


def seq_ranges(seqs: Iterable[int]) -> str:
    """[1, 2, 3, 5] → 第1–3、5项: how a report names a run of task numbers."""
    nums = sorted(set(seqs))
    parts: list[str] = []
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        parts.append(str(nums[i]) if i == j else f"{nums[i]}–{nums[j]}")
        i = j + 1
    return f"第{'、'.join(parts)}项" if parts else ""


def chapter_name(chapter: str | None) -> str:
    """The chapter's words without its own numbering (一、…), which the report replaces."""
    if not chapter or not chapter.strip():
        return OTHER_CHAPTER
    return _CHAPTER_NUMBER.sub("", one_line(chapter)) or OTHER_CHAPTER


def _md_escape(text: Any) -> str:
    """Escape what would start markdown or raw HTML inside running text."""
    return re.sub(r"([\\`*_\[\]<>|#])", r"\\\1", one_line(text))


# ---------------------------------------------------------------- context
@dataclass
class Counts:
    """What the report counts, over the assignments that were not cancelled."""

    tasks: int = 0
    assignments: int = 0
    done: int = 0
    open: int = 0
    overdue: int = 0  # open and past its due date
    due: int = 0  # should be finished by as_of: done + overdue
    on_time: int = 0
    done_late: int = 0

    @property
    def done_rate(self) -> str:
        return percent(self.done, self.assignments)

    @property
    def on_time_rate(self) -> str:
        return percent(self.on_time, self.due)


def count_rows(rows: list[LedgerRow]) -> Counts:
    """Counts of live (not cancelled) assignments: cancelled work is no longer owed.

    The done / due / on-time rules are the ledger's own (`Totals.add`), so the report
    and the ledger can never disagree on a rate."""
    live = [r for r in rows if r.state != "cancelled"]
    totals = Totals("")
    for r in live:
        totals.add(r)
    done = totals.states["done"]
    return Counts(tasks=len({r.task_seq for r in live}), assignments=len(live), done=done,
                  open=len(live) - done, overdue=totals.overdue, due=totals.due,
                  on_time=totals.on_time, done_late=totals.done_late)


@dataclass
class Chapter:
    number: str  # （一）
    name: str
    seqs: list[int]
    counts: Counts
    cancelled_seqs: list[int] = field(default_factory=list)  # tasks withdrawn entirely
    highlights: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""

    @property
    def seq_text(self) -> str:
        return seq_ranges(self.seqs)


def group_chapters(rows: list[LedgerRow]) -> list[tuple[str, list[LedgerRow]]]:
    """Rows by chapter in plan order (the importers carry a chapter down to every task
    under it); tasks without a chapter go under 其他, last."""
    groups: dict[str, list[LedgerRow]] = {}
    for r in sorted(rows, key=lambda r: (r.task_seq, r.assignment_id)):
        groups.setdefault(chapter_name(r.chapter), []).append(r)
    other = groups.pop(OTHER_CHAPTER, None)
    ordered = list(groups.items())
    if other:
        ordered.append((OTHER_CHAPTER, other))
    return ordered


def highlights(rows: list[LedgerRow], limit: int = HIGHLIGHTS_PER_CHAPTER) -> list[dict[str, Any]]:
    """A few representative results: the latest summaries of done work, leads first,
    one per task, so the paragraph names what was actually done."""
    candidates = [r for r in rows if r.state == "done" and one_line(r.latest_summary)]
    candidates.sort(key=lambda r: (_ROLE_RANK.get(r.role, 9), r.task_seq, r.assignment_id))
    picked: list[dict[str, Any]] = []
    seen: set[int] = set()
    for r in candidates:
        if r.task_seq in seen:
            continue
        seen.add(r.task_seq)
        picked.append({"seq": r.task_seq, "department": r.department, "summary": clip(r.latest_summary)})
        if len(picked) == limit:
            break
    return sorted(picked, key=lambda h: h["seq"])


def chapter_text(ch: Chapter) -> str:
    c = ch.counts
    withdrawn = (f"另有{seq_ranges(ch.cancelled_seqs)}任务因方案调整撤销。" if ch.cancelled_seqs else "")
    if not c.assignments:
        return f"本部分{seq_ranges(ch.cancelled_seqs)}任务因方案调整撤销，没有需要办理的事项。"
    text = (f"本部分共{c.tasks}项任务（{ch.seq_text}），分解为{c.assignments}项办理事项，"
            f"已办结{c.done}项，办结率{c.done_rate}")
    if c.open:
        text += f"；尚未办结{c.open}项" + (f"，其中逾期{c.overdue}项" if c.overdue else "")
    text += "。"
    if ch.highlights:
        said = "；".join(f"{h['department']}{quote(h['summary'])}" for h in ch.highlights)
        text += f"主要工作：{said}。"
    return text + withdrawn


def build_chapters(rows: list[LedgerRow]) -> list[Chapter]:
    chapters = []
    for i, (name, group) in enumerate(group_chapters(rows), start=1):
        live = {r.task_seq for r in group if r.state != "cancelled"}
        ch = Chapter(number=f"（{cn_number(i)}）", name=name, seqs=sorted(live), counts=count_rows(group),
                     cancelled_seqs=sorted({r.task_seq for r in group} - live), highlights=highlights(group))
        ch.text = chapter_text(ch)
        chapters.append(ch)
    return chapters


def delay_items(rows: list[LedgerRow]) -> list[dict[str, Any]]:
    """Every written delay request up to as_of: task, department, old → new date, reason."""
    items = []
    for r in rows:
        for d in r.delays:
            outcome = {"approved": "已同意延期", "rejected": "未同意延期，按原时限办理",
                       "pending": "延期申请待审核"}[d.outcome]
            items.append({
                "seq": r.task_seq, "department": r.department, "role_label": r.role_label,
                "old_due": cn_date(d.old_due), "new_due": cn_date(d.requested_due),
                "outcome": d.outcome, "outcome_label": outcome, "reason": one_line(d.reason),
                "state_label": r.state_label,
                "text": (f"第{r.task_seq}项（{r.department}{r.role_label}）：完成时限由{cn_date(d.old_due)}"
                         f"申请延至{cn_date(d.requested_due)}，{outcome}；书面说明理由："
                         f"{clip(d.reason, 200) or '未填写'}。"),
            })
    return sorted(items, key=lambda i: (i["seq"], i["department"]))


def unfinished_items(rows: list[LedgerRow]) -> list[dict[str, Any]]:
    """Open assignments on as_of, one item per task, period and due date, most overdue
    first: which departments still owe what, and for how long."""
    groups: dict[tuple, list[LedgerRow]] = {}
    for r in rows:
        if not states.is_closed(r.state):
            groups.setdefault((r.task_seq, r.period, r.due), []).append(r)
    items = []
    for (seq, period, due), group in groups.items():
        group.sort(key=lambda r: (_ROLE_RANK.get(r.role, 9), r.department))
        overdue = any(r.light == "red" for r in group)
        days = max(r.days_late for r in group) if overdue else 0
        who = "、".join(f"{r.department}（{r.role_label}，{r.state_label}）" for r in group)
        when = f"完成时限{cn_date(due)}，已逾期{days}个工作日" if overdue else f"完成时限{cn_date(due)}，尚在办理时限内"
        label = f"（{period_label(period)}）" if period else ""
        items.append({
            "seq": seq, "period": period, "period_label": period_label(period), "due": cn_date(due),
            "overdue": overdue, "days_overdue": days, "requirement": clip(group[0].requirement, 40),
            "departments": [{"department": r.department, "role_label": r.role_label,
                             "state_label": r.state_label} for r in group],
            "text": f"第{seq}项{label}{quote(clip(group[0].requirement, 40))}：{who}尚未办结，{when}。",
        })
    return sorted(items, key=lambda i: (-i["days_overdue"], i["seq"], i["period"]))


def overview_text(ledger: Ledger, c: Counts, departments: int, cancelled: int, tasks_done: int) -> str:
    text = (f"按照《{one_line(ledger.plan_title)}》要求，我局将年度政务公开工作要点分解为{c.tasks}项具体任务，"
            f"涉及{departments}个处室（单位），共{c.assignments}项办理事项。"
            f"截至{cn_date(ledger.as_of)}，已办结{c.done}项，办结率{c.done_rate}")
    if c.due:
        text += f"；应办结的{c.due}项中按时办结{c.on_time}项，按时办结率{c.on_time_rate}"
        if c.done_late:
            text += f"，逾期办结{c.done_late}项"
    text += f"。{c.tasks}项任务中，{tasks_done}项的全部办理事项已办结"
    if c.open:
        text += f"；尚未办结的办理事项{c.open}项" + (f"，其中逾期{c.overdue}项" if c.overdue else "")
    text += "。"
    if cancelled:
        text += f"另有{cancelled}项办理事项因方案调整撤销，未计入上述统计。"
    return text


def exceptions_text(as_of: dt.date, delays: list[dict], unfinished: list[dict]) -> str:
    """The opening sentence of 三、: what follows, or that there is nothing to report."""
    when = f"截至{cn_date(as_of)}"
    if not delays and not unfinished:
        return f"{when}，各项任务均已办结，没有申请延期的事项，也没有未完成的事项。"
    parts = []
    parts.append(f"共有{len(delays)}次延期申请，相关处室均书面说明了理由" if delays else "没有申请延期的事项")
    open_count = sum(len(item["departments"]) for item in unfinished)
    task_count = len({item["seq"] for item in unfinished})
    parts.append(f"尚有{task_count}项任务的{open_count}项办理事项未办结" if unfinished else "全部事项均已办结")
    return f"{when}，" + "，".join(parts) + "。"


def next_steps_text(c: Counts) -> str:
    first = (f"对尚未办结的{c.open}项办理事项逐项跟踪督办，明确责任处室和完成时限，确保落实到位；"
             if c.open else "巩固已完成任务的工作成果，做好公开内容的动态更新；")
    return ("下一步，我局将继续以政务公开工作要点为抓手，" + first
            + "进一步健全政务公开工作制度和督办机制，加强政策解读和回应关切，"
              "及时总结推广好的做法，推动政务公开工作提质增效。")


def annual_context(ledger: Ledger) -> dict[str, Any]:
    """Everything the templates and the docx builder lay out (they compute nothing)."""
    live = [r for r in ledger.rows if r.state != "cancelled"]
    c = count_rows(ledger.rows)
    by_task: dict[int, list[LedgerRow]] = {}
    for r in live:
        by_task.setdefault(r.task_seq, []).append(r)
    tasks_done = sum(all(r.state == "done" for r in rs) for rs in by_task.values())
    departments = len({r.department for r in live})
    cancelled = len(ledger.rows) - len(live)
    chapters = build_chapters(ledger.rows)
    delays = delay_items(ledger.rows)
    unfinished = unfinished_items(ledger.rows)
    return {
        "title": SECTION_TITLE,
        "plan_title": one_line(ledger.plan_title),
        "year": ledger.year,
        "as_of": cn_date(ledger.as_of),
        "counts": c,
        "departments": departments,
        "cancelled": cancelled,
        "tasks_done": tasks_done,
        "overview": overview_text(ledger, c, departments, cancelled, tasks_done),
        "chapters": chapters,
        "delays": delays,
        "unfinished": unfinished,
        "exceptions": exceptions_text(ledger.as_of, delays, unfinished),
        "next_steps": next_steps_text(c),
        "table": summary_table(chapters, c),
    }


def summary_table(chapters: list[Chapter], total: Counts) -> dict[str, Any]:
    """Per-chapter counts and a 合计 row, already formatted as strings."""
    def row(name: str, c: Counts) -> list[str]:
        return [name, str(c.tasks), str(c.assignments), str(c.done), c.done_rate, str(c.open), str(c.overdue)]

    return {"headers": TABLE_HEADERS,
            "rows": [row(f"{ch.number}{ch.name}", ch.counts) for ch in chapters],
            "total": row("合计", total)}


# ---------------------------------------------------------------- rendering
def render_annual(ledger: Ledger, fmt: str, template_dir: Path | str | None = None) -> str | bytes:
    """The section as markdown or html (str) or docx (bytes)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    context = annual_context(ledger)
    if fmt == "docx":
        return build_docx(context)
    return environment(template_dir).get_template(f"annual.{fmt}.j2").render(context)


def render_section(ledger: Ledger, fmt: str, template_dir: Path | str | None = None) -> str | bytes:
    """render_annual for a front end (the CLI's report annual, the web's download): a broken
    office template is one sentence (BadInput), not a traceback."""
    import jinja2

    from workflow.errors import BadInput

    try:
        return render_annual(ledger, fmt, template_dir)
    except jinja2.TemplateSyntaxError as exc:
        raise BadInput(f"模板 {exc.filename or exc.name} 第 {exc.lineno} 行有语法错误：{exc.message}。") from None
    except jinja2.UndefinedError as exc:
        raise BadInput(f"模板使用了不存在的变量：{exc.message}。可用变量见 workflow/reports/templates/annual.md.j2 开头的说明。") from None


def environment(template_dir: Path | str | None = None):
    """Templates: the office's folder first, then the package's own."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    loaders: list[jinja2.BaseLoader] = []
    if template_dir:
        loaders.append(jinja2.FileSystemLoader(str(template_dir)))
    loaders.append(jinja2.FileSystemLoader(str(TEMPLATE_DIR)))
    # An office's templates are user input: sandboxed, so a template can read the
    # variables it is given and nothing reachable from them (no __globals__, no os).
    env = SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = _md_escape
    env.filters["oneline"] = one_line
    return env


# ---------------------------------------------------------------- docx
# The layout of a government document (GB/T 9704-2012 党政机关公文格式): A4, margins
# top 37 mm, bottom 35 mm, left 28 mm, right 26 mm; body in 仿宋_GB2312 三号 (16 pt) on
# a fixed 28 pt line (22 lines a page); 一、 headings in 黑体, (一) headings in
# 楷体_GB2312; page numbers “— 1 —” in 宋体 四号 under the body.
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
TITLE_FONT = "方正小标宋简体"
PAGE_NUMBER_FONT = "宋体"
BODY_PT = 16  # 三号
TITLE_PT = 22  # 二号
TABLE_PT = 10.5  # 五号
PAGE_NUMBER_PT = 14  # 四号
LINE_PT = 28
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
CELL_PADDING_MM = 3.8  # Word's default cell margins, 0.19 cm each side
PT_MM = 25.4 / 72


def build_docx(context: dict[str, Any]) -> bytes:
    """The section as a Word document in the layout of a government report: title,
    一、二、… headings in 黑体, (一) chapter leads in 楷体, body in 仿宋 with a
    two-character first-line indent, and the per-chapter table."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    doc = Document()
    _page_setup(doc)
    _styles(doc)
    title = doc.add_paragraph(context["title"], style="Heading 1")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER

    _heading(doc, "一、总体情况")
    _body(doc, context["overview"])
    _table(doc, context["table"])

    _heading(doc, "二、分章节落实情况")
    for ch in context["chapters"]:
        p = _body(doc, "")
        _set_font(p.add_run(f"{ch.number}{ch.name}。"), SUBHEADING_FONT)
        p.add_run(ch.text)

    _heading(doc, "三、延期和未完成事项")
    _body(doc, context["exceptions"])
    if context["delays"]:
        _set_font(_body(doc, "延期事项：").runs[0], SUBHEADING_FONT)
        for item in context["delays"]:
            _body(doc, item["text"])
    if context["unfinished"]:
        _set_font(_body(doc, "未办结事项：").runs[0], SUBHEADING_FONT)
        for item in context["unfinished"]:
            _body(doc, item["text"])

    _heading(doc, "四、下一步工作")
    _body(doc, context["next_steps"])

    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _page_setup(doc: Any) -> None:
    """A4 with the GB/T 9704 margins; the page number “— N —” centred under the body."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    for side, mm in MARGINS_MM.items():
        setattr(section, f"{side}_margin", Mm(mm))
    section.header_distance = Mm(15)
    section.footer_distance = Mm(25)  # the number sits about 7 mm under the last line
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    fmt = footer.paragraph_format
    fmt.first_line_indent, fmt.space_before, fmt.space_after = Pt(0), Pt(0), Pt(0)
    _set_font(footer.add_run("— "), PAGE_NUMBER_FONT, Pt(PAGE_NUMBER_PT))
    _page_field(footer)
    _set_font(footer.add_run(" —"), PAGE_NUMBER_FONT, Pt(PAGE_NUMBER_PT))


def _page_field(paragraph: Any) -> None:
    """A PAGE field: Word and LibreOffice put the page's number in its place."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    def run_with(tag: str, **attrs: str) -> None:
        run = paragraph.add_run()
        _set_font(run, PAGE_NUMBER_FONT, Pt(PAGE_NUMBER_PT))
        el = OxmlElement(tag)
        for k, v in attrs.items():
            el.set(qn(k), v)
        if tag == "w:instrText":
            el.set(qn("xml:space"), "preserve")
            el.text = " PAGE "
        run._r.append(el)

    run_with("w:fldChar", **{"w:fldCharType": "begin"})
    run_with("w:instrText")
    run_with("w:fldChar", **{"w:fldCharType": "separate"})
    number = paragraph.add_run("1")
    _set_font(number, PAGE_NUMBER_FONT, Pt(PAGE_NUMBER_PT))
    run_with("w:fldChar", **{"w:fldCharType": "end"})


def _styles(doc: Any) -> None:
    """Normal: 仿宋_GB2312 三号, exactly 28 pt a line, no space between paragraphs, Chinese
    (zh-CN) as the East-Asian language of the whole document. Heading 1 is the title,
    Heading 2 the 一、 level: black, not bold, no theme colours or spacing."""
    from docx.enum.text import WD_LINE_SPACING
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    styles = doc.styles
    defaults = styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        for lang in defaults.iter(qn("w:lang")):
            lang.set(qn("w:eastAsia"), "zh-CN")
    for name, font, size, line, after in (("Normal", BODY_FONT, BODY_PT, LINE_PT, 0),
                                          ("Heading 1", TITLE_FONT, TITLE_PT, 36, LINE_PT),
                                          ("Heading 2", HEADING_FONT, BODY_PT, LINE_PT, 0)):
        style = styles[name]
        _set_font(style, font, Pt(size))
        _language(style)
        style.font.bold = False
        style.font.italic = False
        style.font.color.rgb = RGBColor(0, 0, 0)
        fmt = style.paragraph_format
        fmt.space_before, fmt.space_after = Pt(0), Pt(after)
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(line)
    styles["Heading 2"].paragraph_format.first_line_indent = Pt(2 * BODY_PT)
    styles["Heading 2"].paragraph_format.keep_with_next = True


def _language(style: Any) -> None:
    from docx.oxml.ns import qn

    rpr = style.element.get_or_add_rPr()
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = rpr.makeelement(qn("w:lang"), {})
        rpr.append(lang)
    lang.set(qn("w:val"), "zh-CN")
    lang.set(qn("w:eastAsia"), "zh-CN")


def _set_font(style_or_run: Any, name: str, size: Any = None) -> None:
    """Latin and East Asian font together: Word ignores `font.name` for Chinese text
    unless w:eastAsia is set too."""
    from docx.oxml.ns import qn

    style_or_run.font.name = name
    if size is not None:
        style_or_run.font.size = size
    rpr = style_or_run.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), name)
    fonts.attrib.pop(qn("w:asciiTheme"), None)
    fonts.attrib.pop(qn("w:eastAsiaTheme"), None)
    fonts.attrib.pop(qn("w:hAnsiTheme"), None)


def _heading(doc: Any, text: str) -> Any:
    return doc.add_paragraph(text, style="Heading 2")


def _body(doc: Any, text: str) -> Any:
    from docx.shared import Pt

    p = doc.add_paragraph(text)
    p.paragraph_format.first_line_indent = Pt(2 * BODY_PT)  # two characters
    return p


def text_chars(text: str) -> float:
    """Width in full-width characters: CJK 1, ASCII and digits a little over ½."""
    return sum(0.55 if ord(ch) < 0x2E80 and ch not in "—“”‘’…" else 1 for ch in text)


def column_widths(rows: list[list[str]], available_mm: float, size_pt: float) -> list[float]:
    """Widths (mm) by content: every column but the first as wide as its widest cell (a
    header breaks before its “（项）”), the first (章节) takes the rest, at least six
    characters, so it wraps a long chapter name over two lines, not four."""
    char_mm = size_pt * PT_MM
    need = []
    for j in range(len(rows[0])):
        widest = 0.0
        for i, row in enumerate(rows):
            parts = re.split(r"(?=（)", row[j]) if i == 0 else [row[j]]
            widest = max(widest, *(text_chars(p) for p in parts))
        need.append((widest + 0.3) * char_mm + CELL_PADDING_MM)
    rest = available_mm - sum(need[1:])
    first = max(rest, 6 * char_mm + CELL_PADDING_MM)
    if first > need[0]:
        first = need[0]
        spare = available_mm - first - sum(need[1:])
        need = [need[0]] + [w + spare / (len(need) - 1) for w in need[1:]]
    widths = [first, *need[1:]]
    scale = min(1.0, available_mm / sum(widths))
    return [w * scale for w in widths]


def _table(doc: Any, table: dict[str, Any]) -> Any:
    """The summary table: widths by content, the header row repeated on every page,
    no row split across a page break, numbers centred."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    rows = [table["headers"], *table["rows"], table["total"]]
    available = 210 - MARGINS_MM["left"] - MARGINS_MM["right"]
    widths = column_widths(rows, available, TABLE_PT)
    t = doc.add_table(rows=len(rows), cols=len(table["headers"]))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    for j, col in enumerate(t.columns):
        col.width = Mm(widths[j])
    for i, values in enumerate(rows):
        row = t.rows[i]
        trpr = row._tr.get_or_add_trPr()
        trpr.append(OxmlElement("w:cantSplit"))
        if i == 0:
            trpr.append(OxmlElement("w:tblHeader"))
        for j, value in enumerate(values):
            cell = row.cells[j]
            cell.width = Mm(widths[j])
            p = cell.paragraphs[0]
            fmt = p.paragraph_format
            fmt.first_line_indent, fmt.space_before, fmt.space_after = Pt(0), Pt(0), Pt(0)
            fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
            fmt.line_spacing = Pt(TABLE_PT * 1.5)
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER if (i == 0 or j > 0) else WD_ALIGN_PARAGRAPH.LEFT
            run = p.add_run(value)
            _set_font(run, HEADING_FONT if i == 0 else BODY_FONT, Pt(TABLE_PT))
            run.bold = i == len(rows) - 1
    return t
