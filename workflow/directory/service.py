"""Directory services: departments, users as plain views, delegations (代办)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import states
from workflow.access.scope import DIRECTORY_ADMIN

if TYPE_CHECKING:  # pragma: no cover
    from workflow.context import Context


def add_department(ctx: "Context", name: str, email: str | None = None, aliases: list[str] | None = None,
                   kind: str = "business") -> Any:
    """Add a department (admins only)."""
    from workflow.directory.store import add_department as add

    with ctx.session() as s:
        ctx.require(s, states.administers, DIRECTORY_ADMIN)
        return add(s, name, email, aliases or [], kind)


def list_departments(ctx: "Context") -> list[Any]:
    """The directory, in its order (any signed-in user)."""
    from workflow.directory.store import list_departments as rows

    with ctx.session() as s:
        ctx.viewer(s)
        return rows(s)


def import_departments(ctx: "Context", path: Path) -> tuple[list[str], list[str]]:
    """Create or update departments from a CSV/YAML directory (admins only): (created, updated)."""
    from workflow.directory.importer import parse_directory
    from workflow.directory.store import upsert_departments

    with ctx.session() as s:
        ctx.require(s, states.administers, DIRECTORY_ADMIN)
        return upsert_departments(s, parse_directory(path))


def list_users(ctx: "Context") -> list[Any]:
    """Users as plain views, without tokens or hashes (any signed-in user)."""
    from workflow.directory.store import user_views

    with ctx.session() as s:
        ctx.viewer(s)
        return user_views(s)


def add_delegation(ctx: "Context", to: str, starts_on: dt.date, ends_on: dt.date) -> tuple[Any, Any]:
    """Let `to` act for the acting user from starts_on to ends_on inclusive: (row, delegate)."""
    from workflow.directory.store import add_delegation as add

    with ctx.session() as s:
        return add(s, ctx.actor(s), to, starts_on, ends_on, ctx.clock)
