"""The schema revision check every command makes, without importing Alembic.

Alembic costs about a third of a second to import; a command that only reads the
database should not pay it. Revisions are named by number (`0003_reminder_log.py`,
revision id "0003") and form one line, so the head is the highest number on disk;
tests/test_migrations.py checks that this agrees with Alembic's own answer.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

VERSIONS = Path(__file__).parent / "migrations" / "versions"


def head() -> str:
    return max(p.name[:4] for p in VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))


def current(engine: Engine) -> str | None:
    """The database's revision, or None for a database never initialised."""
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError as exc:
            if _missing_table(exc):
                return None
            raise


def _missing_table(exc: DBAPIError) -> bool:
    message = str(exc.orig).lower()
    return "no such table" in message or "does not exist" in message or "undefined" in message
