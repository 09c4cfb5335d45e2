"""Migration 0003 (reminder_log) on a database at 0002 holding data, on each backend."""
import datetime as dt
import uuid

import pytest
from sqlalchemy import inspect, insert, select, text
from sqlmodel import Session

from conftest import BACKENDS, PG_URL, pg_schema_url
from db.engine import make_engine
from db.migrate import current_revision, head_revision, upgrade
from db.models import Assignment, Department, Notification, Plan, ReminderLog, Task, User
from workflow.calendar import WorkCalendar
from workflow.config import Config, RemindPolicy
from workflow.reminders.sweep import run_reminders

DAY = dt.date(2021, 9, 30)
NOW = dt.datetime(2021, 7, 20, 9)


@pytest.fixture(params=BACKENDS)
def blank_engine(request, tmp_path):
    """An empty database (a SQLite file, or a fresh PostgreSQL schema)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(pg_schema_url(schema))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def fill_0002(engine) -> None:
    """What a 0002 database holds on the morning of DAY: a plan, people, yesterday's mail."""
    with engine.begin() as conn:
        conn.execute(insert(Department.__table__), [
            {"id": 1, "name": "装财处", "aliases": [], "email": "zcc@example.gov.cn", "kind": "business"}])
        conn.execute(insert(User.__table__), [
            {"id": 1, "name": "张三", "email": "zhang@example.gov.cn", "department_id": 1,
             "roles": ["staff"], "active": True, "created_at": NOW},
            {"id": 2, "name": "王五", "email": "wang@example.gov.cn", "department_id": 1,
             "roles": ["staff", "head"], "active": True, "created_at": NOW}])
        conn.execute(insert(Plan.__table__), [{"id": 1, "title": "旧方案", "year": 2021, "source": {},
                                               "created_at": NOW}])
        conn.execute(insert(Task.__table__), [{"id": 1, "plan_id": 1, "seq": 1, "requirement": "旧任务",
                                               "ongoing": False, "responsibilities": []}])
        conn.execute(insert(Assignment.__table__), [
            {"id": 1, "plan_id": 1, "task_id": 1, "department_id": 1, "role": "lead", "period": "",
             "due_date": DAY, "state": "in_progress", "created_at": NOW, "updated_at": NOW,
             "version": 2}])
        # Sent by the old code earlier on DAY: keyed by address and day, no log rows.
        conn.execute(insert(Notification.__table__), [
            {"key": f"remind:{DAY}:zhang@example.gov.cn", "kind": "reminder",
             "recipient": "张三 <zhang@example.gov.cn>", "subject": "【督办】催办提醒", "text": "旧",
             "status": "sent", "attempts": 1, "created_at": NOW, "sent_at": NOW},
            {"key": "event:1:dept:zhang@example.gov.cn", "kind": "distributed",
             "recipient": "zhang@example.gov.cn", "subject": "【督办】任务下发通知", "text": "下发",
             "status": "pending", "attempts": 0, "created_at": NOW, "sent_at": None}])


def test_upgrade_from_0002_with_data(blank_engine):
    engine = blank_engine
    upgrade(engine, "0002")
    assert "reminder_log" not in inspect(engine).get_table_names()
    fill_0002(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine) >= "0003"
    insp = inspect(engine)
    assert "reminder_log" in insp.get_table_names()
    uniques = [u["column_names"] for u in insp.get_unique_constraints("reminder_log")]
    assert ["day", "recipient", "kind", "assignment_id"] in uniques
    with engine.connect() as conn:  # the data came through untouched
        keys = conn.execute(select(Notification.__table__.c.key, Notification.__table__.c.status)
                            .order_by(Notification.__table__.c.key)).all()
        assert [tuple(k) for k in keys] == [("event:1:dept:zhang@example.gov.cn", "pending"),
                                            (f"remind:{DAY}:zhang@example.gov.cn", "sent")]
        assert conn.execute(select(Assignment.__table__.c.version)).scalar() == 2
    # The first sweep after the upgrade: the address mailed by the old code gets nothing again.
    with Session(engine) as s:
        report = run_reminders(s, DAY, RemindPolicy(), WorkCalendar(), Config())
        s.commit()
    assert [d.email for d in report.digests] == ["wang@example.gov.cn", "zcc@example.gov.cn"]
    assert report.already == 1
    with Session(engine) as s:
        log = s.exec(select(ReminderLog.recipient, ReminderLog.kind, ReminderLog.assignment_id)).all()
    assert sorted(map(tuple, log)) == [("wang@example.gov.cn", "due_today", 1),
                                       ("zcc@example.gov.cn", "due_today", 1)]


def test_downgrade_to_0002_drops_only_the_log(blank_engine):
    from alembic import command

    from db.migrate import alembic_config

    engine = blank_engine
    upgrade(engine, "0002")
    fill_0002(engine)
    upgrade(engine)
    command.downgrade(alembic_config(engine), "0002")
    assert current_revision(engine) == "0002"
    assert "reminder_log" not in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM notification")).scalar() == 2
    upgrade(engine)  # and up again
    assert current_revision(engine) == head_revision(engine)
