"""Migration 0004 moves each plan's chain head from plan.last_hash to chain_head, on each
backend: heads copied unchanged (a plan without events keeps none), the chain verifies
and keeps growing from the copied head, and a downgrade puts the heads back."""
from __future__ import annotations

import datetime as dt

from alembic import command
from sqlalchemy import inspect, text
from sqlmodel import Session

from db.migrate import alembic_config, current_revision, upgrade
from db.models import User
from test_migration_0003 import blank_engine  # noqa: F401  (the fixture: an empty database per backend)
from test_migrations import T0, _fill_first_schema
from workflow.lifecycle.audit import verify
from workflow.clock import Clock
from workflow.lifecycle.engine import Fields, fire
from workflow.lifecycle.notify import Notifier


def _heads(engine, sql: str) -> dict[int, str | None]:
    with engine.connect() as conn:
        return dict(conn.execute(text(sql)).all())


def _advance_sequences(engine) -> None:
    """The fill wrote explicit ids; on PostgreSQL the next generated ones must follow them."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        for table in ("event", "notification"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))


def test_heads_move_to_their_own_table_and_back(blank_engine):
    engine = blank_engine
    upgrade(engine, "0001")
    _fill_first_schema(engine)  # plan 1 with six events
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO plan (id, title, year, source, created_at) "
                          "VALUES (2, '未下发的计划', 2021, '{}', :t)"), {"t": T0})
    upgrade(engine, "0003")  # 0002 chains the history into plan.last_hash
    before = _heads(engine, "SELECT id, last_hash FROM plan")
    assert before[1] and before[2] is None

    upgrade(engine)
    _advance_sequences(engine)
    assert "last_hash" not in {c["name"] for c in inspect(engine).get_columns("plan")}
    assert _heads(engine, "SELECT plan_id, last_hash FROM chain_head") == before
    with engine.connect() as conn:
        assert verify(conn) == (6, [])

    with Session(engine) as s:  # the next event links to the copied head
        result = fire(s, 2, "submit", s.get(User, 1), clock=Clock(dt.date(2021, 9, 1)),
                      fields=Fields(summary="已完成"), notifier=Notifier())
    with engine.connect() as conn:
        prev, head = conn.execute(text("SELECT prev_hash, hash FROM event WHERE id = :i"),
                                  {"i": result.event_id}).one()
        assert prev == before[1]
        assert verify(conn) == (7, [])

    command.downgrade(alembic_config(engine), "0003")
    assert current_revision(engine) == "0003"
    assert "chain_head" not in inspect(engine).get_table_names()
    assert _heads(engine, "SELECT id, last_hash FROM plan") == {1: head, 2: None}
