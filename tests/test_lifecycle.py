"""The whole life of assignments through the engine: send-back loop, both delay outcomes,
cancel and reopen, each move one event with the right actor, state and due date."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from db.models import Assignment, Event
from commands import lifecycle
from workflow.lifecycle.engine import Fields
from workflow.errors import InvalidMove, MissingField, NotFound, NotPermitted
from workflow.lifecycle.queries import history


def state_of(world, aid):
    with world.session() as s:
        return s.get(Assignment, aid)


def test_submit_send_back_resubmit_approve(world):
    aid = world.assignment(1, "装财处")
    lifecycle.transition(world.app("张三"), aid, "start")
    lifecycle.transition(world.app("张三", "2021-10-11"), aid, "submit", Fields(summary="已公开预算"))
    lifecycle.transition(world.app("李审核", "2021-10-12"), aid, "send_back", Fields(comment="请补充决算链接"))
    assert state_of(world, aid).state == "returned"
    lifecycle.transition(world.app("赵六", "2021-10-13"), aid, "submit", Fields(summary="已补充决算链接"))
    lifecycle.transition(world.app("李审核", "2021-10-14"), aid, "approve")
    row = state_of(world, aid)
    assert row.state == "done"
    with world.session() as s:
        events = history(s, aid)
    assert [e["trigger"] for e in events] == ["distribute", "start", "submit", "send_back", "submit", "approve"]
    assert [e["actor"] for e in events[1:]] == ["张三", "张三", "李审核", "赵六", "李审核"]
    assert events[3]["comment"] == "请补充决算链接"
    assert events[4]["data"]["summary"] == "已补充决算链接"
    assert events[5]["at"].startswith("2021-10-14T") and events[5]["at"].endswith("+08:00")
    assert row.version == 6


def test_delay_approved_moves_due_date(world):
    aid = world.assignment(1, "科监处")
    lifecycle.transition(world.app("孙科监", "2021-11-10"), aid, "request_delay",
                         Fields(reason="需等待市级平台上线", until=dt.date(2021, 12, 15)))
    assert state_of(world, aid).state == "delay_requested"
    lifecycle.transition(world.app("李审核", "2021-11-11"), aid, "approve_delay")
    row = state_of(world, aid)
    assert (row.state, row.due_date) == ("in_progress", dt.date(2021, 12, 15))
    with world.session() as s:
        last = history(s, aid)[-1]
    assert last["data"] == {"old_due": "2021-11-30", "requested_due": "2021-12-15", "new_due": "2021-12-15"}


def test_delay_rejected_keeps_due_date(world):
    aid = world.assignment(1, "科监处")
    lifecycle.transition(world.app("孙科监"), aid, "start")
    lifecycle.transition(world.app("孙科监"), aid, "request_delay",
                         Fields(reason="人手不足", until=dt.date(2021, 12, 20)))
    lifecycle.transition(world.app("王审核"), aid, "reject_delay", Fields(comment="请按原时限完成"))
    row = state_of(world, aid)
    assert (row.state, row.due_date) == ("in_progress", dt.date(2021, 11, 30))


def test_delay_date_must_be_after_due(world):
    aid = world.assignment(1, "科监处")
    with pytest.raises(Exception, match="不晚于当前完成时限"):
        lifecycle.transition(world.app("孙科监"), aid, "request_delay",
                             Fields(reason="x", until=dt.date(2021, 11, 30)))
    assert state_of(world, aid).state == "assigned"


def test_cancel_and_reopen(world):
    aid = world.assignment(1, "办公室")
    with pytest.raises(MissingField):
        lifecycle.transition(world.app("吴管理"), aid, "cancel")
    lifecycle.transition(world.app("吴管理"), aid, "cancel", Fields(reason="方案调整"))
    assert state_of(world, aid).state == "cancelled"
    with pytest.raises(InvalidMove, match="已撤销"):
        lifecycle.transition(world.app("吴管理"), aid, "reopen", Fields(reason="x"))
    other = world.assignment(1, "装财处")
    lifecycle.transition(world.app("张三"), other, "start")
    lifecycle.transition(world.app("张三"), other, "submit", Fields(summary="完成"))
    lifecycle.transition(world.app("李审核"), other, "approve")
    lifecycle.transition(world.app("李审核"), other, "reopen", Fields(reason="公开内容需更新"))
    assert state_of(world, other).state == "in_progress"


def test_submitter_cannot_approve_own_submission(world):
    """A reviewer working for their own department cannot approve what they submitted."""
    aid = world.assignment(2, "局政务公开办", period="2021Q3")
    lifecycle.transition(world.app("李审核"), aid, "start")
    lifecycle.transition(world.app("李审核"), aid, "submit", Fields(summary="已督办"))
    with pytest.raises(NotPermitted, match="审办分离"):
        lifecycle.transition(world.app("李审核"), aid, "approve")
    with pytest.raises(NotPermitted, match="审办分离"):
        lifecycle.transition(world.app("李审核"), aid, "send_back", Fields(comment="自己退回"))
    assert state_of(world, aid).state == "submitted"
    lifecycle.transition(world.app("王审核"), aid, "approve")
    assert state_of(world, aid).state == "done"


def test_refused_command_writes_nothing(world):
    aid = world.assignment(1, "装财处")
    with world.session() as s:
        before = s.exec(select(Event)).all()
    with pytest.raises(NotFound):  # another department's staff: the item "does not exist"
        lifecycle.transition(world.app("孙科监"), aid, "start")
    with pytest.raises(NotPermitted):
        lifecycle.transition(world.app("周督查"), aid, "start")
    with pytest.raises(InvalidMove):
        lifecycle.transition(world.app("李审核"), aid, "approve")
    with pytest.raises(MissingField):
        lifecycle.transition(world.app("张三"), aid, "request_delay", Fields(until=dt.date(2021, 12, 1)))
    with world.session() as s:
        assert len(s.exec(select(Event)).all()) == len(before)
        row = s.get(Assignment, aid)
    assert (row.state, row.version) == ("assigned", 1)


def test_approve_all_skips_own_and_records_each(world):
    ids = [world.assignment(1, "装财处"), world.assignment(3, "装财处"), world.assignment(1, "科监处")]
    for aid, who in zip(ids, ["张三", "张三", "孙科监"]):
        lifecycle.transition(world.app(who), aid, "start")
        lifecycle.transition(world.app(who), aid, "submit", Fields(summary="完成"))
    report = lifecycle.approve_all(world.app("李审核"), department="装财处")
    assert sorted(report.approved) == sorted(ids[:2])
    assert state_of(world, ids[2]).state == "submitted"
    with world.session() as s:
        approvals = s.exec(select(Event).where(Event.trigger == "approve")).all()
    assert len(approvals) == 2
