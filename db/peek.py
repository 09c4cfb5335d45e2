"""A read-only look at the department directory of a SQLite database, without the
database layer.

`plan import --dry-run` checks every department name of the plan against the directory.
Loading SQLAlchemy, SQLModel and Alembic (and checking the schema revision) to read one
small table costs several times the whole dry run, which must stay interactive (issue 3:
≤ 1.3× `duban --version`). For a SQLite file the table is read with the standard
library's sqlite3, opened read-only; for PostgreSQL, or anything unexpected, the caller
uses the database layer as every other command does.
"""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

DEFAULT_FILE = "duban.db"  # as db.engine.DEFAULT_URL


class DepartmentName(NamedTuple):
    """What name checks need of a department (the fields find_department reads)."""
    name: str
    aliases: list[str]
    kind: str


def sqlite_path(url: str | None) -> Path | None:
    """The file a --db value names, or None if it is not a SQLite file (PostgreSQL, :memory:)."""
    if not url:
        return Path(DEFAULT_FILE)
    if "://" not in url:
        return Path(url)
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url[len("sqlite:///"):])
    return None


def peek_departments(path: Path) -> list[DepartmentName] | None:
    """The directory in directory order; [] if the database has none yet; None if it could
    not be read this way (the caller then asks the database layer)."""
    import json
    import sqlite3  # only when there is a database: a first dry run does not pay for it

    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=2)
    except (sqlite3.Error, ValueError, OSError):
        return None
    try:
        rows = connection.execute("SELECT name, aliases, kind FROM department ORDER BY id").fetchall()
        return [DepartmentName(name, list(json.loads(aliases or "[]")), kind) for name, aliases, kind in rows]
    except sqlite3.OperationalError as exc:
        return [] if "no such table" in str(exc) else None
    except (sqlite3.Error, ValueError, TypeError):
        return None
    finally:
        connection.close()
