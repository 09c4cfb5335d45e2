"""The library's read services the web front end calls (issue 16): a paginated task list
in the CLI's order, the 首页 counts from one aggregate read, and "which moves may this
person make now", each checked against the thing it must agree with."""
from __future__ import annotations

import datetime as dt

import pytest

import states
from conftest import PATHS, build_world, drive, full_fields, many_tasks_plan
from db.engine import make_engine
from workflow.errors import BadInput, NotFound, Refused
from workflow.ledger.lights import YELLOW, Lights
from workflow.lifecycle import queries, service


@pytest.fixture
def busy(db_url):
    """装财处 with one assignment in each state, due on different days."""
    world = build_world(db_url, many_tasks_plan(len(PATHS) + 3))
    for seq, state in enumerate(PATHS, start=1):
        drive(world, world.assignment(seq, "装财处"), state)
    engine = make_engine(db_url)
    with engine.begin() as conn:  # spread the due dates so that every light occurs
        for seq in range(1, len(PATHS) + 4):
            conn.execute(queries._A.update().where(queries._A.c.id == world.assignment(seq, "装财处"))
                         .values(due_date=dt.date(2021, 7, 25) + dt.timedelta(days=4 * seq)))
    engine.dispose()
    return world


def test_pages_make_the_whole_list_in_its_order(busy):
    app = busy.app("李审核")
    for query in (service.TaskQuery(), service.TaskQuery(dept="装财处"), service.TaskQuery(state="done")):
        whole = service.list_tasks(app, query)
        pages, page = [], 1
        while True:
            found = service.list_tasks(app, query, page, 3)
            assert found.total == whole.total == len(whole.items)
            if not found.items:
                break
            pages += found.items
            page += 1
        assert pages == whole.items
    order = [v["light"] for v in service.list_tasks(app, service.TaskQuery()).items]
    ranks = [("red", "yellow", "green", "").index(light) for light in order]
    assert ranks == sorted(ranks) and "" in order and "red" in order  # urgent first, closed last


def test_light_counts_agree_with_every_items_light(busy):
    light = Lights()
    engine = make_engine(busy.url)
    with engine.connect() as conn:
        for offset in range(0, 90, 2):
            today = dt.date(2021, 7, 26) + dt.timedelta(days=offset)
            last = light.yellow_until(today)
            for day in (today + dt.timedelta(days=k) for k in range(-3, 30)):
                assert (light.of_due(day, today) == YELLOW) == (today <= day <= last), (today, day)
            expected: dict[tuple, dict[str, int]] = {}
            for v in queries.list_assignments(conn, today, light=light):
                bucket = expected.setdefault((v["department"], v["state"]),
                                             {"red": 0, "yellow": 0, "green": 0, "closed": 0, "count": 0})
                bucket[v["light"] or "closed"] += 1
                bucket["count"] += 1
            counted = {(g["department"], g["state"]): {k: g[k] for k in ("red", "yellow", "green", "closed", "count")}
                       for g in queries.light_counts(conn, today, light=light)}
            assert counted == expected, today
    engine.dispose()


class Stop(Exception):
    """Raised just before fire() writes: every check passed."""


def _fire_accepts(app, aid: int, trigger: str) -> bool:
    def stop():
        raise Stop

    try:
        service.transition(app, aid, trigger, full_fields(), before_write=stop)
    except Stop:
        return True
    except Refused:
        return False
    except BadInput:  # the typed input (a date): not a reason to hide the button
        return True
    raise AssertionError("fire() wrote")


@pytest.mark.parametrize("today", ["2021-08-02", "2022-01-10"])  # few, then every item overdue
def test_allowed_triggers_are_the_moves_fire_accepts(busy, today):
    seen: set[str] = set()
    for user in ("张三", "李审核", "吴管理", "孙科监"):
        app = busy.app(user, today=today)
        for seq in range(1, len(PATHS) + 1):
            aid = busy.assignment(seq, "装财处")
            try:
                allowed = service.allowed_triggers(app, aid)
            except NotFound:
                with pytest.raises(NotFound):  # fire() agrees: the item does not exist for them
                    service.transition(app, aid, "start", full_fields())
                continue
            accepted = [t for t in states.TRANSITION_BY_TRIGGER if _fire_accepts(app, aid, t)]
            assert allowed == [t for t in states.triggers_from(service.show(app, aid)["state"]) if t in accepted]
            assert sorted(allowed) == sorted(accepted), (user, seq)
            seen.update(allowed)
    assert {"start", "submit", "approve", "cancel", "escalate"} <= seen  # the walk met real moves
