"""Migration 0006 adds who-acted-as-whom and what-changed to the event rows, on each
backend: old events get their people from the users as they are, keep their hash (no
re-chaining: verify accepts both hash forms), new events are hashed with the new fields,
and a downgrade removes the columns again leaving every hash as it was."""
from __future__ import annotations

import datetime as dt
import json

from alembic import command
from sqlalchemy import inspect, text
from sqlmodel import Session

from db.migrate import alembic_config, current_revision, upgrade
from db.models import User
from test_migration_0003 import blank_engine  # noqa: F401  (the fixture: an empty database per backend)
from test_migration_0004 import _advance_sequences
from test_migrations import _fill_first_schema
from workflow.lifecycle.audit import examine, verify
from workflow.clock import Clock
from workflow.lifecycle.engine import Fields, fire
from workflow.lifecycle.notify import Notifier

NEW = {"hash_form", "actor_info", "principal_info", "changes"}


def _hashes(engine) -> dict[int, tuple]:
    with engine.connect() as conn:
        return {r[0]: tuple(r[1:]) for r in conn.execute(text("SELECT id, prev_hash, hash FROM event ORDER BY id"))}


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def test_people_filled_nothing_rechained_and_back(blank_engine):
    engine = blank_engine
    upgrade(engine, "0001")
    _fill_first_schema(engine)  # plan 1: six events by 张三 (1) and 李审核 (2)
    with engine.begin() as conn:  # the fill's assignment 2 claims one version more than its events
        conn.execute(text("UPDATE assignment SET version = 3 WHERE id = 2"))
        conn.execute(text("UPDATE plan SET title = :t WHERE id = 1"), {"t": "旧\n计划\r\n2021"})
    upgrade(engine, "0004")
    before = _hashes(engine)

    upgrade(engine, "0006")
    _advance_sequences(engine)
    assert NEW <= {c["name"] for c in inspect(engine).get_columns("event")}
    assert _hashes(engine) == before  # nothing re-chained
    with engine.connect() as conn:  # a title imported with line breaks is one line now
        assert conn.execute(text("SELECT title FROM plan WHERE id = 1")).scalar() == "旧 计划 2021"
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT actor_id, hash_form, actor_info, principal_info, changes "
                                 "FROM event ORDER BY id")).all()
        assert all(r.hash_form is None and r.principal_info is None and r.changes is None for r in rows)
        assert {r.actor_id: _json(r.actor_info)["name"] for r in rows} == {1: "张三", 2: "李审核"}
        assert _json(rows[-1].actor_info) == {"id": 2, "name": "李审核", "roles": ["reviewer"],
                                              "department_id": 2, "department": "局政务公开办"}
        report = examine(conn)
        assert (report.checked, report.breaks, report.records, report.people) == (6, [], [], [])

    upgrade(engine)  # today's code fires on today's schema (later revisions re-chain nothing)
    with Session(engine) as s:  # a new event: hash form 2, linked to the old head
        result = fire(s, 2, "submit", s.get(User, 1), clock=Clock(dt.date(2021, 9, 1)),
                      fields=Fields(summary="已完成"), notifier=Notifier())
    with engine.connect() as conn:
        row = conn.execute(text("SELECT prev_hash, hash_form, changes FROM event WHERE id = :i"),
                           {"i": result.event_id}).one()
        assert row.prev_hash == before[6][1] and row.hash_form == 2
        assert _json(row.changes)["state"] == ["in_progress", "submitted"]
        report = examine(conn)
        assert (report.checked, report.breaks, report.records, report.people) == (7, [], [], [])
        # A rename after the upgrade shows, for the old events as for the new.
        conn.execute(text("UPDATE app_user SET name = '李四' WHERE id = 2"))
        assert examine(conn).people == ["用户 #2 现名“李四”，办理记录中为“李审核”"]
        conn.rollback()
    after = _hashes(engine)

    command.downgrade(alembic_config(engine), "0004")
    assert current_revision(engine) == "0004"
    assert not NEW & {c["name"] for c in inspect(engine).get_columns("event")}
    assert _hashes(engine) == after
