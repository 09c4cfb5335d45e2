"""Schema migrations: a database made by the first released schema (0001), full of a
plan's history, upgrades to head on SQLite and PostgreSQL with every row intact and
keeps working; and the cheap head check the CLI uses agrees with Alembic.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import MetaData, insert, select, text

from db.engine import make_engine
from db.migrate import current_revision, head_revision, upgrade

T0 = dt.datetime(2021, 7, 20, 9)


def _fill_first_schema(engine) -> None:
    """Rows written through the 0001 tables as reflected from the database itself."""
    meta = MetaData()
    meta.reflect(engine)
    t = meta.tables
    with engine.begin() as conn:
        conn.execute(insert(t["department"]), [
            {"id": 1, "name": "装财处", "aliases": ["装备财务处"], "email": "zc@example.gov.cn", "kind": "business"},
            {"id": 2, "name": "局政务公开办", "aliases": [], "email": "gk@example.gov.cn", "kind": "office"}])
        conn.execute(insert(t["app_user"]), [
            {"id": 1, "name": "张三", "email": "z@example.gov.cn", "department_id": 1, "roles": ["staff"],
             "active": True, "created_at": T0},
            {"id": 2, "name": "李审核", "email": "l@example.gov.cn", "department_id": 2, "roles": ["reviewer"],
             "active": True, "created_at": T0}])
        conn.execute(insert(t["plan"]), [{"id": 1, "title": "旧计划", "year": 2021, "source": {"tasks": []},
                                          "created_at": T0, "published_at": T0}])
        conn.execute(insert(t["task"]), [{"id": i, "plan_id": 1, "seq": i, "requirement": f"旧任务{i}",
                                          "ongoing": False, "responsibilities": []} for i in (1, 2)])
        conn.execute(insert(t["assignment"]), [
            {"id": 1, "plan_id": 1, "task_id": 1, "department_id": 1, "role": "lead", "period": "",
             "due_date": dt.date(2021, 11, 30), "state": "submitted", "created_at": T0, "updated_at": T0,
             "version": 3, "submitted_by_id": 1, "submitted_for_id": 1},
            {"id": 2, "plan_id": 1, "task_id": 2, "department_id": 1, "role": "lead", "period": "",
             "due_date": dt.date(2021, 12, 15), "state": "in_progress", "created_at": T0, "updated_at": T0,
             "version": 4, "submitted_by_id": None, "submitted_for_id": None}])
        history = [(1, "distribute", "", "assigned", {}), (1, "start", "assigned", "in_progress", {}),
                   (1, "submit", "in_progress", "submitted", {"summary": "已公开", "attachments": []}),
                   (2, "distribute", "", "assigned", {}),
                   (2, "request_delay", "assigned", "delay_requested",
                    {"reason": "等待平台", "old_due": "2021-11-30", "requested_due": "2021-12-15"}),
                   (2, "approve_delay", "delay_requested", "in_progress",
                    {"old_due": "2021-11-30", "requested_due": "2021-12-15", "new_due": "2021-12-15"})]
        conn.execute(insert(t["event"]), [
            {"id": i, "assignment_id": aid, "plan_id": 1, "trigger": trig, "from_state": frm, "to_state": to,
             "actor_id": 2 if trig == "approve_delay" else 1, "data": data, "comment": None,
             "at": T0 + dt.timedelta(days=i), "recorded_at": T0 + dt.timedelta(days=i)}
            for i, (aid, trig, frm, to, data) in enumerate(history, 1)])
        conn.execute(insert(t["notification"]), [
            {"id": 1, "key": "distributed:1:1", "kind": "distributed", "recipient": "zc@example.gov.cn",
             "subject": "【督办】任务下发通知", "text": "正文", "status": "sent", "attempts": 1,
             "created_at": T0, "sent_at": T0}])


def _dump(engine, tables: list[str]) -> dict[str, list[tuple]]:
    """Every row of the named tables, restricted to the columns the first schema had."""
    meta = MetaData()
    meta.reflect(engine, only=tables)
    with engine.connect() as conn:
        return {name: [tuple(r) for r in conn.execute(select(meta.tables[name]).order_by(*meta.tables[name].primary_key))]
                for name in tables}


def test_first_schema_upgrades_to_head_with_data_intact(db_url):
    engine = make_engine(db_url)
    with engine.begin() as conn:  # start from nothing: the fixture's database is at head
        for name in ("web_session", "mail_link", "delegation", "notification", "attachment_chunk", "attachment_blob", "attachment",
                     "event", "assignment", "task", "chain_head", "plan",
                     "app_user", "department", "reminder_log", "directory_version", "instance", "alembic_version"):
            conn.execute(text(f"DROP TABLE IF EXISTS {name}" + (" CASCADE" if engine.dialect.name == "postgresql" else "")))
    upgrade(engine, "0001")
    assert current_revision(engine) == "0001"
    _fill_first_schema(engine)
    tables = ["department", "app_user", "plan", "task", "assignment", "event", "notification"]
    meta = MetaData()
    meta.reflect(engine, only=tables)
    old_columns = {name: [c.name for c in meta.tables[name].columns] for name in tables}
    before = _dump(engine, tables)

    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    meta = MetaData()
    meta.reflect(engine, only=tables)
    with engine.connect() as conn:
        after = {name: [tuple(r) for r in conn.execute(
            select(*[meta.tables[name].c[c] for c in old_columns[name]]).order_by(*meta.tables[name].primary_key))]
            for name in tables}
    assert after == before

    # and the upgraded database keeps working: verify the backfilled chain, read a ledger
    from sqlmodel import Session

    from workflow.lifecycle.audit import verify
    from workflow.ledger.compute import compute_ledger

    with engine.connect() as conn:
        assert verify(conn) == (6, [])
    with Session(engine) as s:
        ledger = compute_ledger(s, 1, dt.date(2021, 12, 31))
    rows = {r.assignment_id: r for r in ledger.rows}
    assert rows[1].state == "submitted" and rows[1].latest_summary == "已公开"
    assert rows[2].due == dt.date(2021, 12, 15) and rows[2].original_due == dt.date(2021, 11, 30)
    engine.dispose()


def test_upgrading_twice_changes_nothing(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)


def test_the_cli_head_check_agrees_with_alembic(db_url):
    """`db.schema_version` answers without importing Alembic; it must say what Alembic says."""
    from db import schema_version

    engine = make_engine(db_url)
    assert schema_version.head() == head_revision(engine)
    assert schema_version.current(engine) == current_revision(engine)


def test_an_empty_database_has_no_revision(tmp_path):
    from db import schema_version

    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    assert schema_version.current(engine) is None
