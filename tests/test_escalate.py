"""The `escalate` trigger: added with states/ (one Transition), one mail template and the
command — the engine, the mails and the ledger took it from states/ unchanged."""
from __future__ import annotations

import pytest
from sqlmodel import select

from cli_helpers import run
from commands.lifecycle import transition
from conftest import drive, snapshot
from db.models import Event, Notification
from notifications.outbox import rendered_row
from workflow.errors import InvalidMove, MissingField, NotPermitted
from workflow.lifecycle.engine import Fields

OVERDUE = "2021-12-06"  # the test plan's items are due 2021-11-30


def _mails(world, kind: str) -> list[Notification]:
    with world.session() as s:
        return list(s.exec(select(Notification).where(Notification.kind == kind)).all())


def test_the_office_escalates_an_overdue_item_to_the_department_head(world):
    aid = world.assignment(1, "装财处")
    drive(world, aid, "in_progress")
    result = transition(world.app("李审核", today=OVERDUE), aid, "escalate", Fields(comment="已逾期,请督促"))
    assert (result.from_state, result.to_state) == ("in_progress", "in_progress")
    with world.session() as s:
        event = s.exec(select(Event).where(Event.id == result.event_id)).one()
    assert (event.trigger, event.comment) == ("escalate", "已逾期,请督促")
    mails = _mails(world, "escalated")
    recipients = " ".join(m.recipient for m in mails)
    assert "钱处长" in recipients  # the department's head
    assert "张三" not in recipients  # not the whole department
    assert all(m.assignment_id == aid for m in mails)
    mail = rendered_row(mails[0])  # rows hold the context; the dispatcher renders it
    assert "督办升级" in mail.subject and "已逾期,请督促" in mail.text


def test_an_item_not_yet_overdue_cannot_be_escalated(world):
    aid = world.assignment(1, "装财处")
    before = snapshot(world)
    with pytest.raises(InvalidMove, match="尚未逾期"):
        transition(world.app("李审核", today="2021-11-30"), aid, "escalate", Fields(comment="催办"))
    assert snapshot(world) == before


def test_escalation_needs_a_comment_and_a_reviewer(world):
    aid = world.assignment(1, "装财处")
    with pytest.raises(MissingField):
        transition(world.app("李审核", today=OVERDUE), aid, "escalate", Fields())
    with pytest.raises(NotPermitted):
        transition(world.app("钱处长", today=OVERDUE), aid, "escalate", Fields(comment="催办"))


def test_closed_items_are_not_escalated(world):
    aid = world.assignment(1, "装财处")
    drive(world, aid, "done")
    with pytest.raises(InvalidMove):
        transition(world.app("李审核", today=OVERDUE), aid, "escalate", Fields(comment="催办"))


def test_the_command(world):
    aid = str(world.assignment(1, "装财处"))
    refused = run("task", "escalate", aid, db=world.url, user="李审核", today=OVERDUE)
    assert refused.returncode == 2 and "需要填写意见（--comment）" in refused.stderr
    done = run("task", "escalate", aid, "--comment", "请处室负责人督促", "--json",
               db=world.url, user="李审核", today=OVERDUE)
    assert done.returncode == 0, done.stderr
    assert '"state": "assigned"' in done.stdout
    history = run("task", "history", aid, db=world.url, user="李审核", today=OVERDUE)
    assert "督办升级" in history.stdout
