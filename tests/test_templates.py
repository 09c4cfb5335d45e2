"""Mail templates: every kind renders in Chinese, subjects are safe, user text stays inert."""
import datetime as dt
import re

import jinja2
import pytest

from notifications.render import (DIGEST_KINDS, EVENT_KINDS, KINDS, event_context, render,
                                  sanitize_header)
from workflow.reports.tabular import LIGHT_FILL, LIGHT_INK

# Pictographs and the coloured circles/squares the lights once were.
EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\u2B00-\u2BFF]")

PLAN = "2021年政务公开工作要点分工方案"


def ctx(**over):
    values = dict(plan_title=PLAN, task_seq=7, requirement="推进“互联网+监管”信息公开。",
                  department="科监处", role_label="牵头", period="2021Q4",
                  due_date=dt.date(2021, 11, 30), new_due=dt.date(2021, 12, 15),
                  old_due=dt.date(2021, 11, 30), actor="赵六", on_behalf_of=None,
                  comment="请补充数据来源。", reason="系统升级延误", summary="已按要求完成。",
                  state_label="已退回", trigger_label="退回")
    values.update(over)
    return event_context(**values)


def digest_ctx(**over):
    item = dict(plan_title=PLAN, task_seq=9, requirement="按季度公开执法信息", department="装财处",
                role_label="牵头", period="2021Q3", due_date=dt.date(2021, 9, 30), light="🔴",
                light_label="逾期", note="已逾期 1 个工作日")
    values = dict(recipient_name="张三", today=dt.date(2021, 10, 8), total=3,
                  counts={"escalation": 1, "overdue": 1, "due_today": 0, "before": 1,
                          "review_waiting": 0},
                  sections=[{"key": "escalation", "title": "逾期升级", "items": [item]},
                            {"key": "overdue", "title": "已逾期", "items": [item]},
                            {"key": "before", "title": "即将到期",
                             "items": [dict(item, light="🟡", light_label="临期")]}])
    values.update(over)
    return values


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_event_kinds(kind):
    r = render(kind, ctx())
    assert r.subject.startswith("【督办】")
    assert PLAN in r.subject and "第7项" in r.subject and "科监处" in r.subject
    assert "\n" not in r.subject and "\r" not in r.subject
    for body in (r.text, r.html):
        assert PLAN in body and "科监处" in body and "2021年11月30日" in body
        assert "2021年第4季度" in body
    assert r.html.lstrip().startswith("<!DOCTYPE html>") and 'lang="zh-CN"' in r.html


@pytest.mark.parametrize("kind, words", [
    ("distributed", ["已下发", "签收"]),
    ("submitted", ["请审核", "已按要求完成。"]),
    ("approved", ["已办结", "审核通过"]),
    ("sent_back", ["退回", "请补充数据来源。"]),
    ("delay_requested", ["申请延期", "系统升级延误", "2021年12月15日"]),
    ("delay_approved", ["同意", "2021年12月15日", "2021年11月30日"]),
    ("delay_rejected", ["未获同意", "完成时限不变"]),
    ("cancelled", ["撤销", "系统升级延误"]),
    ("reopened", ["重新", "系统升级延误"]),
])
def test_event_specific_content(kind, words):
    r = render(kind, ctx())
    for word in words:
        assert word in r.text and word in r.html


def test_on_behalf_of_is_shown():
    r = render("submitted", ctx(actor="李四", on_behalf_of="张三"))
    assert "李四（代 张三）" in r.text and "李四（代 张三）" in r.html


@pytest.mark.parametrize("kind", DIGEST_KINDS)
def test_digest_kinds(kind):
    r = render(kind, digest_ctx())
    assert r.subject.startswith("【督办】") and "3" in r.subject
    for body in (r.text, r.html):
        assert "逾期" in body and "临期" in body and "红灯" in body and "黄灯" in body
        assert "逾期升级" in body and "即将到期" in body and "装财处" in body
        assert "2021年第3季度" in body and "已逾期 1 个工作日" in body
    assert "【逾期】" in r.text and "【正常】绿灯" in r.text
    assert "#" + LIGHT_FILL["red"] in r.html and "#" + LIGHT_INK["red"] in r.html  # a coloured badge
    for body in (r.text, r.html, r.subject):
        assert not EMOJI.search(body)  # a client without a colour-emoji font shows an empty box


def test_digest_subjects_give_counts():
    assert "3项" in render("reminder", digest_ctx()).subject
    assert "其中1项已逾期" in render("reminder", digest_ctx()).subject
    assert "1项任务逾期" in render("escalation", digest_ctx()).subject
    assert "3项报送等待审核" in render("review_waiting", digest_ctx()).subject


def test_test_kind():
    r = render("test", {"sender": "督办系统 <duban@localhost>", "sent_at": "2021-09-24 09:00:00"})
    assert r.subject == "【督办】测试邮件" and "测试邮件" in r.text


def test_header_injection_is_flattened():
    evil = "装财处\r\nBcc: victim@example.com\n\nX"
    r = render("distributed", ctx(department=evil, plan_title="方案\r\n标题"))
    assert "\r" not in r.subject and "\n" not in r.subject
    assert "装财处 Bcc: victim@example.com X" in r.subject


def test_subject_is_capped():
    r = render("distributed", ctx(plan_title="很长的方案标题" * 100))
    assert len(r.subject) <= 200 and r.subject.endswith("…")


def test_sanitize_header():
    assert sanitize_header(" a\r\n\tb\x00c  ") == "a b c"
    assert sanitize_header(None) == ""
    assert len(sanitize_header("字" * 500, 50)) == 50


def test_user_text_is_never_a_template():
    r = render("sent_back", ctx(comment="{{ 7*7 }} {% for x in y %}", requirement="{{ config }}"))
    assert "{{ 7*7 }} {% for x in y %}" in r.text and "49" not in r.text
    assert "{{ 7*7 }}" in r.html and "{{ config }}" in r.text


def test_html_is_escaped_text_is_not():
    r = render("sent_back", ctx(comment="<script>alert(1)</script> & 说明"))
    assert "<script>" not in r.html and "&lt;script&gt;" in r.html and "&amp; 说明" in r.html
    assert "<script>alert(1)</script> & 说明" in r.text


def test_strict_undefined():
    with pytest.raises(jinja2.UndefinedError):
        render("distributed", {"plan_title": PLAN})


def test_event_context_rejects_unknown_keys():
    with pytest.raises(TypeError):
        event_context(plan="x")
    assert event_context()["comment"] is None


def test_unknown_kind():
    with pytest.raises(ValueError):
        render("nonsense", {})


def test_user_templates_override_one_kind(tmp_path):
    (tmp_path / "distributed.subject.txt").write_text("【督办】{{ department }}请签收第{{ task_seq }}项")
    (tmp_path / "_footer.txt").write_text("\n--\n某某局政务公开办\n")
    r = render("distributed", ctx(), templates_dir=tmp_path)
    assert r.subject == "【督办】科监处请签收第7项"
    assert "某某局政务公开办" in r.text
    # other kinds and the HTML still come from the package
    assert "已下发" in r.html
    assert render("approved", ctx(), templates_dir=tmp_path).subject.startswith("【督办】已办结")


def test_subject_prefix_is_enforced_on_overrides(tmp_path):
    (tmp_path / "approved.subject.txt").write_text("办结:{{ department }}")
    assert render("approved", ctx(), templates_dir=tmp_path).subject == "【督办】办结:科监处"


def test_every_kind_has_three_templates():
    from notifications.render import PACKAGE_TEMPLATES

    for kind in KINDS:
        for suffix in (".subject.txt", ".txt", ".html"):
            assert (PACKAGE_TEMPLATES / f"{kind}{suffix}").is_file(), kind + suffix
