"""Delegation (代办): a delegate acts for a colleague within the dates, the event records
both, an expired delegation stops working, and a delegate cannot approve what they submitted."""
from __future__ import annotations

import datetime as dt

import pytest

from workflow.clock import Clock
from commands.lifecycle import transition
from workflow.directory.store import add_delegation
from workflow.lifecycle.engine import Fields
from workflow.errors import NotFound, NotPermitted
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
        transition(world.app("钱处长", "2021-08-02"), aid, "start", on_behalf="张三")


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
    _delegate(world, "张三", "赵六", "2021-08-01", "2021-08-10")
    with world.session() as s:
        revoke(s, world.user(s, "张三"))
    with pytest.raises(NotFound, match="已停用"):
        transition(world.app("赵六", "2021-08-02"), aid, "start", on_behalf="张三")


def test_delegation_across_departments_is_refused(world):
    """Finding 10: 孙科监 (科监处) cannot see 装财处's items, so cannot act for 张三."""
    from cli_helpers import run

    proc = run("delegate", "add", "--to", "孙科监", "--from", "2021-08-01", "--until", "2021-08-10",
               db=world.url, user="张三")
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().startswith("错误：代办只能在本处室内授权") and "科监处" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    aid = world.assignment(1, "装财处")
    proc = run("task", "start", str(aid), "--for", "张三", db=world.url, user="孙科监", today="2021-08-02")
    assert proc.returncode == 1 and "已签收" not in proc.stdout


def test_a_cross_department_delegation_made_before_the_rule_no_longer_counts(world):
    from db.models import Delegation

    with world.session() as s:
        s.add(Delegation(from_user_id=world.ids["张三"], to_user_id=world.ids["孙科监"],
                         starts_on=dt.date(2021, 8, 1), ends_on=dt.date(2021, 8, 10),
                         created_at=dt.datetime(2021, 7, 30)))
        s.commit()
    # the delegation no longer counts, so the item is one 孙科监 may not see: "不存在"
    with pytest.raises(NotFound, match="不存在"):
        transition(world.app("孙科监", "2021-08-02"), world.assignment(1, "装财处"), "start", on_behalf="张三")
