"""Single-use links in reviewers' mails: bound to one reviewer and one assignment, expiring.

The secret goes into the mail once; only its sha256 is stored (table mail_link), so a
copy of the database opens nothing. Issued inside fire()'s transaction by the Notifier
(a rolled-back move leaves no link behind); spent inside the transaction of the move the
link makes, so a link works once even when it is clicked twice at the same moment.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from db.models import MailLink
from workflow.errors import NotFound, Refused

_L = MailLink.__table__
USED = "这个链接已经使用过（每个链接只能用一次）；请登录督办网页办理。"
EXPIRED = "这个链接已过期；请登录督办网页办理。"
UNKNOWN = "链接无效：可能复制不完整；请登录督办网页办理。"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def issue(conn: Connection, user_id: int, assignment_id: int, days: int) -> str:
    secret = secrets.token_urlsafe(24)
    now = _utcnow()
    conn.execute(insert(_L).values(id=_digest(secret), user_id=user_id, assignment_id=assignment_id,
                                   created_at=now, expires_at=now + dt.timedelta(days=days)))
    return secret


@dataclass(frozen=True)
class Link:
    id: str
    user_id: int
    assignment_id: int
    expires_at: dt.datetime
    used_at: dt.datetime | None


def find(conn: Connection, secret: str | None) -> Link:
    """The link a secret names, refused with one sentence if it is unknown, used or expired."""
    row = None
    if secret and len(secret) <= 100:
        row = conn.execute(select(_L).where(_L.c.id == _digest(secret))).first()
    if row is None:
        raise NotFound(UNKNOWN)
    link = Link(row.id, row.user_id, row.assignment_id, row.expires_at, row.used_at)
    if link.used_at is not None:
        raise Refused(USED)
    if link.expires_at <= _utcnow():
        raise Refused(EXPIRED)
    return link


def spend(conn: Connection, link: Link) -> None:
    """Mark the link used in the caller's transaction; refused if someone spent it first."""
    result = conn.execute(update(_L).where(_L.c.id == link.id, _L.c.used_at.is_(None)).values(used_at=_utcnow()))
    if result.rowcount != 1:
        raise Refused(USED)
