"""Shared fixtures: a real database (a SQLite file, and PostgreSQL when DUBAN_TEST_PG is
set), a small directory of departments and users, and a published plan.

PostgreSQL tests run each in a schema of their own, dropped afterwards.
"""
from __future__ import annotations

import atexit
import datetime as dt
import io
import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import text
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("DUBAN_TEST_PG")


def _pg_available() -> bool:
    if not PG_URL:
        return False
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3):
            return True
    except Exception:
        return False


PG_OK = _pg_available()
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not PG_OK, reason="PostgreSQL 未配置(DUBAN_TEST_PG)或无法连接"))]


def pg_schema_url(schema: str) -> str:
    base = PG_URL if "+psycopg" in PG_URL else PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


# Built once per test process, copied for each test (a copy takes ~20 ms, migrating ~0.4 s
# and the world ~0.3 s more): the migrated database, and build_world()'s default world.
_TEMPLATES = Path(tempfile.mkdtemp(prefix="duban-test-templates-"))
atexit.register(shutil.rmtree, _TEMPLATES, True)
_MIGRATED = _TEMPLATES / "migrated.db"
_WORLD: list[World] = []  # the template world, once built (its url names _TEMPLATES / "world.db")


def copy_sqlite(source: Path, path: Path) -> str:
    """`source` copied to `path` (SQLite's backup, so an open database copies whole), with
    an instance id of its own as migration 0010 gives every new database; returns its URL."""
    import secrets
    import sqlite3

    src, dst = sqlite3.connect(source), sqlite3.connect(path)
    try:
        src.backup(dst)
        dst.execute("UPDATE instance SET instance_id = ? WHERE id = 1", (secrets.token_hex(8),))
        dst.commit()
    finally:
        src.close()
        dst.close()
    return f"sqlite:///{path}"


def migrated_sqlite(path: Path) -> str:
    """A new SQLite database at `path`, migrated to head; returns its URL."""
    from db.engine import make_engine
    from db.migrate import upgrade

    if not _MIGRATED.exists():
        engine = make_engine(f"sqlite:///{_MIGRATED}")
        upgrade(engine)
        engine.dispose()
    return copy_sqlite(_MIGRATED, path)


@contextmanager
def fresh_database(backend: str, directory: Path) -> Iterator[str]:
    """A new database migrated to head, as its URL: on "sqlite" a file in `directory`; on
    "postgresql" a schema of its own, dropped afterwards."""
    from db.engine import make_engine
    from db.migrate import upgrade

    if backend == "sqlite":
        yield migrated_sqlite(directory / "duban.db")
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = pg_schema_url(schema)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """A fresh, migrated database URL on each backend."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="session")
def demo_year(tmp_path_factory) -> tuple[Path, str]:
    """`duban demo` run once for the whole test run: the first test process to ask runs it,
    the others (pytest-xdist workers) wait for it. Returns the folder and what the command
    printed. Tests must not change the folder: `demo_copy` gives one of their own."""
    import fcntl

    from cli_helpers import run

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the folder the workers' own folders are in
    folder, printed = shared / "demo-year", shared / "demo-year.out"
    with open(shared / "demo-year.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not printed.exists():
            shutil.rmtree(folder, ignore_errors=True)
            proc = run("demo", "--dir", str(folder))
            assert proc.returncode == 0, proc.stderr
            printed.write_text(proc.stdout, encoding="utf-8")
    return folder, printed.read_text(encoding="utf-8")


def demo_copy(demo_year: tuple[Path, str], where: Path) -> Path:
    """A copy of the demo folder at `where` (its duban.toml names paths relative to it);
    run(user=NAME, db=its database) acts with the demo's token for NAME."""
    from cli_helpers import register_tokens

    shutil.copytree(demo_year[0], where)
    register_tokens(f"sqlite:///{where / 'duban.db'}", lambda name: (where / "tokens" / name).read_text().strip())
    return where


# Departments and people of a small bureau (names follow the seed plan).
DEPARTMENTS = [
    ("局政务公开办", "office", ["政务公开办"]),
    ("办公室", "office", []),
    ("装财处", "business", ["装备财务处"]),
    ("科监处", "business", []),
    ("规范性文件审查处", "business", ["文件审查处"]),
    ("法律援助处", "unit", []),
]
USERS = [
    ("李审核", "局政务公开办", ["reviewer"]),
    ("王审核", "局政务公开办", ["reviewer"]),
    ("张三", "装财处", ["staff"]),
    ("赵六", "装财处", ["staff"]),
    ("钱处长", "装财处", ["head"]),
    ("孙科监", "科监处", ["staff"]),
    ("周督查", None, ["supervisor"]),
    ("吴管理", None, ["admin"]),
]
PLAN = {
    "title": "测试局2021年政务公开工作要点分工方案",
    "issuer": "测试局",
    "year": 2021,
    "issued_on": "2021-07-19",
    "distribute_by": "2021-07-31",
    "due": "2021-11-30",
    "tasks": [
        {"seq": 1, "chapter": "一、财政信息", "requirement": "推进预算、决算公开。",
         "responsibilities": [{"department": "装财处", "role": "lead"},
                              {"department": "办公室", "role": "cooperate"},
                              {"department": "科监处", "role": "tech_support"}]},
        {"seq": 2, "requirement": "每季度更新规范性文件。", "recurrence": "quarterly",
         "responsibilities": [{"department": "文件审查处", "role": "lead"},
                              {"department": "局政务公开办", "role": "supervise"}]},
        {"seq": 3, "requirement": "年底前门户网站支持 IPv6。", "due": "2021-12-31",
         "responsibilities": [{"department": "科监处", "role": "lead"},
                              {"department": "各业务处室", "role": "cooperate", "group": True}]},
    ],
}


@pytest.fixture(autouse=True)
def _private_config_home(tmp_path, monkeypatch):
    """No test reads or writes the real ~/.config/duban/credentials, nor inherits a token."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.delenv("DUBAN_TOKEN", raising=False)


@dataclass
class World:
    url: str
    ids: dict[str, int] = field(default_factory=dict)
    plan_id: int = 0
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, name: str) -> str | None:
        """The user's token, issued on first use at the cheapest accepted scrypt cost (the
        suite runs the CLI about a thousand times; production tokens use auth.SCRYPT_N)."""
        if name not in self.tokens:
            from workflow.access.tokens import MIN_N, issue_token

            with self.session() as s:
                if name not in self.ids:
                    return None
                self.tokens[name] = issue_token(s, self.user(s, name), n=MIN_N)
        return self.tokens[name]

    def app(self, user: str | None = None, today: str = "2021-08-02"):
        from commands.common import App
        from workflow.clock import Clock

        return App(db_url=self.url, actor_name=user, clock=Clock(dt.date.fromisoformat(today)),
                   out=io.StringIO(), err=io.StringIO())

    def session(self) -> Session:
        return self.app().session()

    def user(self, session: Session, name: str):
        from sqlmodel import select

        from db.models import User

        return session.exec(select(User).where(User.name == name)).one()

    def assignment(self, seq: int, dept: str, role: str | None = None, period: str = ""):
        """The id of the assignment of task `seq` for `dept`."""
        from sqlmodel import select

        from db.models import Assignment, Department, Task

        with self.session() as s:
            q = (select(Assignment.id).join(Task, Task.id == Assignment.task_id)
                 .join(Department, Department.id == Assignment.department_id)
                 .where(Task.seq == seq, Department.name == dept, Task.plan_id == self.plan_id,
                        Assignment.period == period))
            if role:
                q = q.where(Assignment.role == role)
            return s.exec(q).one()


def build_world(url: str, plan: dict = PLAN, publish: bool = True) -> World:
    from workflow.clock import Clock
    from workflow.directory.store import add_department, add_user
    from workflow.plans.model import plan_from_dict
    from workflow.plans.store import store_plan
    from workflow.plans.publish import publish as do_publish

    from cli_helpers import register_tokens

    world = World(url)
    register_tokens(url, world.token)
    clock = Clock(dt.date(2021, 7, 20))
    with world.session() as s:
        for name, kind, aliases in DEPARTMENTS:
            add_department(s, name, f"{uuid.uuid4().hex[:6]}@dept.example.gov.cn", aliases, kind)
        for name, dept, roles in USERS:
            u = add_user(s, name, f"u{len(world.ids) + 1}@example.gov.cn", roles, dept, clock)
            world.ids[name] = u.id
        row = store_plan(s, plan_from_dict(plan), clock)
        world.plan_id = row.id
        if publish:
            do_publish(s, row, world.user(s, "李审核"), clock)
    return world


@pytest.fixture
def world(db_url) -> World:
    """build_world(db_url): on SQLite a copy of the one built first in this process."""
    from cli_helpers import register_tokens

    if not db_url.startswith("sqlite:///"):
        return build_world(db_url)
    if not _WORLD:
        _WORLD.append(build_world(migrated_sqlite(_TEMPLATES / "world.db")))
    template = _WORLD[0]
    url = copy_sqlite(_TEMPLATES / "world.db", Path(db_url.removeprefix("sqlite:///")))
    world = World(url, dict(template.ids), template.plan_id)
    register_tokens(url, world.token)
    return world


# How to bring an assignment of 装财处 (staff 张三) into each state, and who may do it.
PATHS: dict[str, list[str]] = {
    "assigned": [],
    "in_progress": ["start"],
    "submitted": ["start", "submit"],
    "returned": ["start", "submit", "send_back"],
    "delay_requested": ["request_delay"],
    "done": ["start", "submit", "approve"],
    "cancelled": ["cancel"],
}
DOER = {"start": "张三", "submit": "张三", "request_delay": "张三", "approve": "李审核",
        "send_back": "李审核", "approve_delay": "李审核", "reject_delay": "李审核",
        "cancel": "吴管理", "reopen": "吴管理", "escalate": "李审核"}


def full_fields():
    """Every field any trigger may require, filled in."""
    from workflow.lifecycle.engine import Fields

    return Fields(summary="办理情况", comment="意见", reason="理由", until=dt.date(2021, 12, 31))


def drive(world: World, aid: int, state: str) -> None:
    from commands.lifecycle import transition

    for trigger in PATHS[state]:
        transition(world.app(DOER[trigger]), aid, trigger, full_fields())


def many_tasks_plan(n: int) -> dict:
    """A plan of n tasks, each led by 装财处 alone."""
    return PLAN | {"tasks": [{"seq": i, "requirement": f"任务{i}",
                              "responsibilities": [{"department": "装财处", "role": "lead"}]}
                             for i in range(1, n + 1)]}


def snapshot(world: World) -> tuple:
    """Every assignment's (id, state, version, due) and the event count."""
    from sqlmodel import func, select

    from db.models import Assignment, Event

    with world.session() as s:
        rows = s.exec(select(Assignment.id, Assignment.state, Assignment.version, Assignment.due_date)
                      .order_by(Assignment.id)).all()
        events = s.exec(select(func.count()).select_from(Event)).one()
    return tuple(map(tuple, rows)), events
