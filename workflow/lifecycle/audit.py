"""The tamper-evident event log: a hash chain per plan.

Every event stores the hash of its own content together with the previous event's
hash; the plan's `chain_head` row keeps the hash of its latest event. Changing,
deleting, inserting or reordering any event breaks the chain at that point, and
`duban audit verify` names the first broken link.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterator, TextIO

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection, Row

from db.models import ChainHead, Event, Plan
from db.prepared import Prepared

_E = Event.__table__
_P = Plan.__table__
_H = ChainHead.__table__
# Built once: chain() runs inside every fire().
_HEAD = select(_H.c.last_hash).where(_H.c.plan_id == bindparam("pid")).with_for_update()
_LOCK_PLAN = select(_P.c.id).where(_P.c.id == bindparam("pid")).with_for_update()
_MOVE_HEAD = update(_H).where(_H.c.plan_id == bindparam("pid")).values(last_hash=bindparam("head"))
# Moves the head only if it is still the one the caller read: the compare happens under
# the write lock (SQLite) or the row lock (PostgreSQL re-checks the condition against
# the latest committed row), so a match means no one else can move it before commit.
_MOVE_HEAD_FROM = Prepared(update(_H).where(_H.c.plan_id == bindparam("pid"),
                                             _H.c.last_hash.is_not_distinct_from(bindparam("seen")))
                           .values(last_hash=bindparam("head")), ("pid", "seen", "head"))
_FIRST_HEAD = insert(_H)
UNREAD = object()  # chain(seen=...) default: the caller has not read the head
HASHED = ("assignment_id", "plan_id", "trigger", "from_state", "to_state", "actor_id",
          "on_behalf_of_id", "comment", "data", "at", "recorded_at")


def _canonical(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def event_hash(event: dict[str, Any], prev_hash: str | None) -> str:
    """sha256 over the event's fields (canonical JSON) and the previous hash."""
    body = {k: _canonical(event.get(k)) for k in HASHED}
    body["prev_hash"] = prev_hash or ""
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chain(conn: Connection, plan_id: int, events: list[dict[str, Any]], seen: Any = UNREAD) -> None:
    """Fill prev_hash/hash of `events` (in order) and move the plan's chain head.

    `seen` is the head the caller read earlier in this transaction (fire() reads it with
    the assignment, saving a statement). It may be stale, so the head moves only if it
    still equals `seen`; otherwise, or when nothing was read, lock the head row (SELECT …
    FOR UPDATE on PostgreSQL; SQLite's write lock is already held), link to the head
    found there and move it, so concurrent writers extend the chain one after another.
    """
    if seen is not UNREAD:
        head = _link(events, seen)
        if _MOVE_HEAD_FROM.execute(conn, {"pid": plan_id, "seen": seen, "head": head}).rowcount == 1:
            return
    found = _locked_head(conn, plan_id)
    head = _link(events, found.last_hash if found else None)
    if found:
        conn.execute(_MOVE_HEAD, {"pid": plan_id, "head": head})
    else:
        conn.execute(_FIRST_HEAD, {"plan_id": plan_id, "last_hash": head})


def _locked_head(conn: Connection, plan_id: int) -> Row | None:
    """The plan's head row, locked; None while the plan has no chain yet.

    A plan gets its head row with its first event. Until then there is no row to lock,
    so the plan row is locked instead and the head read again: of two first writers,
    the second finds the row the first inserted.
    """
    found = conn.execute(_HEAD, {"pid": plan_id}).first()
    if found is None:
        conn.execute(_LOCK_PLAN, {"pid": plan_id})
        found = conn.execute(_HEAD, {"pid": plan_id}).first()
    return found


def _link(events: list[dict[str, Any]], head: str | None) -> str | None:
    """Hash `events` onto `head` in order; returns the new head."""
    for event in events:
        event["prev_hash"] = head
        event["hash"] = head = event_hash(event, head)
    return head


@dataclass
class Break:
    plan_id: int
    event_id: int | None
    problem: str


def verify(conn: Connection) -> tuple[int, list[Break]]:
    """Recompute every plan's chain; returns (events checked, first break per plan)."""
    checked, breaks = 0, []
    heads = dict(conn.execute(select(_P.c.id, _H.c.last_hash)
                              .select_from(_P.outerjoin(_H, _H.c.plan_id == _P.c.id))).all())
    for plan_id, head in heads.items():
        prev = None
        broken = None
        for row in conn.execute(select(_E).where(_E.c.plan_id == plan_id).order_by(_E.c.id)).mappings():
            checked += 1
            if row["prev_hash"] != prev:
                broken = Break(plan_id, row["id"], "与前一条记录的链接不符(前面的记录被删除、插入或调换了顺序)")
                break
            if event_hash(dict(row), prev) != row["hash"]:
                broken = Break(plan_id, row["id"], "内容与其哈希不符(记录被修改)")
                break
            prev = row["hash"]
        if broken is None and prev != head:
            broken = Break(plan_id, None, "计划的链尾与最后一条记录不符(最后的记录被删除或追加)")
        if broken:
            breaks.append(broken)
    return checked, breaks


def export(conn: Connection, out: TextIO) -> int:
    """Write every event as one JSON line, in order; returns the count."""
    n = 0
    for row in _rows(conn):
        out.write(json.dumps({k: _canonical(v) for k, v in row.items()}, ensure_ascii=False) + "\n")
        n += 1
    return n


def _rows(conn: Connection) -> Iterator[dict[str, Any]]:
    for row in conn.execute(select(_E).order_by(_E.c.id)).mappings():
        yield dict(row)
