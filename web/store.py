"""Browser sessions (table web_session, migration 0007).

Only a hash of the cookie is stored: the cookie value is given to the browser once, and
a copy of the database gives nobody a working session. The expiry lives in the row.
(The single-use mail links are workflow/mail_links.py: the Notifier issues them.)
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.engine import Connection, Engine

from db import tables
from db.models import WebSession

web_session = WebSession.__table__  # migration 0007 owns the schema


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
