"""event identity and changes

Each event now records who acted (and for whom) as they were at the time, and the fields
the transition changed, inside its hashed content (issue 14): renaming a user or editing
an assignment's state behind duban's back no longer goes unnoticed by `audit verify`.

- `hash_form`: 2 for events hashed with these fields (workflow/audit.py); NULL for the
  events written before, which keep their old hash (nothing is re-chained).
- `actor_info`, `principal_info`: {id, name, roles, department_id, department} of the
  actor and of the principal (代办 `--for`), NULL when nobody was acted for.
- `changes`: {column: [before, after]} of the assignment row the event changed.

The old events get `actor_info`/`principal_info` from the users as they are now (the
best record there is); it is not part of their hash, so `audit verify` uses it only to
report users whose name, roles or department have changed since.

A downgrade drops the columns and leaves every hash as it is; events written in the
second form after the upgrade then no longer verify with the older code (their hashed
content included the dropped fields).

Revision ID: 0006
Revises: 0004 (re-pointed to 0005 when merged after the perf branch's migration)
Create Date: 2026-11-30 00:20:00.000000
"""
from typing import Sequence, Union

import json

from alembic import op
import sqlalchemy as sa


revision: str = '0006'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = ("hash_form", "actor_info", "principal_info", "changes")


def upgrade() -> None:
    op.add_column('event', sa.Column('hash_form', sa.Integer(), nullable=True))
    op.add_column('event', sa.Column('actor_info', sa.JSON(), nullable=True))
    op.add_column('event', sa.Column('principal_info', sa.JSON(), nullable=True))
    op.add_column('event', sa.Column('changes', sa.JSON(), nullable=True))
    _fill_people()
    _one_line_titles()


def _one_line_titles() -> None:
    """Plan titles imported with a line break (the YAML importer took them) become one
    line, as imports now make them: a calendar or a mail header cannot carry a break."""
    import re

    conn = op.get_bind()
    plan = sa.table("plan", sa.column("id"), sa.column("title"))
    for pid, title in conn.execute(sa.select(plan.c.id, plan.c.title)).all():
        flat = re.sub(r"[\r\n\t\v\f\x85\u2028\u2029]+", " ", title).strip()
        if flat != title:
            conn.execute(plan.update().where(plan.c.id == pid).values(title=flat))


def _fill_people() -> None:
    """One UPDATE per user and role in the event (actor, principal): users are few."""
    conn = op.get_bind()
    user = sa.table("app_user", sa.column("id"), sa.column("name"), sa.column("roles", sa.JSON),
                    sa.column("department_id"))
    dept = sa.table("department", sa.column("id"), sa.column("name"))
    event = sa.table("event", sa.column("actor_id"), sa.column("on_behalf_of_id"),
                     sa.column("actor_info", sa.JSON), sa.column("principal_info", sa.JSON))
    names = dict(conn.execute(sa.select(dept.c.id, dept.c.name)).all())
    for uid, name, roles, dept_id in conn.execute(sa.select(user.c.id, user.c.name, user.c.roles,
                                                            user.c.department_id)).all():
        if isinstance(roles, str):
            roles = json.loads(roles)
        info = {"id": uid, "name": name, "roles": sorted(roles or []), "department_id": dept_id,
                "department": names.get(dept_id)}
        conn.execute(event.update().where(event.c.actor_id == uid).values(actor_info=info))
        conn.execute(event.update().where(event.c.on_behalf_of_id == uid).values(principal_info=info))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+, as in 0004): no copy of the event table.
    for column in reversed(COLUMNS):
        op.execute(f"ALTER TABLE event DROP COLUMN {column}")
