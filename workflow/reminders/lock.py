"""Database-wide locks for the reminder sweep: the database is the lock.

Two locks, because two things must not overlap:

- the daemon lock, held for a `remind daemon`'s whole life: a second daemon on
  the same database refuses at once (two daemons would each sweep every interval);
- the sweep lock, held while one sweep plans, enqueues and commits its digests:
  a cron `remind run`, a daemon round or a manual run waits for the sweep in
  progress, then finds its items in reminder_log and mails only what is new.
  Without it two sweeps could both plan the same digest before either commits.

PostgreSQL: session advisory locks, keyed by the lock name, the database and the
schema (two deployments sharing one server never block each other). SQLite: an
flock on a file next to the database file; a crashed holder releases it with its
process. An in-memory SQLite database lives in one process: the sweep needs no
lock there, and a daemon on it makes no sense.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from workflow.errors import BadInput, Refused

DAEMON = "duban-remind-daemon"
SWEEP = "duban-remind-sweep"
SWEEP_WAIT = 120.0  # seconds a sweep waits for another one; a real sweep takes seconds
POLL = 0.05


@contextlib.contextmanager
def daemon_lock(engine: Engine) -> Iterator[None]:
    """Hold the daemon lock for the caller's lifetime, or refuse at once."""
    if engine.dialect.name == "postgresql":
        with _pg_lock(engine, DAEMON, wait=0.0):
            yield
        return
    database = _sqlite_file(engine)
    if database is None:
        raise BadInput("内存数据库不支持守护进程，请用 --db 指定数据库文件。")
    with _file_lock(_lock_path(database, ".remind.lock"), DAEMON, wait=0.0):
        yield


@contextlib.contextmanager
def sweep_lock(engine: Engine, wait: float = SWEEP_WAIT) -> Iterator[None]:
    """Hold the sweep lock while planning and committing; wait up to `wait` seconds for it."""
    if engine.dialect.name == "postgresql":
        with _pg_lock(engine, SWEEP, wait):
            yield
        return
    database = _sqlite_file(engine)
    if database is None:
        yield
        return
    with _file_lock(_lock_path(database, ".sweep.lock"), SWEEP, wait):
        yield


def _refusal(name: str, wait: float, where: str) -> Refused:
    if name == DAEMON:
        return Refused(f"另一个催办守护进程正在运行（{where}已被占用），本进程退出。")
    return Refused(f"另一次催办正在进行，等待 {wait:.0f} 秒后仍未结束（{where}已被占用）；"
                   "本次未生成任何邮件，请稍后重试。")


# --- PostgreSQL ---------------------------------------------------------------------

@contextlib.contextmanager
def _pg_lock(engine: Engine, name: str, wait: float) -> Iterator[None]:
    with engine.connect() as conn:
        key = _pg_key(conn, name)
        if not _pg_acquire(conn, key, wait):
            raise _refusal(name, wait, "数据库锁")
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()


def _pg_key(conn: Connection, name: str) -> int:
    """A 64-bit lock key per name, database and schema."""
    database, schema = conn.execute(text("SELECT current_database(), current_schema()")).one()
    digest = hashlib.sha256(f"{name}:{database}:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _pg_acquire(conn: Connection, key: int, wait: float) -> bool:
    """Try the session lock until `wait` has passed (polling keeps the wait bounded)."""
    deadline = time.monotonic() + wait
    while True:
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        conn.commit()  # a session lock outlives the transaction; keep none open
        if got:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL)


# --- SQLite: a lock file next to the database ------------------------------------

def _sqlite_file(engine: Engine) -> Path | None:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database)


def _lock_path(database: Path, suffix: str) -> Path:
    return database.with_name(database.name + suffix)


@contextlib.contextmanager
def _file_lock(path: Path, name: str, wait: float) -> Iterator[None]:
    import fcntl

    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _refusal(name, wait, f"锁文件 {path} ") from None
                time.sleep(POLL)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # closing releases the flock
