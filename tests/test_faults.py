"""Faults under a command (issue 7, item 2): the disk fills up, the SQLite file turns
read-only, the PostgreSQL connection is killed mid-transaction. Each time: one clear
sentence, no traceback, nothing half-written, and the next attempt works without any
manual repair. (The SMTP faults are in tests/test_outbox_smtp.py; the PostgreSQL server
stopped and restarted under a command, in tests/test_pg_restart.py.)
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cli_helpers import ROOT, duban_cmd, run, token_for
from conftest import PG_OK, build_world, many_tasks_plan, migrated_sqlite, snapshot


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def _dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def _env(url: str, user: str, today: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}
    return env | {"DUBAN_DB": url, "DUBAN_USER": user, "DUBAN_TODAY": today,
                  "DUBAN_TOKEN": token_for(url, user) or ""}


@pytest.fixture
def sqlite_world(tmp_path):

    url = migrated_sqlite(tmp_path / "duban.db")
    return build_world(url, many_tasks_plan(1500), publish=False)


@pytest.mark.skipif(shutil.which("prlimit") is None, reason="prlimit (util-linux) 不可用,无法限制文件大小")
def test_disk_full_during_publish_writes_nothing(sqlite_world):
    """RLIMIT_FSIZE stands in for a full disk: the WAL cannot grow past a few KB."""
    path = _sqlite_path(sqlite_world.url)
    sqlite_world.token("李审核")  # issued before the dump: issuing writes its hash
    before = _dump(path)
    limit = path.stat().st_size + 64 * 1024
    proc = subprocess.run(["prlimit", f"--fsize={limit}", "--", *duban_cmd(), "plan", "publish", "1"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env=_env(sqlite_world.url, "李审核", "2021-07-20"))
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert proc.stderr.startswith("错误：") and "未生效" in proc.stderr and "Traceback" not in proc.stderr
    assert _dump(path) == before
    again = run("plan", "publish", "1", db=sqlite_world.url, user="李审核", today="2021-07-20")
    assert again.returncode == 0, again.stderr
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM assignment").fetchone()[0] == 1500


def _immutable(path: Path, on: bool) -> bool:
    proc = subprocess.run(["chattr", "+i" if on else "-i", str(path)], capture_output=True)
    return proc.returncode == 0


def test_read_only_database_refuses_cleanly(tmp_path):
    """The file made immutable (root ignores mode bits, so chattr +i stands in for 0444)."""

    url = migrated_sqlite(tmp_path / "duban.db")
    world = build_world(url)
    aid = world.assignment(1, "装财处")
    world.token("张三")  # issued while the file can still be written
    path = _sqlite_path(url)
    with sqlite3.connect(path) as conn:  # fold the WAL in, so the file alone holds everything
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = _dump(path)
    if shutil.which("chattr") is None or not _immutable(path, True):
        pytest.skip("chattr +i 不可用(需要 root 和支持的文件系统),无法把数据库文件设为只读")
    try:
        proc = run("task", "start", str(aid), db=url, user="张三", today="2021-08-02")
        listing = run("task", "list", "--json", db=url, user="张三", today="2021-08-02")
    finally:
        _immutable(path, False)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert proc.stderr.startswith("错误：") and "只读" in proc.stderr and "Traceback" not in proc.stderr
    assert listing.returncode == 0, listing.stderr  # reading still works
    assert _dump(path) == before
    again = run("task", "start", str(aid), db=url, user="张三", today="2021-08-02")
    assert again.returncode == 0, again.stderr


@pytest.mark.skipif(not PG_OK, reason="PostgreSQL 未配置(DUBAN_TEST_PG)或无法连接")
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgresql_connection_killed_mid_fire(db_url):
    """The server ends our session between the checks and the write: a typed error,
    nothing written, and the next fire on the same engine succeeds (pool pre-ping)."""
    import datetime as dt

    from sqlmodel import Session, select

    from db.engine import make_engine
    from db.models import User
    from workflow.clock import Clock
    from workflow.lifecycle.engine import fire
    from workflow.errors import DatabaseProblem

    world = build_world(db_url)
    aid = world.assignment(1, "装财处")
    before = snapshot(world)
    engine = make_engine(db_url)
    killer = create_engine(db_url)
    clock = Clock(dt.date(2021, 8, 2))
    with Session(engine) as session:
        actor = session.exec(select(User).where(User.name == "张三")).one()
        pid = session.connection().execute(text("SELECT pg_backend_pid()")).scalar_one()

        def kill() -> None:
            with killer.connect() as c:
                c.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

        with pytest.raises(DatabaseProblem) as caught:
            fire(session, aid, "start", actor, clock=clock, before_write=kill)
        assert "连接中断" in caught.value.message
    assert snapshot(world) == before
    with Session(engine) as session:
        actor = session.exec(select(User).where(User.name == "张三")).one()
        assert fire(session, aid, "start", actor, clock=clock).to_state == "in_progress"
    engine.dispose()
    killer.dispose()


def test_unreachable_postgresql_is_one_sentence(tmp_path):
    proc = run("task", "list", db="postgresql+psycopg://nobody@127.0.0.1:1/x", user="张三")
    assert proc.returncode == 1
    assert proc.stderr.startswith("错误：") and "Traceback" not in proc.stderr
    assert "数据库" in proc.stderr
