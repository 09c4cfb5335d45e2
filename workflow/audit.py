"""The tamper-evident event log: a hash chain per plan.

Every event stores the hash of its own content together with the previous event's
hash; the plan row keeps the hash of its latest event. Changing, deleting, inserting
or reordering any event breaks the chain at that point, and `duban audit verify`
names the first broken link.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Iterator, TextIO

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from db.models import Event, Plan

_E = Event.__table__
_P = Plan.__table__
# Built once: chain() runs inside every fire().
_HEAD = select(_P.c.last_hash).where(_P.c.id == bindparam("pid")).with_for_update()
_MOVE_HEAD = update(_P).where(_P.c.id == bindparam("pid")).values(last_hash=bindparam("head"))
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


def chain(conn: Connection, plan_id: int, events: list[dict[str, Any]]) -> None:
    """Fill prev_hash/hash of `events` (in order) and move the plan's chain head.

    Locks the plan row first (SELECT … FOR UPDATE on PostgreSQL; SQLite's write lock is
    already held) so concurrent writers extend the chain one after another.
    """
    head = conn.execute(_HEAD, {"pid": plan_id}).scalar()
    for event in events:
        event["prev_hash"] = head
        event["hash"] = head = event_hash(event, head)
    conn.execute(_MOVE_HEAD, {"pid": plan_id, "head": head})


@dataclass
class Break:
    plan_id: int
    event_id: int | None
    problem: str


def verify(conn: Connection) -> tuple[int, list[Break]]:
    """Recompute every plan's chain; returns (events checked, first break per plan)."""
    checked, breaks = 0, []
    heads = dict(conn.execute(select(_P.c.id, _P.c.last_hash)).all())
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
