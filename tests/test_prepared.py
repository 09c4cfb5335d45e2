"""db/prepared.py: a statement sent with exec_driver_sql stores exactly what the same
statement run through Connection.execute stores, on each backend, and statements that
need SQLAlchemy at execution time are refused rather than run wrong."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import bindparam, func, insert, select, text, update

from db.models import Assignment, Event
from db.prepared import Prepared, PreparedInsert

_E = Event.__table__
_A = Assignment.__table__
AT = dt.datetime(2021, 8, 2, 9, 30, 15, 250)


def _event(world, aid: int) -> dict:
    return {"assignment_id": aid, "plan_id": world.plan_id, "trigger": "start", "from_state": "assigned",
            "to_state": "in_progress", "actor_id": world.ids["张三"], "on_behalf_of_id": None,
            "comment": "意见“引号”", "data": {"b": [1, "二"], "a": None}, "at": AT, "recorded_at": AT,
            "prev_hash": None, "hash": "f" * 64}


def _stored(conn, event_id: int) -> tuple:
    """The row as the database holds it (text on SQLite: the format is what matters)."""
    cast = "CAST({} AS TEXT)" if conn.dialect.name == "sqlite" else "{}"
    cols = ", ".join(cast.format(c) for c in ("comment", "data", "at", "recorded_at"))
    return tuple(conn.execute(text(f"SELECT {cols} FROM event WHERE id = :i"), {"i": event_id}).one())


def test_prepared_insert_stores_what_core_stores(world):
    aid = world.assignment(1, "装财处")
    names = tuple(_event(world, aid))
    with world.app().engine().begin() as conn:
        core = conn.execute(insert(_E).returning(_E.c.id), _event(world, aid)).scalar_one()
        mine = PreparedInsert(insert(_E), names).insert(conn, _event(world, aid))
        assert mine == core + 1
        assert _stored(conn, mine) == _stored(conn, core)
        assert conn.execute(select(_E.c.data).where(_E.c.id == mine)).scalar_one() == {"b": [1, "二"], "a": None}


def test_prepared_update_counts_and_converts(world):
    aid = world.assignment(1, "装财处")
    stmt = Prepared(update(_A).where(_A.c.id == bindparam("aid"), _A.c.version == bindparam("expected"))
                    .values(updated_at=bindparam("updated_at")), ("updated_at", "aid", "expected"))
    with world.app().engine().begin() as conn:
        assert stmt.execute(conn, {"updated_at": AT, "aid": aid, "expected": 99}).rowcount == 0
        assert stmt.execute(conn, {"updated_at": AT, "aid": aid, "expected": 1}).rowcount == 1
        assert conn.execute(select(_A.c.updated_at).where(_A.c.id == aid)).scalar_one() == AT


def test_statements_needing_sqlalchemy_at_run_time_are_refused(world):
    expanding = Prepared(update(_A).where(_A.c.id.in_(bindparam("ids", expanding=True)))
                         .values(state=bindparam("state")), ("ids", "state"))
    unnamed = Prepared(update(_A).where(_A.c.id == bindparam("aid")).values(state=bindparam("state")), ("aid",))
    with world.app().engine().begin() as conn:
        with pytest.raises(ValueError, match="cannot be prepared"):
            expanding.execute(conn, {"ids": [1], "state": "done"})
        with pytest.raises(ValueError, match="state"):
            unnamed.execute(conn, {"aid": 1})


def test_prepared_row_reads_what_core_reads(world):
    """PreparedRow (fire()'s read of the assignment) answers the same dict as Core, with the
    same Python types (dates, datetimes, JSON), and None for no row."""
    from db.prepared import PreparedRow

    aid = world.assignment(1, "装财处")
    q = select(_A, _E.c.data.label("event_data"), _E.c.at.label("event_at")).select_from(
        _A.join(_E, _E.c.assignment_id == _A.c.id)).where(_A.c.id == bindparam("aid"))  # its one event: distribute
    with world.app().engine().begin() as conn:
        core = dict(conn.execute(q, {"aid": aid}).mappings().one())
        assert PreparedRow(q, ("aid",)).first(conn, {"aid": aid}) == core
        assert isinstance(core["due_date"], dt.date) and isinstance(core["event_at"], dt.datetime)
        assert PreparedRow(q, ("aid",)).first(conn, {"aid": 10**9}) is None


def test_execute_values_stores_what_execute_many_stores(world):
    """Rows given as tuples (in `names` order, which is not the table's) store exactly what
    the same rows given as dicts store: dates, datetimes and JSON converted alike, one
    shared date object and one shared dict converted once for all rows."""
    aid = world.assignment(1, "装财处")
    names = ("data", "at", "assignment_id", "plan_id", "trigger", "from_state", "to_state", "actor_id",
             "on_behalf_of_id", "comment", "recorded_at", "prev_hash", "hash")
    shared = {"b": [1, "二"], "a": None}
    rows = [{**_event(world, aid), "data": shared, "comment": f"第{i}条"} for i in range(3)]
    stmt = Prepared(insert(_E), names)
    with world.app().engine().begin() as conn:
        first = conn.execute(select(func.max(_E.c.id))).scalar_one() + 1
        stmt.execute_many(conn, rows)
        stmt.execute_values(conn, [tuple(r[n] for n in names) for r in rows])
        ids = [i for (i,) in conn.execute(select(_E.c.id).where(_E.c.id >= first).order_by(_E.c.id))]
        assert len(ids) == 6
        assert [_stored(conn, i) for i in ids[3:]] == [_stored(conn, i) for i in ids[:3]]
        assert [_stored(conn, i)[0] for i in ids[3:]] == ["第0条", "第1条", "第2条"]
        assert stmt.execute_values(conn, []) is None
