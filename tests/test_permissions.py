"""Every (role, trigger, own/other department) combination of the permission table.

The expectations are written out here, not read from states/, so loosening any single
rule in states/ makes a case fail."""
from __future__ import annotations

import pytest

import states
from conftest import DOER, PATHS, build_world, drive, full_fields, many_tasks_plan, snapshot
from workflow.commands.lifecycle import transition
from workflow.errors import NotPermitted

ACTORS = {
    "张三": "staff, own department",
    "钱处长": "head, own department",
    "孙科监": "staff, other department",
    "李审核": "reviewer, other department",
    "周督查": "supervisor",
    "吴管理": "admin",
}
DEPT_SIDE = {"张三", "钱处长"}
EXPECTED = {
    "start": DEPT_SIDE, "submit": DEPT_SIDE, "request_delay": DEPT_SIDE,
    "approve": {"李审核"}, "send_back": {"李审核"},
    "approve_delay": {"李审核"}, "reject_delay": {"李审核"},
    "cancel": {"李审核", "吴管理"}, "reopen": {"李审核", "吴管理"},
}
SOURCE = {t.trigger: t.sources[0] for t in states.TRANSITIONS}
CASES = [(t, a) for t in EXPECTED for a in ACTORS]


@pytest.fixture(scope="module", params=["sqlite"])
def big_world(request, tmp_path_factory):
    from db.engine import make_engine
    from db.migrate import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('perm') / 'duban.db'}"
    upgrade(make_engine(url))
    return build_world(url, many_tasks_plan(len(CASES)))


def test_every_trigger_has_expectations():
    assert set(EXPECTED) == set(states.TRANSITION_BY_TRIGGER)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"{t}-{a}" for t, a in CASES])
def test_permission(big_world, index):
    trigger, actor = CASES[index]
    aid = big_world.assignment(index + 1, "装财处")
    drive(big_world, aid, SOURCE[trigger])
    if actor in EXPECTED[trigger]:
        result = transition(big_world.app(actor), aid, trigger, full_fields())
        assert result.trigger == trigger
    else:
        before = snapshot(big_world)
        with pytest.raises(NotPermitted):
            transition(big_world.app(actor), aid, trigger, full_fields())
        assert snapshot(big_world) == before


def test_doer_table_is_consistent():
    for trigger, person in DOER.items():
        assert person in EXPECTED[trigger]
    assert set(PATHS) == {s.name for s in states.STATES}
