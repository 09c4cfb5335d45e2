"""Event mails are stored as kind + context and rendered when sent: what goes out must be
exactly what rendering inside the transaction would have produced — same subject, text and
html, same Message-ID — and the row keeps what was sent."""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import json

import pytest
from sqlalchemy import text
from sqlmodel import Session

from conftest import drive
from db.engine import make_engine
from notifications.backends import MailConfig
from db.instance import instance_id
from notifications.outbox import dispatch, list_rows, message_id
from notifications.render import EVENT_KINDS, event_context, render, render_stored, stored_context
from workflow.lifecycle.service import transition
from workflow.lifecycle.engine import Fields

def _lines(value: str) -> list[str]:
    return value.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n").split("\n")


HOSTILE = "<script>alert(1)</script> {{ 7*7 }} 第一行\r\n第二行 &amp;"


def _context(kind: str) -> dict:
    return event_context(
        plan_title="测试局2021年政务公开工作要点分工方案", task_seq=3, requirement=HOSTILE,
        department="装财处", role_label="牵头", period="2021Q3", due_date=dt.date(2021, 11, 30),
        new_due=dt.date(2021, 12, 31) if kind.startswith("delay") else None,
        old_due=dt.date(2021, 11, 30) if kind.startswith("delay") else None,
        actor="张三", on_behalf_of="李四" if kind == "submitted" else None, comment=HOSTILE,
        reason=HOSTILE, summary=HOSTILE, state_label="已报送", trigger_label="报送")


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_stored_context_renders_like_the_context(kind, tmp_path):
    """Through JSON and back (as the database keeps it), with and without an office's templates."""
    (tmp_path / f"{kind}.subject.txt").write_text("本局：{{ department }}，{{ due_date | cn_date }}", encoding="utf-8")
    for folder in (None, tmp_path):
        stored = json.loads(json.dumps(stored_context(_context(kind), folder)))
        assert render_stored(kind, stored) == render(kind, _context(kind), folder)
    assert render_stored(kind, json.loads(json.dumps(stored_context(_context(kind), tmp_path)))).subject \
        .startswith("【督办】本局：装财处，2021年11月30日")


def test_a_fired_mail_is_sent_as_it_would_have_been_rendered(world, tmp_path):
    aid = world.assignment(1, "装财处")
    drive(world, aid, "in_progress")
    transition(world.app("张三"), aid, "submit", Fields(summary=HOSTILE))
    engine = make_engine(world.url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, key, kind, subject, text, html, context FROM notification "
                                 "WHERE kind = 'submitted' ORDER BY id")).all()
    assert rows and all(r.subject == "" and r.text == "" and r.context for r in rows)
    ctx = json.loads(rows[0].context) if isinstance(rows[0].context, str) else rows[0].context
    # What the immediate path rendered: the same values, typed out here from the world.
    expected = render("submitted", event_context(
        plan_title="测试局2021年政务公开工作要点分工方案", task_seq=1, requirement="推进预算、决算公开。",
        department="装财处", role_label="牵头", period="", due_date=dt.date(2021, 11, 30), actor="张三",
        summary=HOSTILE.strip(), state_label="已报送", trigger_label="报送"))
    assert render_stored("submitted", ctx) == expected

    with Session(engine) as s:  # `outbox list` shows the subject before anything is sent
        listed = {r.key: r.subject for r in list_rows(s)}
    assert listed[rows[0].key] == expected.subject

    folder = tmp_path / "mail"
    config = MailConfig(backend="file", dir=folder)
    report = dispatch(engine, config)
    assert report.sent >= len(rows) and report.failed == 0
    sent = {m["Message-ID"]: m for m in (email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
                                         for p in folder.glob("*.eml"))}
    for r in rows:
        msg = sent[message_id(r.key, instance_id(engine), config.id_domain)]
        assert str(msg["Subject"]) == expected.subject
        # (MIME text travels with CRLF line ends: the user's lone CR comes back as a line end)
        assert _lines(msg.get_body(("plain",)).get_content()) == _lines(expected.text + "\n")
        assert _lines(msg.get_body(("html",)).get_content()) == _lines(expected.html + "\n")
    with engine.connect() as conn:  # the row now keeps what went out
        stored = conn.execute(text("SELECT subject, text, html, status FROM notification WHERE id = :i"),
                              {"i": rows[0].id}).one()
    engine.dispose()
    assert tuple(stored) == (expected.subject, expected.text, expected.html, "sent")
