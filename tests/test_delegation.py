"""Delegation (代办): a delegate acts for a colleague within the dates, the event records
both, an expired delegation stops working, and a delegate cannot approve what they submitted."""
from __future__ import annotations

import datetime as dt

import pytest

from workflow.clock import Clock
from commands.lifecycle import transition
from workflow.directory.store import add_delegation
from workflow.lifecycle.engine import Fields
from workflow.errors import NotPermitted
from workflow.lifecycle.queries import history


def _delegate(world, principal, delegate, start, end):
    with world.session() as s:
        add_delegation(s, world.user(s, principal), delegate, dt.date.fromisoformat(start),
                       dt.date.fromisoformat(end), Clock())


def test_delegate_acts_and_event_records_both(world):
    aid = world.assignment(1, "装财处")
    _delegate(world, "张三", "赵六", "2021-08-01", "2021-08-10")
    transition(world.app("赵六", "2021-08-02"), aid, "start", on_behalf="张三")
    with world.session() as s:
        last = history(s, aid)[-1]
    assert (last["actor"], last["on_behalf_of"]) == ("赵六", "张三")


def test_expired_or_missing_delegation_refused(world):
    aid = world.assignment(1, "装财处")
    _delegate(world, "张三", "赵六", "2021-08-01", "2021-08-10")
    with pytest.raises(NotPermitted, match="代办授权"):
        transition(world.app("赵六", "2021-08-11"), aid, "start", on_behalf="张三")
    with pytest.raises(NotPermitted, match="代办授权"):
        transition(world.app("周督查", "2021-08-02"), aid, "start", on_behalf="张三")


def test_delegate_cannot_approve_own_submission(world):
    """王审核 covers 李审核's review work but submitted this item for 李审核's own office."""
    aid = world.assignment(2, "局政务公开办", period="2021Q3")
    _delegate(world, "李审核", "王审核", "2021-08-01", "2021-08-31")
    transition(world.app("王审核"), aid, "start")
    transition(world.app("王审核"), aid, "submit", Fields(summary="完成"))
    with pytest.raises(NotPermitted, match="审办分离"):
        transition(world.app("王审核"), aid, "approve", on_behalf="李审核")
    with pytest.raises(NotPermitted, match="审办分离"):
        transition(world.app("王审核"), aid, "approve")


def test_a_revoked_principals_delegation_stops(world):
    from workflow.access.tokens import revoke
    from workflow.errors import NotFound

    aid = world.assignment(1, "装财处")
    _delegate(world, "张三", "孙科监", "2021-08-01", "2021-08-10")
    with world.session() as s:
        revoke(s, world.user(s, "张三"))
    with pytest.raises(NotFound, match="已停用"):
        transition(world.app("孙科监", "2021-08-02"), aid, "start", on_behalf="张三")
