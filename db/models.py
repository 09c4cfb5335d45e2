"""SQLModel tables (DESIGN §4). Storage only: no workflow rules live here.

Times are naive: business times in China wall time, `recorded_at` in UTC.

Every schema change goes through an Alembic migration in db/migrations/versions.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import NaiveDatetime
from sqlalchemy import JSON, Column, Index, Integer, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


class Department(SQLModel, table=True):
    __tablename__ = "department"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=200)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    email: str | None = Field(default=None, max_length=320)
    kind: str = Field(default="business", max_length=20)  # office | business | unit
    head: str | None = Field(default=None, max_length=200)


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True, max_length=200)
    email: str = Field(max_length=320)
    department_id: int | None = Field(default=None, foreign_key="department.id")
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    token_hash: str | None = Field(default=None, max_length=300)
    active: bool = True
    created_at: NaiveDatetime


class Plan(SQLModel, table=True):
    __tablename__ = "plan"
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=500)
    issuer: str | None = Field(default=None, max_length=200)
    year: int
    issued_on: dt.date | None = None
    distribute_by: dt.date | None = None
    due: dt.date | None = None
    delay_rule: str | None = None
    source: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: NaiveDatetime
    published_at: NaiveDatetime | None = None
    archived_at: NaiveDatetime | None = None  # `plan archive`: hidden from lists, title free again


class ChainHead(SQLModel, table=True):
    """Head of a plan's tamper-evident event chain: the hash of its latest event.

    A row of its own rather than a column of `plan`: every fire moves the head, and a
    plan row carries the plan's whole source document (hundreds of KB for a large
    plan), which SQLite rewrites in full on any update of the row.
    """

    __tablename__ = "chain_head"
    plan_id: int = Field(foreign_key="plan.id", primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_hash: str | None = Field(default=None, max_length=64)


class Task(SQLModel, table=True):
    __tablename__ = "task"
    __table_args__ = (UniqueConstraint("plan_id", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    seq: int
    chapter: str | None = None
    section: str | None = None
    requirement: str
    note: str | None = None
    due: dt.date | None = None
    recurrence: str | None = Field(default=None, max_length=20)
    ongoing: bool = False
    responsibilities: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False))


_assignment_version = Column("version", Integer, nullable=False)


class Assignment(SQLModel, table=True):
    """One (task, department, role, period): the row the state machine moves."""

    __tablename__ = "assignment"
    __table_args__ = (
        UniqueConstraint("task_id", "department_id", "role", "period"),
        Index("ix_assignment_state_due", "state", "due_date"),
        Index("ix_assignment_department_state_due", "department_id", "state", "due_date"),
        Index("ix_assignment_state_updated", "state", "updated_at", "id"),
    )
    __mapper_args__ = {"version_id_col": _assignment_version}
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    department_id: int = Field(foreign_key="department.id")
    role: str = Field(max_length=20)
    period: str = Field(default="", max_length=10)  # "", "2021Q3", "2021H2"
    due_date: dt.date
    state: str = Field(default="assigned", max_length=20)
    # Who last submitted (and for whom), kept with the row for separation of duties.
    submitted_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    submitted_for_id: int | None = Field(default=None, foreign_key="app_user.id")
    delay_requested_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: NaiveDatetime
    updated_at: NaiveDatetime
    version: int | None = Field(default=None, sa_column=_assignment_version)


class Event(SQLModel, table=True):
    """Append-only history: one row per successful transition."""

    __tablename__ = "event"
    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    trigger: str = Field(max_length=30)
    from_state: str = Field(max_length=20)
    to_state: str = Field(max_length=20)
    actor_id: int = Field(foreign_key="app_user.id")
    on_behalf_of_id: int | None = Field(default=None, foreign_key="app_user.id")
    comment: str | None = None
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: NaiveDatetime  # business time (simulated with --today)
    recorded_at: NaiveDatetime  # real wall clock, UTC
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)
    # Hashed with the event since migration 0006 (hash_form 2; NULL: the older form):
    # who acted and for whom as they were then, and the assignment columns it changed.
    hash_form: int | None = None
    actor_info: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    principal_info: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    changes: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class Attachment(SQLModel, table=True):
    __tablename__ = "attachment"
    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    event_id: int | None = Field(default=None, foreign_key="event.id")
    name: str = Field(max_length=255)
    sha256: str = Field(max_length=64)  # the content: attachment_blob / attachment_chunk
    size: int


class AttachmentBlob(SQLModel, table=True):
    """One stored content, shared by every attachment with this sha256 (migration 0009)."""

    __tablename__ = "attachment_blob"
    sha256: str = Field(primary_key=True, max_length=64)
    size: int


class AttachmentChunk(SQLModel, table=True):
    """The content in pieces of at most 1 MiB, in order of `idx`; written and read one
    piece at a time, so a 20 MB file never sits in memory whole. While a command copies a
    file its pieces carry a provisional key ("~" and 32 hex digits) until the file's
    sha256 is known; the command's transaction renames or drops them before it commits."""

    __tablename__ = "attachment_chunk"
    sha256: str = Field(primary_key=True, max_length=64)
    idx: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Notification(SQLModel, table=True):
    """The outbox: written in the transaction of the event that caused it."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_status_next", "status", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=300)  # idempotency key
    kind: str = Field(max_length=40)
    recipient: str = Field(max_length=320)
    subject: str = Field(max_length=1000)
    text: str
    html: str | None = None
    status: str = Field(default="pending", max_length=10)  # pending | sent | failed
    attempts: int = 0
    next_attempt_at: NaiveDatetime | None = None
    last_error: str | None = None
    event_id: int | None = Field(default=None, foreign_key="event.id")
    assignment_id: int | None = Field(default=None, foreign_key="assignment.id")
    created_at: NaiveDatetime  # business time, China wall (follows --today, like event.at)
    sent_at: NaiveDatetime | None = None  # real time, UTC (like next_attempt_at)
    # A mail rendered later: {"templates_dir": …, "values": {…}} (notifications/render.py,
    # `stored_context`). subject and text stay empty until the dispatcher renders it.
    context: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class ReminderLog(SQLModel, table=True):
    """One item in one recipient's reminder digest on one day.

    Written in the transaction that enqueues the digest, so a second sweep the
    same day mails a recipient only the items not yet logged for them (a new
    overdue, a new submission), never the same item twice.
    """

    __tablename__ = "reminder_log"
    __table_args__ = (UniqueConstraint("day", "recipient", "kind", "assignment_id",
                                       name="uq_reminder_log_item"),)
    id: int | None = Field(default=None, primary_key=True)
    day: dt.date
    recipient: str = Field(max_length=320)  # lower-cased address
    kind: str = Field(max_length=20)  # before | due_today | overdue | escalation | review_waiting
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    notification_id: int = Field(foreign_key="notification.id")


class DirectoryVersion(SQLModel, table=True):
    """One row: how many times the recipient directory (users, departments, delegations)
    has changed, and a random stamp renewed at each change. Bumped by database triggers
    (migration 0005) in the transaction of the change; workflow/recipients.py keeps a
    loaded directory while the stamp stays the same."""

    __tablename__ = "directory_version"
    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    version: int
    stamp: str = Field(max_length=40)


class Delegation(SQLModel, table=True):
    __tablename__ = "delegation"
    id: int | None = Field(default=None, primary_key=True)
    from_user_id: int = Field(foreign_key="app_user.id")
    to_user_id: int = Field(foreign_key="app_user.id")
    starts_on: dt.date
    ends_on: dt.date
    created_at: NaiveDatetime
    revoked_at: NaiveDatetime | None = None  # `delegate revoke`: ended early, the record stays


class WebSession(SQLModel, table=True):
    """A signed-in browser (duban serve). `id` is the sha256 of the cookie; `token_hash` is
    the user's token hash at sign-in, so a rotated or revoked token ends the session."""

    __tablename__ = "web_session"
    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    token_hash: str = Field(max_length=300)
    csrf: str = Field(max_length=64)
    created_at: NaiveDatetime
    expires_at: NaiveDatetime


class MailLink(SQLModel, table=True):
    """A reviewer's single-use approve-from-the-mail link; `id` is the sha256 of its secret."""

    __tablename__ = "mail_link"
    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="app_user.id")
    assignment_id: int = Field(foreign_key="assignment.id")
    created_at: NaiveDatetime
    expires_at: NaiveDatetime
    used_at: NaiveDatetime | None = None


class Instance(SQLModel, table=True):
    """One row: the random id of this database, made by migration 0010 at `db init`.
    Message-IDs and calendar UIDs carry it so two databases never share one."""

    __tablename__ = "instance"
    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    instance_id: str = Field(max_length=32)
