"""The permission matrix (every role × every trigger × own/other department) through HTTP.

The cases and their expectations are tests/test_permissions.py's, written out there and
not read from states/; here each case is first looked at on the item's page (the form
for the trigger is offered exactly when the move is allowed, and a department that may
not see the item gets "not found") and then fired through the API (200 or 403, and
nothing changed when refused).
"""
from __future__ import annotations

import datetime as dt

import pytest

from conftest import build_world, drive, many_tasks_plan, migrated_sqlite, snapshot
from test_permissions import ACTORS, CASES, EXPECTED, EXTRA_USERS, OUT_OF_SIGHT, SOURCE, TODAY
from web_server import Server, sign_in

FIELDS = {"summary": "办理情况", "comment": "意见", "reason": "理由", "until": "2021-12-31"}
SEES_ALL = {"李审核", "冯审核", "陈督查", "卫督查", "周督查", "郑管理", "蒋管理", "吴管理"}
OWN_DEPARTMENT = {"张三", "钱处长"}


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    from workflow.clock import Clock
    from workflow.directory.store import add_user

    url = migrated_sqlite(tmp_path_factory.mktemp("webperm") / "duban.db")
    world = build_world(url, many_tasks_plan(len(CASES)))
    with world.session() as s:
        for name, dept, roles in EXTRA_USERS:
            world.ids[name] = add_user(s, name, f"{len(world.ids)}@example.gov.cn", roles, dept,
                                       Clock(dt.date(2021, 7, 20))).id
    days = {"2021-08-02", *TODAY.values()}  # escalation needs an overdue item: a later "today"
    servers = {day: Server(url, today=day) for day in sorted(days)}
    browsers = {}
    for day, server in servers.items():
        for actor in ACTORS:
            browsers[day, actor] = server.client()
            assert sign_in(browsers[day, actor], world.token(actor)).status_code == 200
    yield world, servers, browsers
    for b in browsers.values():
        b.close()
    for server in servers.values():
        server.stop()


@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"{t}-{a}" for t, a in CASES])
def test_permission_over_http(matrix, index):
    world, servers, browsers = matrix
    trigger, actor = CASES[index]
    day = TODAY.get(trigger, "2021-08-02")
    server = servers[day]
    aid = world.assignment(index + 1, "装财处")
    drive(world, aid, SOURCE[trigger])
    allowed = actor in EXPECTED[trigger]

    page = browsers[day, actor].get(f"/tasks/{aid}")
    if actor in SEES_ALL or actor in OWN_DEPARTMENT:
        assert page.status_code == 200
        offered = f'action="/tasks/{aid}/{trigger}"' in page.text
        assert offered == allowed, f"{actor} {'not ' if allowed else ''}offered {trigger}"
    else:
        assert page.status_code == 404  # another department's item "does not exist"

    before = snapshot(world)
    before_version = next(v for i, _s, v, _d in before[0] if i == aid)
    with server.client(world.token(actor)) as c:
        r = c.post(f"/api/v1/tasks/{aid}/{trigger}", json={k: FIELDS[k] for k in _fields(trigger)})
    if allowed:
        assert r.status_code == 200, r.text
        assert r.json()["version"] == before_version + 1
        assert snapshot(world)[1] == before[1] + 1  # one more event
    elif actor in OUT_OF_SIGHT:  # the same rule as the CLI: an item one may not see "does not exist"
        assert r.status_code == 404, r.text
        assert "不存在" in r.json()["error"]
        assert snapshot(world) == before
    else:
        assert r.status_code == 403, r.text
        assert r.json()["code"] == "not_permitted" and "无权" in r.json()["error"]
        assert snapshot(world) == before


def _fields(trigger: str) -> list[str]:
    import states

    t = states.TRANSITION_BY_TRIGGER[trigger]
    return [f for f in (*t.requires, *t.optional) if f != "attachments"]
