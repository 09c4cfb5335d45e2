"""Every (role, trigger, own/other department) combination of the permission table.

The expectations are written out here, not read from states/, so loosening any single
rule in states/ makes a case fail."""
from __future__ import annotations

import datetime as dt

import pytest

import states
from conftest import DOER, PATHS, build_world, drive, full_fields, many_tasks_plan, migrated_sqlite, snapshot
from workflow.clock import Clock
from commands.lifecycle import transition
from workflow.directory.store import add_user
from workflow.errors import NotFound, NotPermitted

# Every role on the assignment's own department (装财处), another department, and (for the
# roles that may have none) no department. The assignments all belong to 装财处.
ACTORS = {
    "张三": "staff, own department",
    "孙科监": "staff, other department",
    "钱处长": "head, own department",
    "马处长": "head, other department",
    "冯审核": "reviewer, own department",
    "李审核": "reviewer, other department",
    "陈督查": "supervisor, own department",
    "卫督查": "supervisor, other department",
    "周督查": "supervisor, no department",
    "郑管理": "admin, own department",
    "蒋管理": "admin, other department",
    "吴管理": "admin, no department",
}
EXTRA_USERS = [  # besides conftest.USERS: name, department, roles
    ("马处长", "科监处", ["head"]), ("冯审核", "装财处", ["reviewer"]),
    ("陈督查", "装财处", ["supervisor"]), ("卫督查", "科监处", ["supervisor"]),
    ("郑管理", "装财处", ["admin"]), ("蒋管理", "科监处", ["admin"]),
]
DEPT_SIDE = {"张三", "钱处长", "冯审核"}
# Staff and heads of another department may not see the assignment: it "does not exist" for
# them (issue 14, finding 5), whatever the trigger; everyone else is refused by role.
OUT_OF_SIGHT = {"孙科监", "马处长"}
REVIEWERS = {"李审核", "冯审核"}  # never on what they submitted themselves (DOER submits as 张三)
OFFICE_SIDE = REVIEWERS | {"郑管理", "蒋管理", "吴管理"}
EXPECTED = {
    "start": DEPT_SIDE, "submit": DEPT_SIDE, "request_delay": DEPT_SIDE,
    "approve": REVIEWERS, "send_back": REVIEWERS,
    "approve_delay": REVIEWERS, "reject_delay": REVIEWERS,
    "cancel": OFFICE_SIDE, "reopen": OFFICE_SIDE,
    "escalate": REVIEWERS,
}
# Escalation needs an overdue assignment (the plan's items are due 2021-11-30).
TODAY = {"escalate": "2021-12-06"}
SOURCE = {t.trigger: t.sources[0] for t in states.TRANSITIONS}
CASES = [(t, a) for t in EXPECTED for a in ACTORS]


@pytest.fixture(scope="module", params=["sqlite"])
def big_world(request, tmp_path_factory):

    url = migrated_sqlite(tmp_path_factory.mktemp("perm") / "duban.db")
    world = build_world(url, many_tasks_plan(len(CASES)))
    with world.session() as s:
        for name, dept, roles in EXTRA_USERS:
            world.ids[name] = add_user(s, name, f"{len(world.ids)}@example.gov.cn", roles, dept,
                                       Clock(dt.date(2021, 7, 20))).id
    return world


def test_every_role_and_department_side_is_enumerated():
    seen = {(label.split(", ")[0], label.split(", ")[1] if ", " in label else "") for label in ACTORS.values()}
    for role in states.ROLES:
        assert {(role, "own department"), (role, "other department")} <= seen, role


def test_every_trigger_has_expectations():
    assert set(EXPECTED) == set(states.TRANSITION_BY_TRIGGER)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"{t}-{a}" for t, a in CASES])
def test_permission(big_world, index):
    trigger, actor = CASES[index]
    aid = big_world.assignment(index + 1, "装财处")
    drive(big_world, aid, SOURCE[trigger])
    app = big_world.app(actor, **({"today": TODAY[trigger]} if trigger in TODAY else {}))
    if actor in EXPECTED[trigger]:
        result = transition(app, aid, trigger, full_fields())
        assert result.trigger == trigger
    else:
        before = snapshot(big_world)
        with pytest.raises(NotFound if actor in OUT_OF_SIGHT else NotPermitted) as refused:
            transition(app, aid, trigger, full_fields())
        assert type(refused.value) is (NotFound if actor in OUT_OF_SIGHT else NotPermitted)
        assert snapshot(big_world) == before


def test_doer_table_is_consistent():
    for trigger, person in DOER.items():
        assert person in EXPECTED[trigger]
    assert set(PATHS) == {s.name for s in states.STATES}
