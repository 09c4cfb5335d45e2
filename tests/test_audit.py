"""The tamper-evident log: an intact chain verifies; a modified, deleted, inserted or
reordered event is found with its id; a database from the first schema upgrades with
its history chained."""
from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import text

from conftest import build_world
from workflow.lifecycle.audit import export, verify
from commands.lifecycle import transition
from workflow.lifecycle.engine import Fields


def _busy(world):
    aid = world.assignment(1, "装财处")
    transition(world.app("张三"), aid, "start")
    transition(world.app("张三"), aid, "submit", Fields(summary="完成"))
    transition(world.app("李审核"), aid, "approve")
    return aid


def _verify(world):
    with world.app().engine().connect() as conn:
        return verify(conn)


def _sql(world, statement: str, **params):
    with world.app().engine().begin() as conn:
        conn.execute(text(statement), params)


def _event_ids(world):
    with world.app().engine().connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT id FROM event ORDER BY id"))]


def test_intact_chain_verifies(world):
    _busy(world)
    checked, breaks = _verify(world)
    assert checked == len(_event_ids(world)) and breaks == []


def test_modified_event_detected(world):
    _busy(world)
    target = _event_ids(world)[-2]
    _sql(world, "UPDATE event SET comment = '改过的意见' WHERE id = :i", i=target)
    _, breaks = _verify(world)
    assert [(b.event_id, "修改" in b.problem) for b in breaks] == [(target, True)]


def test_deleted_event_detected(world):
    _busy(world)
    ids = _event_ids(world)
    _sql(world, "DELETE FROM notification WHERE event_id = :i", i=ids[3])
    _sql(world, "DELETE FROM event WHERE id = :i", i=ids[3])
    _, breaks = _verify(world)
    assert breaks[0].event_id == ids[4]


def test_deleted_last_event_detected(world):
    _busy(world)
    last = _event_ids(world)[-1]
    _sql(world, "DELETE FROM notification WHERE event_id = :i", i=last)
    _sql(world, "DELETE FROM event WHERE id = :i", i=last)
    _, breaks = _verify(world)
    assert len(breaks) == 1 and breaks[0].event_id is None


def test_inserted_event_detected(world):
    _busy(world)
    ids = _event_ids(world)
    _sql(world, "INSERT INTO event (assignment_id, plan_id, trigger, from_state, to_state, actor_id, data, at, "
                "recorded_at, prev_hash, hash) SELECT assignment_id, plan_id, 'approve', 'submitted', 'done', "
                "actor_id, data, at, recorded_at, hash, hash FROM event WHERE id = :i", i=ids[-1])
    _, breaks = _verify(world)
    assert breaks and breaks[0].event_id == max(_event_ids(world))


def test_reordered_events_detected(world):
    _busy(world)
    # Two moves that send no mail, so their ids can be swapped freely.
    transition(world.app("孙科监"), world.assignment(1, "科监处"), "start")
    transition(world.app("孙科监"), world.assignment(3, "科监处"), "start")
    ids = _event_ids(world)
    a, b = ids[-2], ids[-1]
    _sql(world, "UPDATE event SET id = -1 WHERE id = :a", a=a)
    _sql(world, "UPDATE event SET id = :a WHERE id = :b", a=a, b=b)
    _sql(world, "UPDATE event SET id = :b WHERE id = -1", b=b)
    _, breaks = _verify(world)
    assert breaks and breaks[0].event_id == a


def test_export_json_lines(world):
    _busy(world)
    out = io.StringIO()
    with world.app().engine().connect() as conn:
        n = export(conn, out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert n == len(lines) == len(_event_ids(world))
    assert lines[-1]["trigger"] == "approve" and len(lines[-1]["hash"]) == 64


def test_first_schema_upgrades_with_history_chained(tmp_path):
    """A database made by migration 0001, with history, upgrades to head and verifies."""
    from db.engine import make_engine
    from db.migrate import current_revision, head_revision, upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO department (id, name, aliases, kind) VALUES (1, '装财处', '[]', 'business')"))
        conn.execute(text("INSERT INTO app_user (id, name, email, department_id, roles, active, created_at) "
                          "VALUES (1, '张三', 'z@example.gov.cn', 1, '[\"staff\"]', 1, '2021-07-20 09:00:00')"))
        conn.execute(text("INSERT INTO plan (id, title, year, source, created_at) VALUES (1, '旧计划', 2021, '{}', '2021-07-20 09:00:00')"))
        conn.execute(text("INSERT INTO task (id, plan_id, seq, requirement, ongoing, responsibilities) "
                          "VALUES (1, 1, 1, '旧任务', 0, '[]')"))
        conn.execute(text("INSERT INTO assignment (id, plan_id, task_id, department_id, role, period, due_date, "
                          "state, created_at, updated_at, version) VALUES (1, 1, 1, 1, 'lead', '', '2021-11-30', "
                          "'in_progress', '2021-07-20 09:00:00', '2021-08-02 09:00:00', 2)"))
        for i, (trig, frm, to, at) in enumerate([("distribute", "", "assigned", "2021-07-20 09:00:00.000001"),
                                                 ("start", "assigned", "in_progress", "2021-08-02 10:30:00.500000")], 1):
            conn.execute(text("INSERT INTO event (id, assignment_id, plan_id, trigger, from_state, to_state, actor_id, "
                              "data, at, recorded_at) VALUES (:i, 1, 1, :t, :f, :o, 1, '{}', :at, :at)"),
                         {"i": i, "t": trig, "f": frm, "o": to, "at": at})
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    with engine.connect() as conn:
        checked, breaks = verify(conn)
        state = conn.execute(text("SELECT state, version FROM assignment WHERE id = 1")).one()
    assert (checked, breaks) == (2, [])
    assert tuple(state) == ("in_progress", 2)
