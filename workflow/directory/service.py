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


def set_user(ctx: "Context", name: str, roles: list[str] | None = None, dept: str | None = None,
             email: str | None = None, no_department: bool = False) -> Any:
    """Change a user's roles, department or email (admins only); returns a UserChange."""
    from workflow.access.scope import SET_USER
    from workflow.access.service import find_user
    from workflow.directory.store import set_user as change
    from workflow.errors import BadInput

    if roles is None and dept is None and email is None and not no_department:
        raise BadInput("请指定要修改的内容：--role、--dept、--no-dept 或 --email,"
                       "例如 duban user set 张三 --dept 科监处。")
    if dept is not None and no_department:
        raise BadInput("--dept 与 --no-dept 只能二选一。")
    with ctx.session() as s:
        ctx.require(s, states.administers, SET_USER)
        return change(s, find_user(s, name), roles, dept, email, no_department)


def list_delegations(ctx: "Context", everyone: bool = False) -> list[Any]:
    """The acting user's delegations (given and received); `everyone` for office roles."""
    from workflow.directory.store import list_delegations as rows
    from workflow.errors import NotPermitted

    with ctx.session() as s:
        user = ctx.viewer(s)
        if everyone and user is not None and not states.reads_all(user.roles):
            raise NotPermitted(f"{user.name}无权查看他人的代办授权：--all 只供审核人、督查和管理员使用。")
        return rows(s, ctx.clock.today(), None if (everyone or user is None) else user.id)


def revoke_delegation(ctx: "Context", delegation_id: int) -> Any:
    """End a delegation now (the principal, the delegate or an admin); the record stays."""
    from workflow.directory.store import revoke_delegation as revoke

    with ctx.session() as s:
        return revoke(s, ctx.actor(s), delegation_id, ctx.clock)
