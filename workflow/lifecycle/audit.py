"""The tamper-evident event log: a hash chain per plan.

Every event stores the hash of its own content together with the previous event's
hash; the plan's `chain_head` row keeps the hash of its latest event. Changing,
deleting, inserting or reordering any event breaks the chain at that point, and
`duban audit verify` names the record where it breaks.

Since migration 0006 an event's hashed content (hash form 2) also holds who acted and
for whom as they were then (name, roles, department) and the assignment columns it
changed; events written before keep their first hash form (no version marker, nothing
re-chained). `examine` adds to the chain check a replay of every assignment's events
against its stored state, due date and version, and a comparison of the users and
departments as they are now with what the events recorded. `anchor` condenses the chain
heads and counts into one line to keep outside the database; `examine(anchor=…)` then
proves that nothing before it was rewritten.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, TextIO

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection, Row

from db.models import Assignment, ChainHead, Department, Event, Plan, User
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
# Hash form 2 (migration 0006): the version marker itself is hashed, so an event cannot be
# passed off as the older form, which would leave out who acted and what changed.
HASH_FORM = 2
HASHED_2 = (*HASHED, "hash_form", "actor_info", "principal_info", "changes")
_U = User.__table__
_D = Department.__table__
_A = Assignment.__table__
_DEPT_NAME = Prepared(select(_D.c.name).where(_D.c.id == bindparam("did")), ("did",))
_PEOPLE = (select(_U.c.id, _U.c.name, _U.c.roles, _U.c.department_id, _D.c.name.label("department"))
           .select_from(_U.outerjoin(_D, _D.c.id == _U.c.department_id))
           .where(_U.c.id.in_(bindparam("ids", expanding=True))))


def _canonical(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# json.dumps with these options builds a new encoder on every call (a third of a hash's
# time); one encoder, the same output.
_CANONICAL_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def event_hash(event: dict[str, Any], prev_hash: str | None) -> str:
    """sha256 over the event's fields (canonical JSON) and the previous hash; the fields
    of the event's hash form (the first form has no marker)."""
    fields = HASHED_2 if event.get("hash_form") == HASH_FORM else HASHED
    body = {k: _canonical(event.get(k)) for k in fields}
    body["prev_hash"] = prev_hash or ""
    text = _CANONICAL_JSON.encode(body)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{column: [before, after]} of the assignment columns an event changes (JSON-safe)."""
    return {k: [_canonical(before.get(k)), _canonical(v)] for k, v in after.items()
            if k != "updated_at" and before.get(k) != v}


def witness(conn: Connection, events: list[dict[str, Any]], users: Iterable[Any],
            departments: dict[int, str | None] | None = None) -> None:
    """Give `events` hash form 2: who acted and for whom (`users`, the actor and principal
    rows loaded in this transaction), beside the `changes` the caller put there.

    The users come from the caller rather than a query: fire() already holds them, and a
    query here cost about a quarter of a fire's CPU time (bench/fire.py). Only the
    department's name is read, by one prepared statement per user, unless the caller read
    it already in this transaction (`departments`, id → name: fire() reads the actor's
    with the assignment).
    """
    known = departments or {}
    people = {}
    for user in users:
        if user is not None and user.id not in people:
            if user.department_id is None:
                dept = None
            elif user.department_id in known:
                dept = known[user.department_id]
            else:
                dept = _DEPT_NAME.execute(conn, {"did": user.department_id}).scalar()
            people[user.id] = {"id": user.id, "name": user.name, "roles": sorted(user.roles or []),
                               "department_id": user.department_id, "department": dept}
    for e in events:
        e["hash_form"] = HASH_FORM
        e["actor_info"] = people.get(e["actor_id"])
        e["principal_info"] = people.get(e.get("on_behalf_of_id"))
        e.setdefault("changes", None)


def _person(row: Any) -> dict[str, Any]:
    roles = json.loads(row.roles) if isinstance(row.roles, str) else row.roles
    return {"id": row.id, "name": row.name, "roles": sorted(roles or []),
            "department_id": row.department_id, "department": row.department}


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
    """The first place a plan's chain breaks; `problem` is a whole sentence naming it."""
    plan_id: int
    event_id: int | None
    problem: str


@dataclass
class Report:
    """Everything `duban audit verify` found (each list holds whole sentences)."""
    checked: int = 0
    breaks: list[Break] = field(default_factory=list)
    records: list[str] = field(default_factory=list)  # assignments that disagree with their events
    people: list[str] = field(default_factory=list)  # users and departments changed since recorded
    anchor: "AnchorCheck | None" = None

    @property
    def ok(self) -> bool:
        return not (self.breaks or self.records or self.people or (self.anchor and self.anchor.problems))


@dataclass
class AnchorCheck:
    made_on: str
    plans: int
    events: int
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def verify(conn: Connection) -> tuple[int, list[Break]]:
    """Recompute every plan's chain; returns (events checked, first break per plan)."""
    report = examine(conn, replay=False)
    return report.checked, report.breaks


def examine(conn: Connection, anchor: "Anchor | None" = None, replay: bool = True) -> Report:
    """The chains, and (with `replay`) the assignments and people against the events."""
    report = Report()
    heads = dict(conn.execute(select(_P.c.id, _H.c.last_hash)
                              .select_from(_P.outerjoin(_H, _H.c.plan_id == _P.c.id))
                              .order_by(_P.c.id)).all())
    replayed: dict[int, _Replay] = {}
    recorded: dict[int, tuple[int, dict[str, Any]]] = {}  # user id -> (event id, info) of the latest event
    anchored = {e.plan_id: e for e in anchor.entries} if anchor else {}
    check = AnchorCheck(anchor.made_on, len(anchor.entries), sum(e.count for e in anchor.entries)) if anchor else None
    for plan_id, head in heads.items():
        walk = _Walk(conn, plan_id, head, anchored.get(plan_id))
        for row in conn.execute(select(_E).where(_E.c.plan_id == plan_id).order_by(_E.c.id)
                                .execution_options(stream_results=True)).mappings():
            report.checked += 1
            walk.step(row)
            if replay:
                _replay_step(replayed, row)
                _remember_people(recorded, row)
        broken = walk.finish()
        if broken:
            report.breaks.append(broken)
        if check is not None and plan_id in anchored:
            check.problems.extend(walk.anchor_problems)
    if check is not None:
        for plan_id in sorted(set(anchored) - set(heads)):
            check.problems.append(f"锚点中的计划 {plan_id} 已不存在（锚点时有 {anchored[plan_id].count} 条记录）")
        later = [p for p, h in heads.items() if p not in anchored and h is not None]
        if later:
            check.notes.append(f"计划 {'、'.join(map(str, later))} 的记录不在锚点中（锚点之后才有记录）")
        report.anchor = check
    if replay:
        report.records = _compare_assignments(conn, replayed)
        report.people = _compare_people(conn, recorded)
    return report


class _Walk:
    """One plan's chain in id order: the first break, named by the record where it is."""

    def __init__(self, conn: Connection, plan_id: int, head: str | None, anchored: "AnchorEntry | None"):
        self.conn, self.plan_id, self.head, self.anchored = conn, plan_id, head, anchored
        self.prev: str | None = None  # the stored hash of the previous record
        self.prev_id: int | None = None
        self.position = 0
        self.seen: dict[str | None, int | None] = {None: None}  # hash -> id of the record it belongs to
        self.ids: list[int] = []
        self.broken: Break | None = None
        self.anchor_problems: list[str] = []
        self.anchor_reached = False

    def step(self, row: Any) -> None:
        self.position += 1
        if self.broken is None:
            self.broken = self._check(row)
        if self.anchored and self.position == self.anchored.count:
            self.anchor_reached = True
            if not row["hash"] or not row["hash"].startswith(self.anchored.head):
                self.anchor_problems.append(
                    f"计划 {self.plan_id} 的第 {self.position} 条记录（第 {row['id']} 号）与锚点不符："
                    f"锚点之前的记录被改写过（或整条链被重新计算）")
            elif self.broken is not None:
                self.anchor_problems.append(
                    f"这处改动在锚点覆盖的范围内（计划 {self.plan_id} 的前 {self.anchored.count} 条记录）")
        self.seen.setdefault(row["hash"], row["id"])
        self.ids.append(row["id"])
        self.prev, self.prev_id = row["hash"], row["id"]

    def finish(self) -> Break | None:
        if self.anchored and not self.anchor_reached:
            self.anchor_problems.append(
                f"计划 {self.plan_id} 现有 {self.position} 条记录，少于锚点时的 {self.anchored.count} 条："
                f"锚点之前的记录被删除")
        if self.broken is None and self.prev != self.head:
            self.broken = Break(self.plan_id, None, self._tail_problem())
        return self.broken

    def _check(self, row: Any) -> Break | None:
        rid = row["id"]
        if event_hash(dict(row), row["prev_hash"]) != row["hash"]:
            return Break(self.plan_id, rid, f"第 {rid} 号记录的内容与它的哈希不符：这条记录被修改过"
                                            f"（或是伪造后插入的）{_who_changed(row)}")
        if row["prev_hash"] == self.prev:
            return None
        link = row["prev_hash"]
        if row["hash"] in self.seen:
            return Break(self.plan_id, rid, f"第 {rid} 号记录是插入的：它是第 {self.seen[row['hash']]} 号记录的复制")
        if link in self.seen:  # links past the records before it: it or they are not in the chain
            start = self.seen[link]
            where = f"第 {start} 号记录之后" if start is not None else f"计划 {self.plan_id} 的开头"
            if self._continues(self.prev, rid) and not self._continues(row["hash"], rid):
                return Break(self.plan_id, rid, f"第 {rid} 号记录是插入的：它接在{where}，"
                                                f"不在计划 {self.plan_id} 的记录链上")
            extra = [i for i in self.ids if start is None or i > start]
            where = f"第 {start} 号记录之后" if start is not None else f"计划 {self.plan_id} 的开头"
            return Break(self.plan_id, extra[0] if extra else rid,
                         f"第 {_ids(extra)}号记录是插入的：它不在计划 {self.plan_id} 的记录链上"
                         f"（第 {rid} 号记录直接接在{where}）")
        later = self.conn.execute(select(_E.c.id).where(_E.c.plan_id == self.plan_id, _E.c.hash == link,
                                                        _E.c.id > rid).limit(1)).scalar()
        if later is not None:
            return Break(self.plan_id, rid, f"第 {rid} 号与第 {later} 号记录的顺序被调换："
                                            f"第 {rid} 号记录链接的是排在它后面的第 {later} 号记录")
        missing = _missing_ids(self.conn, self.prev_id, rid)
        if missing:
            return Break(self.plan_id, rid, f"第 {_ids(missing)}号记录被删除：第 {rid} 号记录链接的前一条记录已不存在")
        if self.prev_id is None:
            return Break(self.plan_id, rid, f"计划 {self.plan_id} 开头的记录被删除：第 {rid} 号记录链接的前一条记录已不存在")
        return Break(self.plan_id, rid, f"第 {self.prev_id} 号记录被改写并重新计算了哈希："
                                        f"第 {rid} 号记录链接的仍是它原来的哈希")

    def _continues(self, hash_: str | None, after: int) -> bool:
        """Whether the chain goes on from `hash_`: the head, or a later record links to it."""
        if hash_ is None:
            return False
        if hash_ == self.head:
            return True
        return self.conn.execute(select(_E.c.id).where(_E.c.plan_id == self.plan_id, _E.c.prev_hash == hash_,
                                                       _E.c.id > after).limit(1)).first() is not None

    def _tail_problem(self) -> str:
        if self.head is None:
            return f"计划 {self.plan_id} 有 {self.position} 条记录，却没有记录链尾（链尾被删除）"
        if self.head in self.seen:
            end = self.seen[self.head]
            extra = [i for i in self.ids if end is None or i > end]
            if end is None:
                return f"计划 {self.plan_id} 的链尾表示没有记录，现有的{_ids(extra)}号记录是插入的"
            return f"{_ids(extra)}号记录在计划 {self.plan_id} 的链尾（第 {end} 号记录）之后，是追加的"
        if not self.ids:
            return f"计划 {self.plan_id} 的全部记录被删除（链尾指向的记录已不存在）"
        missing = _missing_ids(self.conn, self.prev_id, None)
        if missing:
            return f"第 {_ids(missing)}号记录被删除（计划 {self.plan_id} 的记录链原本到此为止）"
        return (f"计划 {self.plan_id} 的链尾指向的记录已不存在：第 {self.prev_id} 号记录之后的记录被删除，"
                f"或第 {self.prev_id} 号记录被改写后重新计算了哈希")


def _ids(ids: list[int]) -> str:
    """第 … 号: a few ids, or the first and last of many."""
    if len(ids) > 5:
        return f"{ids[0]}–{ids[-1]} 共 {len(ids)} 条"
    return "、".join(map(str, ids)) + " "


def _missing_ids(conn: Connection, after: int | None, before: int | None) -> list[int]:
    """Ids between two records that no event has now (of any plan): deleted ones.

    Ids are given in order; a gap can also come from a rolled-back insert on
    PostgreSQL, so this names the likely deleted records, at most a few."""
    low = after if after is not None else 0
    high = before if before is not None else conn.execute(select(func.max(_E.c.id))).scalar() or 0
    if before is None:  # after the last record of the plan: up to the highest id ever given
        high = max(high, _highest_id(conn)) + 1
    if high - low > 10_000:
        return []
    present = set(conn.execute(select(_E.c.id).where(_E.c.id > low, _E.c.id < high)).scalars())
    return [i for i in range(low + 1, high) if i not in present]


def _highest_id(conn: Connection) -> int:
    """The highest event id ever given (SQLite's AUTOINCREMENT counter or PostgreSQL's
    sequence), or 0 when the database does not say."""
    try:
        if conn.dialect.name == "sqlite":
            value = conn.exec_driver_sql("SELECT seq FROM sqlite_sequence WHERE name = 'event'").scalar()
        else:
            value = conn.exec_driver_sql(
                "SELECT last_value FROM pg_sequences WHERE sequencename = 'event_id_seq' "
                "AND schemaname = current_schema()").scalar()
        return int(value or 0)
    except Exception:  # noqa: BLE001 - a hint only; no sequence table means no hint
        return 0


def _who_changed(row: Any) -> str:
    """For a form-2 record whose actor id no longer matches its recorded actor: say so."""
    info = row.get("actor_info") if hasattr(row, "get") else None
    if isinstance(info, str):
        info = json.loads(info)
    if row["hash_form"] == HASH_FORM and info and info.get("id") != row["actor_id"]:
        return f"；办理人编号现为 #{row['actor_id']}，记录中的办理人是 #{info.get('id')}“{info.get('name')}”"
    return ""


@dataclass
class _Replay:
    plan_id: int
    state: str = ""
    count: int = 0
    version: int | None = None
    due: str | None = None
    last_event: int = 0
    gap: str | None = None  # the first event that does not start where the one before ended


def _replay_step(replayed: dict[int, _Replay], row: Any) -> None:
    r = replayed.get(row["assignment_id"])
    if r is None:
        r = replayed[row["assignment_id"]] = _Replay(row["plan_id"])
    if r.count and r.gap is None and row["from_state"] != r.state:
        r.gap = (f"第 {row['id']} 号记录从“{_label(row['from_state'])}”开始，"
                 f"而上一条（第 {r.last_event} 号）停在“{_label(r.state)}”")
    r.count += 1
    r.state, r.last_event = row["to_state"], row["id"]
    data = row["data"]
    if isinstance(data, str):
        data = json.loads(data)
    changes = row["changes"]
    if isinstance(changes, str):
        changes = json.loads(changes)
    if changes:
        if "version" in changes:
            r.version = changes["version"][1]
        if "due_date" in changes:
            r.due = changes["due_date"][1]
    elif row["trigger"] == "distribute":
        r.due = (data or {}).get("due", r.due)
    elif row["trigger"] == "approve_delay":
        r.due = (data or {}).get("new_due", r.due)


def _compare_assignments(conn: Connection, replayed: dict[int, _Replay]) -> list[str]:
    """Every assignment's stored state, version and due date against its events."""
    found = []
    for aid, state, version, due in conn.execute(
            select(_A.c.id, _A.c.state, _A.c.version, _A.c.due_date).order_by(_A.c.id)):
        r = replayed.pop(aid, None)
        if r is None:
            found.append(f"事项 {aid} 没有任何办理记录（事项不是经 duban 下发的）")
            continue
        due = due.isoformat() if hasattr(due, "isoformat") else str(due)
        wrong = []
        if state != r.state:
            wrong.append(f"状态为“{_label(state)}”（记录为“{_label(r.state)}”）")
        expected_version = r.version if r.version is not None else r.count
        if version != expected_version:
            wrong.append(f"版本为 {version}（记录为 {expected_version}）")
        if r.due is not None and due != r.due:
            wrong.append(f"完成时限为 {due}（记录为 {r.due}）")
        if wrong:
            found.append(f"事项 {aid} 与它的办理记录不符：{'，'.join(wrong)}")
        if r.gap:
            found.append(f"事项 {aid} 的{r.gap}")
    return found


def _remember_people(recorded: dict[int, tuple[int, dict[str, Any]]], row: Any) -> None:
    for key in ("actor_info", "principal_info"):
        info = row[key]
        if isinstance(info, str):
            info = json.loads(info)
        if info and info.get("id") is not None:
            seen = recorded.get(info["id"])
            if seen is None or seen[0] < row["id"]:
                recorded[info["id"]] = (row["id"], info)


def _compare_people(conn: Connection, recorded: dict[int, tuple[int, dict[str, Any]]]) -> list[str]:
    """Users and departments whose name, roles or department differ from the latest record."""
    now = {r.id: _person(r) for r in conn.execute(_PEOPLE, {"ids": sorted(recorded)})}
    found, departments = [], {}
    for uid in sorted(recorded):
        event_id, was = recorded[uid]
        cur = now.get(uid)
        if cur is None:
            found.append(f"用户 #{uid} 已不存在，办理记录中为“{was.get('name')}”")
            continue
        if cur["name"] != was.get("name"):
            found.append(f"用户 #{uid} 现名“{cur['name']}”，办理记录中为“{was.get('name')}”")
        if cur["roles"] != sorted(was.get("roles") or []):
            found.append(f"用户 #{uid}“{cur['name']}”现在的角色为 {_roles(cur['roles'])}，"
                         f"办理记录中为 {_roles(was.get('roles'))}")
        if cur["department_id"] != was.get("department_id"):
            found.append(f"用户 #{uid}“{cur['name']}”现属{_dept(cur['department'])}，"
                         f"办理记录中属{_dept(was.get('department'))}")
        elif cur["department"] != was.get("department") and cur["department_id"] is not None:
            departments.setdefault(cur["department_id"], (cur["department"], was.get("department")))
    for dept_id, (cur_name, was_name) in sorted(departments.items()):
        found.append(f"处室 #{dept_id} 现名“{cur_name}”，办理记录中为“{was_name}”")
    return found


def _roles(roles: Any) -> str:
    return "、".join(roles or []) or "（无）"


def _dept(name: str | None) -> str:
    return f"“{name}”" if name else "无处室"


def _label(state: str) -> str:
    import states

    return states.state_label(state) if state else "（无）"


# ---------------------------------------------------------------- anchor
ANCHOR_PREFIX = "duban-anchor:v1:"
ANCHOR_HEAD = 32  # hex digits of each head kept in the line (128 bits)
_ANCHOR_RE = re.compile(r"duban-anchor:v1:[0-9A-Za-z.:,_-]+")


@dataclass(frozen=True)
class AnchorEntry:
    plan_id: int
    count: int
    head: str


@dataclass(frozen=True)
class Anchor:
    made_on: str
    entries: tuple[AnchorEntry, ...]

    @property
    def line(self) -> str:
        body = f"{self.made_on}:" + ",".join(f"{e.plan_id}.{e.count}.{e.head}" for e in self.entries)
        return f"{ANCHOR_PREFIX}{body}:{_checksum(body)}"


def _checksum(body: str) -> str:
    return hashlib.sha256(body.encode("ascii")).hexdigest()[:8]


def anchor(conn: Connection, today: dt.date) -> Anchor:
    """Every chain's head and length now, as one line to keep outside the database."""
    counts = dict(conn.execute(select(_E.c.plan_id, func.count()).group_by(_E.c.plan_id)).all())
    heads = conn.execute(select(_H.c.plan_id, _H.c.last_hash).where(_H.c.last_hash.is_not(None))
                         .order_by(_H.c.plan_id)).all()
    return Anchor(today.isoformat(), tuple(AnchorEntry(pid, counts.get(pid, 0), head[:ANCHOR_HEAD])
                                           for pid, head in heads))


def parse_anchor(text: str) -> Anchor:
    """An anchor line (the last one, when `text` is a file's content holding several).

    Raises ValueError with a Chinese sentence when there is none or it was mistyped."""
    found = _ANCHOR_RE.findall(text)
    if not found:
        raise ValueError("没有找到锚点：锚点是以 duban-anchor:v1: 开头的一行（由 duban audit anchor 打印）")
    line = found[-1]
    body, _, check = line[len(ANCHOR_PREFIX):].rpartition(":")
    if _checksum(body) != check:
        raise ValueError(f"锚点“{line[:60]}…”的校验码不符：抄写时有错或不完整")
    made_on, _, rest = body.partition(":")
    entries = []
    for part in filter(None, rest.split(",")):
        pid, count, head = part.split(".")
        entries.append(AnchorEntry(int(pid), int(count), head))
    return Anchor(made_on, tuple(entries))


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
