"""`task list`, `review list` and `task history` read over a plain Core connection
(db/tables.py, App.reader): the same answers as through the ORM, and none of the
SQLModel classes, pydantic or the heavy optional libraries in the process (issue 7's
latency budget, bench/cli_latency.py)."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from sqlalchemy.types import TypeDecorator, TypeEngine
from sqlmodel import SQLModel

import db.models  # noqa: F401  (fills SQLModel.metadata)
from cli_helpers import ROOT, XDG_CONFIG_HOME, duban_cmd, run, run_json
from conftest import drive
from db import tables
from workflow.errors import NotAuthenticated
from workflow.lifecycle.queries import history, list_assignments, review_queue, visible_departments

# Never loaded by a listing; each one was, or could easily be, by a stray top-level import.
# (A listing does read duban.toml's [remind]/[calendar] and the official calendar — 4 ms of
# chinese_calendar data — since its lights count working days as the ledger's do (issue 13);
# it still never builds the mail settings: "notifications" stays here.)
HEAVY = {"sqlmodel", "pydantic", "db.models", "transitions", "alembic", "jinja2", "openpyxl", "docx",
         "yaml", "icalendar", "workflow.directory.store", "workflow.plans.store", "workflow.lifecycle.engine",
         "workflow.reports", "notifications", "smtplib"}


@pytest.mark.parametrize("table", sorted(tables.metadata.tables))
def test_the_core_tables_agree_with_the_models(table):
    """db/models.py is the schema; every column the read side declares must match it."""
    model = SQLModel.metadata.tables[table]
    for column in tables.metadata.tables[table].columns:
        assert column.name in model.c, f"{table}.{column.name} is not in db/models.py"
        expected = model.c[column.name]
        assert _python_type(column.type) is _python_type(expected.type), (table, column.name)
        assert (column.nullable, column.primary_key) == (expected.nullable, expected.primary_key), \
            (table, column.name)


def _python_type(sql_type: TypeEngine) -> type:
    """What a column reads as; SQLModel's AutoString is a TypeDecorator over String."""
    return (sql_type.impl_instance if isinstance(sql_type, TypeDecorator) else sql_type).python_type


def _imported(*args: str, db: str, token: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    command = duban_cmd()
    python_args = command[1:] if command[0] == sys.executable else command  # [-m, cli] or [script]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}
    env |= {"DUBAN_DB": db, "DUBAN_TOKEN": token, "DUBAN_TODAY": "2021-08-02", "XDG_CONFIG_HOME": XDG_CONFIG_HOME}
    proc = subprocess.run([sys.executable, "-X", "importtime", *python_args, *args], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=120)
    names = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    return proc, {h for h in HEAVY if any(n == h or n.startswith(h + ".") for n in names)}


def test_listings_load_no_orm_and_nothing_heavy(world):
    aid = str(world.assignment(1, "装财处"))
    for args, user in ((["task", "list", "--json"], "张三"), (["review", "list", "--json"], "李审核"),
                       (["task", "history", aid, "--json"], "张三")):
        proc, heavy = _imported(*args, db=world.url, token=world.token(user))
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert not heavy, (args, heavy)


def test_the_cli_lists_what_the_orm_session_lists(world):
    """Every filter of `task list` on the command line (Core connection) against the
    library's answer through an ORM session, on both backends."""
    aid = world.assignment(1, "装财处")
    drive(world, aid, "submitted")
    today = dt.date(2021, 8, 2)
    with world.session() as s:
        staff, office = world.user(s, "张三"), world.user(s, "李审核")
        mine = visible_departments(staff)
        expected = {
            ("--mine",): list_assignments(s, today, department_id=staff.department_id, visible=mine),
            ("--plan", str(world.plan_id)): list_assignments(s, today, plan_id=world.plan_id, visible=mine),
            ("--dept", "装备财务处"): list_assignments(s, today, department_id=staff.department_id, visible=mine),
            ("--state", "submitted"): list_assignments(s, today, state="submitted", visible=mine),
            ("--overdue",): list_assignments(s, today, overdue=True, visible=mine),
        }
        queue = review_queue(s, today, visible_departments(office))
        events = history(s, aid, mine)
    assert expected[("--mine",)] and expected[("--state", "submitted")]
    for args, rows in expected.items():
        assert run_json("task", "list", *args, db=world.url, user="张三", today="2021-08-02") == rows, args
    assert run_json("review", "list", db=world.url, user="李审核", today="2021-08-02") == queue
    assert run_json("task", "history", str(aid), db=world.url, user="张三") == events


def test_a_named_department_outside_the_readers_scope_is_refused(world):
    proc = run("task", "list", "--dept", "科监处", db=world.url, user="张三")
    assert proc.returncode == 1 and "只能查看本处室" in proc.stderr
    proc = run("task", "list", "--plan", "没有这个计划", db=world.url, user="张三")
    assert proc.returncode == 1 and "不存在" in proc.stderr


def test_read_viewer_is_viewer_as_plain_values(world):
    """The Core reader and the ORM session name the same user, with the same token rules."""
    app = world.app()
    app.authenticate, app.token = True, world.token("张三")
    with app.reader() as conn:
        person = app.read_viewer(conn)
    with world.session() as s:
        user = world.user(s, "张三")
    assert (person.id, person.name, person.roles, person.department_id, person.active) == \
        (user.id, user.name, user.roles, user.department_id, user.active)
    assert "token_hash" not in repr(person)
    app = world.app()
    token = world.token("张三")
    app.authenticate, app.token = True, token[:-1] + ("x" if token[-1] != "x" else "y")
    with app.reader() as conn, pytest.raises(NotAuthenticated):
        app.read_viewer(conn)
    app = world.app("张三")
    app.authenticate, app.token = True, world.token("李审核")
    with app.reader() as conn, pytest.raises(NotAuthenticated):  # --as must name the token's user
        app.read_viewer(conn)


def test_the_database_is_closed_before_exit(tmp_path):
    """cli.main spares the exit its garbage collection (gc.freeze), so App.close must close
    the connections: SQLite then checkpoints and removes its -wal and -shm files, as before."""
    import gc

    from conftest import build_world
    from db.engine import make_engine
    from db.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'duban.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    world = build_world(url)
    aid, token = str(world.assignment(1, "装财处")), world.token("张三")
    gc.collect()  # this process's own connections (one engine per world.session()) close

    def files() -> list[str]:
        return sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("duban.db"))

    assert files() == ["duban.db"]
    for args in (["task", "list"], ["task", "start", aid]):
        proc = run(*args, db=url, token=token, today="2021-08-02")
        assert proc.returncode == 0, proc.stderr
        assert files() == ["duban.db"], args
