"""Migration 0011: the assignment indexes the web's reads use (both backends), and a
downgrade that restores the index it replaced."""
from __future__ import annotations

from sqlalchemy import inspect, text

from db.engine import make_engine


def _indexes(engine) -> dict[str, list[str]]:
    return {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("assignment")}


def test_0011_indexes_up_and_down(db_url):
    from alembic import command

    from db.migrate import alembic_config, upgrade

    engine = make_engine(db_url)
    found = _indexes(engine)
    assert found["ix_assignment_department_state_due"] == ["department_id", "state", "due_date"]
    assert found["ix_assignment_state_updated"] == ["state", "updated_at", "id"]
    assert "ix_assignment_department_state" not in found
    command.downgrade(alembic_config(engine), "0009")
    found = _indexes(engine)
    assert found["ix_assignment_department_state"] == ["department_id", "state"]
    assert not {"ix_assignment_department_state_due", "ix_assignment_state_updated"} & set(found)
    upgrade(engine)
    assert "ix_assignment_state_updated" in _indexes(engine)
    engine.dispose()


def test_the_review_queue_reads_its_first_items_in_index_order(tmp_path):
    """SQLite's plan for the 首页's first waiting items walks the new index (no full sort
    of every submitted row)."""
    from sqlalchemy.dialects import sqlite

    import states
    from conftest import migrated_sqlite
    from db import tables

    a = tables.assignment
    first = (a.select().with_only_columns(a.c.id).where(a.c.state.in_(states.AWAITING_REVIEW))
             .order_by(a.c.updated_at, a.c.id).limit(20))
    sql = str(first.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    engine = make_engine(migrated_sqlite(tmp_path / "duban.db"))
    with engine.connect() as conn:
        plan = " ".join(r[3] for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
    engine.dispose()
    assert "ix_assignment_state_updated" in plan, plan
