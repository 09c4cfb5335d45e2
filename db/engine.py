"""Engine and session setup: SQLite embedded by default, PostgreSQL when asked.

SQLite gets WAL, foreign keys, a busy timeout and synchronous=FULL on every
connection; PostgreSQL goes through psycopg 3. Both serialise JSON with db/jsontext.py
`dumps` (json.dumps, and text already serialised passed through).
"""
from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, create_engine, make_url  # sqlmodel's create_engine is this one

from db.jsontext import dumps

DEFAULT_URL = "sqlite:///duban.db"
BUSY_TIMEOUT_MS = 15_000


def normalise_url(url: str | None) -> str:
    """Accept a plain file path as well as a URL; default to ./duban.db."""
    if not url:
        return DEFAULT_URL
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def sqlite_file(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for PostgreSQL and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str | None = None, synchronous: str = "FULL") -> Engine:
    """Create the engine for `url` (see normalise_url) with our connection settings."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            path = Path(database)
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                # Created private: the database holds every record and token hash.
                fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
                os.close(fd)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, json_serializer=dumps)
        _sqlite_pragmas(engine, synchronous)
        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=dumps)


def _sqlite_pragmas(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every test
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.close()
