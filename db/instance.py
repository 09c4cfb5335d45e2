"""This database's random instance id (table `instance`, made by migration 0010).

Message-IDs and calendar UIDs are `<…>.<instance>@<domain>`: stable across the sends and
exports of one database, different across databases.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import text


def instance_id(bind: Any) -> str:
    """The id, read over an engine, a connection or a session."""
    if hasattr(bind, "connect") and not hasattr(bind, "execute"):  # an Engine
        with bind.connect() as conn:
            return _read(conn)
    return _read(bind)


def _read(conn: Any) -> str:
    value = conn.execute(text("SELECT instance_id FROM instance WHERE id = 1")).scalar()
    return value or "0"
