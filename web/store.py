"""The web front end's own rows: browser sessions and single-use mail links.

Declared with SQLAlchemy Core (as db/tables.py); the schema is migration 0007. Only
hashes of the secrets are stored: the cookie value and the link's secret are shown to
the browser once, and a copy of the database gives nobody a working session or link.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection, Engine

from db import tables

metadata = MetaData()  # never creates anything: migration 0007 owns the schema

web_session = Table(
    "web_session", metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", Integer, nullable=False),
    Column("token_hash", String(300), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

mail_link = Table(
    "mail_link", metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", Integer, nullable=False),
    Column("assignment_id", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Column("used_at", DateTime),
)

SESSION_HOURS = 12


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class SignedIn:
    """Who a request's session cookie belongs to (checked against the user row each time)."""

    session_id: str
    user_id: int
    csrf: str


def open_session(engine: Engine, user_id: int, token_hash: str, hours: int = SESSION_HOURS) -> tuple[str, str]:
    """A new session for `user_id`; returns (cookie value, csrf token). Only hashes are kept."""
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(delete(web_session).where(web_session.c.expires_at < now))  # tidy expired ones
        conn.execute(insert(web_session).values(
            id=_digest(cookie), user_id=user_id, token_hash=token_hash, csrf=csrf,
            created_at=now, expires_at=now + dt.timedelta(hours=hours)))
    return cookie, csrf


_CHECK = (select(web_session.c.id, web_session.c.user_id, web_session.c.csrf)
          .select_from(web_session.join(tables.app_user, tables.app_user.c.id == web_session.c.user_id))
          .where(web_session.c.id == bindparam("sid"),
                 web_session.c.expires_at > bindparam("now"),
                 tables.app_user.c.active.is_(True),
                 tables.app_user.c.token_hash == web_session.c.token_hash))


def check_session(conn: Connection, cookie: str | None) -> SignedIn | None:
    """The session a cookie names, if it has not expired and its user's token is the one
    they signed in with and still active: a revoked user or a rotated token ends every
    session of theirs at the next request."""
    if not cookie or len(cookie) > 100:
        return None
    row = conn.execute(_CHECK, {"sid": _digest(cookie), "now": utcnow()}).first()
    return SignedIn(row.id, row.user_id, row.csrf) if row else None


def close_session(engine: Engine, cookie: str | None) -> None:
    if cookie:
        with engine.begin() as conn:
            conn.execute(delete(web_session).where(web_session.c.id == _digest(cookie)))


def sessions_of(conn: Connection, user_id: int) -> int:
    from sqlalchemy import func

    return conn.execute(select(func.count()).select_from(web_session)
                        .where(web_session.c.user_id == user_id)).scalar_one()


# ---------------------------------------------------------------- mail links
def issue_link(conn: Connection, user_id: int, assignment_id: int, days: int) -> str:
    """A single-use secret for one reviewer and one assignment, valid `days` days."""
    secret = secrets.token_urlsafe(24)
    now = utcnow()
    conn.execute(insert(mail_link).values(id=_digest(secret), user_id=user_id, assignment_id=assignment_id,
                                          created_at=now, expires_at=now + dt.timedelta(days=days)))
    return secret


@dataclass(frozen=True)
class Link:
    id: str
    user_id: int
    assignment_id: int
    expires_at: dt.datetime
    used_at: dt.datetime | None

    @property
    def usable(self) -> bool:
        return self.used_at is None and self.expires_at > utcnow()


def find_link(conn: Connection, secret: str | None) -> Link | None:
    if not secret or len(secret) > 100:
        return None
    row = conn.execute(select(mail_link).where(mail_link.c.id == _digest(secret))).first()
    return Link(row.id, row.user_id, row.assignment_id, row.expires_at, row.used_at) if row else None


def use_link(conn: Connection, link: Link) -> bool:
    """Mark the link used; False if someone used it first (one guarded update)."""
    result = conn.execute(update(mail_link).where(mail_link.c.id == link.id, mail_link.c.used_at.is_(None))
                          .values(used_at=utcnow()))
    return result.rowcount == 1
