"""The rows a reminder sweep writes, whole: every outbox row (key, kind, recipient, the
stored context's exact JSON text, the other columns) and every reminder_log row, on each
backend. The sweep builds its contexts from texts serialised once per item
(db/jsontext.py) and inserts without the ORM; what it stores must stay exactly what
serialising each digest's context whole stores (json.dumps of render.stored_context),
and the log rows exactly one per item of each digest, in order."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, text
from sqlmodel import Session

from db.engine import make_engine
from db.jsontext import JSONText, array, compose, dumps
from db.models import Notification, ReminderLog
from mailkit import World, stamp
from notifications.render import stored_context
from workflow.calendar import WorkCalendar
from workflow.config import Config, RemindPolicy
from workflow.lifecycle.audit import anchor
from workflow.reminders.sweep import plan_reminders, run_reminders

D = dt.date
DAY = D(2021, 10, 12)
POLICY = RemindPolicy(overdue_every=3, escalate_after=4)  # 10-12: 4th working day overdue, both kinds
N, L = Notification.__table__, ReminderLog.__table__


@pytest.fixture
def swept(db_url):
    """Two departments, a head, a reviewer, a supervisor; every kind of item due on DAY."""
    w = World(make_engine(db_url))
    cal = WorkCalendar()
    zc, kj = w.dept("装财处", email="zcc@example.gov.cn"), w.dept("科监处")
    w.user("张三", zc, ["staff"], "Zhang@example.gov.cn")  # mixed case: the log keeps it lower-cased
    wang = w.user("王五", zc, ["staff", "head"], "wang@example.gov.cn")
    li = w.user("李四", kj, ["staff"], "li@example.gov.cn")
    w.user("赵六", None, ["reviewer"], "zhao@example.gov.cn")
    w.user("钱七", None, ["supervisor"], "qian@example.gov.cn")
    plan = w.plan()
    t = [w.task(plan, seq, f"第{seq}项：“引号”与\\反斜杠\n换行") for seq in range(1, 6)]
    w.assignment(plan, t[0], zc, D(2021, 9, 30), "in_progress", period="2021Q3")  # overdue + escalation
    w.assignment(plan, t[1], zc, DAY, "assigned")  # due today
    w.assignment(plan, t[2], kj, cal.add_workdays(DAY, 1), "returned", role="cooperate")  # before
    w.assignment(plan, t[3], kj, D(2021, 9, 30), "assigned")  # kj overdue too: li, no head
    waiting = w.assignment(plan, t[4], kj, D(2021, 12, 31), "submitted", period="2021Q4")
    w.event(waiting, plan, "submit", li, stamp(cal.add_workdays(DAY, -4)))  # 4 working days waiting
    first = _run(w, cal)
    w.assignment(plan, w.task(plan, 6, "后来的"), zc, DAY, "in_progress")  # qualifies after the first run
    second = _run(w, cal)
    return w, cal, first, second, wang


def _run(w, cal):
    with Session(w.engine) as s:
        report = run_reminders(s, DAY, POLICY, cal, Config())
        s.commit()
    return report


def test_the_outbox_rows_are_the_digests_contexts_serialised_whole(swept):
    w, cal, first, second, _ = swept
    with w.engine.connect() as conn:
        rows = conn.execute(select(N.c.id, N.c.key, N.c.kind, N.c.recipient, N.c.subject, N.c.text,
                                   N.c.html, N.c.status, N.c.attempts, N.c.next_attempt_at,
                                   N.c.last_error, N.c.event_id, N.c.assignment_id, N.c.sent_at,
                                   text("CAST(context AS TEXT)")).order_by(N.c.id)).all()
        line = anchor(conn, DAY).line
    assert [(r.key, r.kind, r.recipient) for r in rows] == [
        ("remind:2021-10-12:li@example.gov.cn", "reminder", "李四 <li@example.gov.cn>"),
        ("remind:2021-10-12:qian@example.gov.cn", "escalation", "钱七 <qian@example.gov.cn>"),
        ("remind:2021-10-12:wang@example.gov.cn", "escalation", "王五 <wang@example.gov.cn>"),
        ("remind:2021-10-12:zcc@example.gov.cn", "reminder", "装财处 <zcc@example.gov.cn>"),
        ("remind:2021-10-12:zhang@example.gov.cn", "reminder", "张三 <Zhang@example.gov.cn>"),
        ("remind:2021-10-12:zhao@example.gov.cn", "review_waiting", "赵六 <zhao@example.gov.cn>"),
        ("remind:2021-10-12:wang@example.gov.cn:2", "reminder", "王五 <wang@example.gov.cn>"),
        ("remind:2021-10-12:zcc@example.gov.cn:2", "reminder", "装财处 <zcc@example.gov.cn>"),
        ("remind:2021-10-12:zhang@example.gov.cn:2", "reminder", "张三 <Zhang@example.gov.cn>"),
    ]
    assert all((r.subject, r.text, r.html, r.status, r.attempts, r.next_attempt_at, r.last_error,
                r.event_id, r.assignment_id, r.sent_at) == ("", "", None, "pending", 0, None, None,
                                                            None, None, None) for r in rows)
    digests = {d.key: d for d in first.digests + second.digests}
    assert len(digests) == len(rows) == first.enqueued + second.enqueued
    for row in rows:
        digest = digests[row.key]
        assert digest.anchor == (line if "qian" in row.key else None)
        whole = stored_context(digest.context(), Config().templates_dir)  # sections built and stored whole
        assert row[-1] == json.dumps(whole), row.key


def test_the_log_has_one_row_per_item_of_each_digest_in_order(swept):
    w, cal, first, second, wang = swept
    with w.engine.connect() as conn:
        ids = dict(conn.execute(select(N.c.key, N.c.id)).all())
        log = conn.execute(select(L.c.day, L.c.recipient, L.c.kind, L.c.assignment_id,
                                  L.c.notification_id).order_by(L.c.id)).all()
    expected = [(DAY, d.email.lower(), i.kind, i.assignment_id, ids[d.key])
                for d in first.digests + second.digests for i in d.items]
    assert [tuple(r) for r in log] == expected
    assert len(log) == 14 and {r.recipient for r in log} == {
        "li@example.gov.cn", "qian@example.gov.cn", "wang@example.gov.cn", "zcc@example.gov.cn",
        "zhang@example.gov.cn", "zhao@example.gov.cn"}
    assert [(r.kind, r.notification_id == ids["remind:2021-10-12:wang@example.gov.cn:2"])
            for r in log if r.recipient == "wang@example.gov.cn"] == [
        ("escalation", False), ("due_today", False), ("due_today", True)]
    assert first.items == {"escalation": 2, "due_today": 1, "before": 1, "review_waiting": 1}
    assert (second.enqueued, second.already, second.items) == (3, 3, {"due_today": 1})


def test_a_second_sweep_the_same_day_writes_nothing(swept):
    w, cal, *_ = swept
    with w.engine.connect() as conn:
        before = (conn.execute(select(N.c.id)).all(), conn.execute(select(L.c.id)).all())
    report = _run(w, cal)
    with w.engine.connect() as conn:
        assert (conn.execute(select(N.c.id)).all(), conn.execute(select(L.c.id)).all()) == before
    assert report.enqueued == 0 and report.already == 6


def test_plan_alone_matches_what_was_sent(swept):
    """plan_reminders the same day (a preview) lists the digests the two runs enqueued."""
    w, cal, first, second, _ = swept
    with Session(w.engine) as s:
        planned = plan_reminders(s, DAY, POLICY, cal)
    sent = {(d.email.lower(), i.kind, i.assignment_id) for d in first.digests + second.digests for i in d.items}
    assert {(d.email.lower(), i.kind, i.assignment_id) for d in planned for i in d.items} == sent


# --- db/jsontext.py -----------------------------------------------------------------

VALUES = [None, True, 0, -7, 1.5, "", "中文“引号”\\\n\t\u2028\x00", [], {}, [[]], {"a": {}},
          {"k": [1, "二", None, {"$date": "2021-10-12"}], "z": {"y": [True, 2.25]}}]


@pytest.mark.parametrize("value", VALUES)
def test_compose_is_json_dumps(value):
    """compose of a structure whose parts are already texts is json.dumps of the whole."""
    assert compose(value).text == json.dumps(value)
    wrapped = ({k: JSONText(dumps(v)) for k, v in value.items()} if isinstance(value, dict)
               else [JSONText(dumps(v)) for v in value] if isinstance(value, list) else JSONText(dumps(value)))
    assert compose(wrapped).text == json.dumps(value)
    if isinstance(value, list):
        assert array([dumps(v) for v in value]).text == json.dumps(value)


def test_compose_refuses_what_json_would_change():
    with pytest.raises(TypeError):
        compose({1: "a"})  # json.dumps would store the key as "1"
    with pytest.raises(TypeError):
        json.dumps({"a": JSONText("1")})  # a text never passes for a string by mistake


def test_the_engine_stores_a_text_as_it_is(db_url):
    """On both backends a JSONText is stored as its text and reads back as its value."""
    value = {"b": [1, "二", {"$date": "2021-10-12"}], "a": None}
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(N.insert(), [
            {"key": k, "kind": "reminder", "recipient": "x@example.gov.cn", "subject": "", "text": "",
             "status": "pending", "attempts": 0, "created_at": dt.datetime(2021, 10, 12, 9), "context": c}
            for k, c in (("plain", value), ("text", compose(value)))])
        stored = dict(conn.execute(select(N.c.key, text("CAST(context AS TEXT)"))).all())
        read = dict(conn.execute(select(N.c.key, N.c.context)).all())
    assert stored["text"] == stored["plain"] == json.dumps(value)
    assert read["text"] == read["plain"] == value
