"""Full-width punctuation in the Chinese that duban writes (，：；（） next to Chinese),
while what users typed stays exactly as written.

Two checks: the literal text of every template, and the outputs duban renders (ledger
md, html and xlsx headers, the annual section in md, html and docx, every mail kind)
from values that themselves contain no ASCII punctuation, so any hit is duban's own.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import html as htmllib
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest

from notifications.render import DIGEST_KINDS, EVENT_KINDS, event_context, render
from test_ledger_formats import base_rows, build_ledger
from workflow.ledger.compute import DelayRecord, LedgerRow
from workflow.reports import annual
from workflow.reports.html import render_html
from workflow.reports.markdown import render_markdown
from workflow.reports.xlsx import write_xlsx

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted([*(ROOT / "notifications" / "templates").iterdir(),
                    *(ROOT / "workflow" / "reports" / "templates").iterdir(),
                    *(ROOT / "web" / "templates").iterdir()])

CJK = r"[\u2e80-\u9fff\u3000-\u303f\uff00-\uffef“”‘’—…]"
ASCII_NEXT_TO_CJK = re.compile(rf"(?<={CJK})\s*[,:;()]|[,:;()]\s*(?={CJK})")
FULL_WIDTH = str.maketrans({",": "，", ":": "：", ";": "；", "(": "（", ")": "）"})
EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF]")


def hits(text: str) -> list[str]:
    """Each ASCII , : ; ( ) next to a Chinese character, with a little context."""
    return [text[max(0, m.start() - 12):m.end() + 12] for m in ASCII_NEXT_TO_CJK.finditer(text)]


class Text(HTMLParser):
    """The text a reader sees in an html page (not its CSS, not its tags)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("style", "script")
        self.parts.append("\n")

    def handle_endtag(self, tag):
        self.skip -= tag in ("style", "script")
        self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = Text()
    parser.feed(html)
    return "".join(parser.parts)


# --- the templates' own words ----------------------------------------------------------

def template_words(source: str) -> str:
    """What a template writes itself: its text outside tags and CSS, and the string
    literals inside its {{ }} and {% %} expressions. A {{ value }} stands in as a Chinese
    character (〇): what is written around a name or a count, as in “处室(牵头)”, is
    duban's own."""
    source = re.sub(r"<style.*?</style>", "", source, flags=re.S)
    literals = re.findall(r'"([^"]*)"', " ".join(re.findall(r"\{\{.*?\}\}|\{%.*?%\}", source, re.S)))
    source = re.sub(r"\{\{.*?\}\}", "〇", source, flags=re.S)
    source = re.sub(r"\{%.*?%\}", " ", source, flags=re.S)
    source = re.sub(r"<[^>]*>", " ", source)
    return source + "\n" + "\n".join(literals)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_template_text_is_full_width(path):
    assert not hits(template_words(path.read_text(encoding="utf-8"))), path.name
    assert not EMOJI.search(path.read_text(encoding="utf-8")), path.name


def test_the_scan_finds_half_width_punctuation():
    assert hits("完成时限:2021年") and hits("处室(牵头)") and hits("已办结,") and not hits("完成时限：2021年")


# --- rendered outputs -----------------------------------------------------------------

def clean(value):
    """A user value without ASCII punctuation (what duban adds is then all there is)."""
    return value.translate(FULL_WIDTH) if isinstance(value, str) else value


def clean_row(row: LedgerRow) -> LedgerRow:
    values = {f.name: clean(getattr(row, f.name)) for f in dataclasses.fields(row)}
    values["delays"] = [dataclasses.replace(d, reason=clean(d.reason)) for d in row.delays]
    return LedgerRow(**values)


@pytest.fixture(scope="module")
def ledger():
    rows = [clean_row(r) for r in base_rows()]
    rows[3].delays = [DelayRecord(dt.date(2021, 9, 10), dt.date(2021, 9, 20), dt.date(2021, 10, 15),
                                  "需等待市级平台接口", "approved", dt.date(2021, 9, 12))]
    ledger = build_ledger(rows)
    return dataclasses.replace(ledger, plan_title=clean(ledger.plan_title))


@pytest.mark.parametrize("by", ["task", "department"])
def test_ledger_outputs(ledger, by, tmp_path):
    assert not hits(htmllib.unescape(render_markdown(ledger, by)))  # &lt; is not a semicolon
    assert not hits(visible(render_html(ledger, by)))
    path = tmp_path / "台账.xlsx"
    write_xlsx(ledger, path, by)
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        words = [str(c.value) for c in ws[1]] + [ws.oddHeader.center.text or "", ws.oddFooter.center.text or ""]
        assert not hits("\n".join(words)), ws.title


def test_annual_section(ledger):
    assert not hits(htmllib.unescape(annual.render_annual(ledger, "md")))
    assert not hits(visible(annual.render_annual(ledger, "html")))
    import docx

    doc = docx.Document(io.BytesIO(annual.render_annual(ledger, "docx")))
    text = "\n".join(p.text for p in doc.paragraphs)
    text += "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "。" in text and not hits(text)


def event(**over):
    values = dict(plan_title="2021年政务公开工作要点分工方案", task_seq=7, requirement="推进信息公开。",
                  department="科监处", role_label="牵头", period="2021Q4", due_date=dt.date(2021, 11, 30),
                  new_due=dt.date(2021, 12, 15), old_due=dt.date(2021, 11, 30), actor="赵六",
                  on_behalf_of="张三", comment="请补充数据来源。", reason="系统升级延误", summary=None,
                  state_label="已退回", trigger_label="退回")
    values.update(over)
    return event_context(**values)


def digest():
    item = dict(plan_title="2021年政务公开工作要点分工方案", task_seq=9, requirement="按季度公开执法信息",
                department="局政务公开办", role_label="牵头", period="2021Q3", due_date=dt.date(2021, 9, 30),
                light="red", light_label="逾期", note="已逾期 1 个工作日")
    return dict(recipient_name="张三", today=dt.date(2021, 10, 8), total=2,
                counts={"escalation": 1, "overdue": 1, "due_today": 0, "before": 0, "review_waiting": 0},
                sections=[{"key": "escalation", "title": "逾期升级", "items": [item]},
                          {"key": "overdue", "title": "已逾期", "items": [dict(item, light="yellow",
                                                                            light_label="临期")]}])


@pytest.mark.parametrize("kind", [*EVENT_KINDS, *DIGEST_KINDS, "test"])
def test_every_mail_kind(kind):
    if kind in DIGEST_KINDS:
        context = digest()
    elif kind == "test":
        context = {"sender": "duban@example.gov.cn", "sent_at": "2021年10月8日 09:00"}
    else:
        context = event()
    mail = render(kind, context)
    for part in (mail.subject, mail.text, visible(mail.html)):
        assert not hits(part), (kind, hits(part))
        assert not EMOJI.search(part)


def test_distribution_mail_lists_its_items_on_their_own_lines():
    summary = "本次下发给贵处室的事项：\n第 7 项（牵头），完成时限 2021-11-30"
    text = render("distributed", event(summary=summary)).text
    assert "\n本次下发给贵处室的事项：\n" in text
    assert re.search(r"完成时限：2021年11月30日（星期二）\n\n本次下发", text)


def test_user_text_is_kept_as_written():
    mail = render("submitted", event(summary="已公开(见专栏),网址:http://x.gov.cn;完毕"))
    assert "已公开(见专栏),网址:http://x.gov.cn;完毕" in mail.text
    ledger = build_ledger(base_rows())
    assert "第1项:按要求公开相关信息。" in render_markdown(ledger)  # the plan's own colon
