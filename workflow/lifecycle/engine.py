"""`fire()`: one state change as one transaction (DESIGN §4).

Load the assignment, ask states/ whether the actor may fire the trigger and whether
the required fields are there, run the transition on the shared Machine, then write
the new state with a guarded update (`WHERE id=? AND version=?`), one append-only
event and the notifications the transition's `after` callback asked for. Anything
refused raises a typed error and writes nothing.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from sqlalchemy import bindparam, insert, literal_column, select, update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from transitions import MachineError

import states
from db.models import (Assignment, Attachment, ChainHead, Delegation, Department, DirectoryVersion, Event, Plan,
                       Task, User)
from db.prepared import Prepared, PreparedInsert, PreparedRow
from workflow.access.scope import item_not_found, require_item, visible_departments
from workflow.lifecycle.audit import chain, changed, witness
from workflow.clock import Clock
from workflow.lifecycle.notify import Notifier
from notifications.outbox import enqueue
from workflow.errors import (BadInput, DubanError, InvalidMove, LostRace, MissingField, NotPermitted, Refused,
                             unsaved)

MACHINE = states.build_machine()
MAX_COMMENT = 10_000

_A = Assignment.__table__
_E = Event.__table__
_H = ChainHead.__table__
# Statements built once: fire() is the hot path, and SQLAlchemy's per-call statement
# construction costs more than the SQLite writes themselves. The plan's chain head
# comes along with the row, so chain() reads it again only if another writer has
# moved it in between.
# The actor's department name (hashed with the event, audit.witness) comes along too.
_D = Department.__table__
_ACTOR_DEPARTMENT = (select(_D.c.name).where(_D.c.id == bindparam("actor_dept")).scalar_subquery()
                     .label("actor_department"))
_SELECT_ROW = (select(_A, _H.c.last_hash.label("plan_head"), _ACTOR_DEPARTMENT)
               .select_from(_A.outerjoin(_H, _H.c.plan_id == _A.c.plan_id)))
_SELECT = _SELECT_ROW.where(_A.c.id == bindparam("aid"))
# A trigger with mail reads what its mail needs along (task, plan title, the directory
# stamp the recipient cache is checked against, workflow/recipients.py): one statement
# instead of three. One without mail does not pay for those columns.
_T, _P, _DV = Task.__table__, Plan.__table__, DirectoryVersion.__table__
_SELECT_ROW_WITH_MAIL = (
    select(_A, _H.c.last_hash.label("plan_head"), _ACTOR_DEPARTMENT, _P.c.title.label("plan_title"),
           _T.c.seq.label("task_seq"), _T.c.requirement.label("task_requirement"),
           select(_DV.c.stamp).where(_DV.c.id == literal_column("1")).scalar_subquery().label("directory_stamp"))
    .select_from(_A.outerjoin(_H, _H.c.plan_id == _A.c.plan_id).join(_T, _T.c.id == _A.c.task_id)
                 .join(_P, _P.c.id == _A.c.plan_id)))
_SELECT_WITH_MAIL = _SELECT_ROW_WITH_MAIL.where(_A.c.id == bindparam("aid"))
# fire_many reads a batch's rows in one statement (a round trip per item costs more than
# the item's own work on PostgreSQL).
_SELECT_MANY, _SELECT_MANY_WITH_MAIL = (q.where(_A.c.id.in_(bindparam("aids", expanding=True)))
                                        for q in (_SELECT_ROW, _SELECT_ROW_WITH_MAIL))
# The event and the guarded update are prepared (db/prepared.py): fire()'s writes are
# small, and SQLAlchemy's per-execution parameter handling cost more than SQLite's work.
_EVENT_COLUMNS = ("assignment_id", "plan_id", "trigger", "from_state", "to_state", "actor_id",
                  "on_behalf_of_id", "comment", "data", "at", "recorded_at", "prev_hash", "hash",
                  "hash_form", "actor_info", "principal_info", "changes")
_INSERT_EVENT = PreparedInsert(insert(_E), _EVENT_COLUMNS)
# A batch's events in one INSERT … RETURNING id, the ids in the order of the rows.
_INSERT_EVENTS = insert(_E).returning(_E.c.id, sort_by_parameter_order=True)
_READ, _READ_WITH_MAIL = (PreparedRow(q, ("aid", "actor_dept")) for q in (_SELECT, _SELECT_WITH_MAIL))
_UPDATES: dict[frozenset[str], Prepared] = {}


def _update_statement(columns: frozenset[str]) -> Prepared:
    """`UPDATE assignment SET … WHERE id=:aid AND version=:expected`, prepared per column set."""
    stmt = _UPDATES.get(columns)
    if stmt is None:
        names = sorted(columns)
        stmt = Prepared(update(_A).where(_A.c.id == bindparam("aid"), _A.c.version == bindparam("expected"))
                        .values({c: bindparam(c) for c in names}), [*names, "aid", "expected"])
        _UPDATES[columns] = stmt
    return stmt


@dataclass
class FireResult:
    assignment_id: int
    trigger: str
    from_state: str
    to_state: str
    event_id: int
    version: int
    notifications: int = 0


@dataclass
class Fields:
    """What the user typed for a trigger; which of these are required is states/' call."""

    summary: str | None = None
    comment: str | None = None
    reason: str | None = None
    until: dt.date | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"summary": self.summary, "comment": self.comment, "reason": self.reason,
                "until": self.until, "attachments": self.attachments or None}


def fire(session: Session, assignment_id: int, trigger: str, actor: User, *,
         clock: Clock, fields: Fields | None = None, on_behalf_of: User | None = None,
         expected_version: int | None = None,
         before_write: Callable[[], None] | None = None,
         notifier: Notifier | None = None) -> FireResult:
    """Fire `trigger` on one assignment as `actor` (acting for `on_behalf_of` if given).

    Commits on success; rolls back and raises a DubanError otherwise.
    """
    fields = fields or Fields()
    with _committing(session, f"第 {assignment_id} 号事项正被他人同时处理，数据库繁忙，本次操作未生效，请稍后重试。"):
        return _fire(session, assignment_id, trigger, actor, clock, fields, on_behalf_of,
                     expected_version, before_write, notifier or Notifier())


@contextlib.contextmanager
def _committing(session: Session, busy: str) -> Iterator[None]:
    """One transaction of fire() or fire_many(): committed when the block ends; rolled
    back on any failure, so nothing is half-written, and a database failure raised as
    the sentence the user reads (`busy` if the database was busy or locked)."""
    try:
        yield
        session.commit()
    except OperationalError as exc:
        session.rollback()
        raise unsaved(exc, busy) from exc
    except BaseException:
        session.rollback()
        raise


BATCH = 250  # fire_many: assignments per transaction


@dataclass
class Many:
    """What fire_many did: the moves committed, and the assignments refused with the sentence."""

    fired: list[FireResult] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)


def fire_many(session: Session, assignment_ids: list[int], trigger: str, actor: User, *,
              clock: Clock, fields: Fields | None = None, notifier: Notifier | None = None,
              batch: int | None = None) -> Many:
    """Fire `trigger` on each assignment as `actor`, exactly as fire() would one by one
    (the same checks per item, events, hash-chain links and mails), but committing each
    `batch` of them (BATCH) in one transaction: a commit costs more than a fire's own work.
    A batch's rows are read in one statement, and its events, chain link and mails are
    written together after its moves (_record), so an item costs one statement of its own
    (the guarded update) rather than five.

    An item fire() would refuse is reported with the sentence and left unchanged: refusals
    come before the item's first write (a lost race finds no row to update); should one
    ever come after, the batch is rolled back and it is raised.
    A database failure rolls back the batch in hand, so nothing is half-written, and is
    raised; the batches before it stay committed.
    """
    fields = fields or Fields()
    notifier = notifier or Notifier()
    batch = batch or BATCH
    transition = states.TRANSITION_BY_TRIGGER.get(trigger)
    done = Many()
    writing: list[int] = []  # the item whose writes began (fire()'s before_write)
    for start in range(0, len(assignment_ids), batch):
        ids = assignment_ids[start:start + batch]
        moves: list[_Move] = []
        with _committing(session, f"数据库繁忙，批量操作已中断：此前的 {len(done.fired)} 项已保存，其余未生效，请稍后重试。"):
            rows = _read_many(session, ids, transition, actor) if transition else {}
            now = clock.now()  # one time for the batch: its mails are added together
            for assignment_id in ids:
                try:
                    move = _move(session, assignment_id, trigger, actor, clock, fields, None, None,
                                 functools.partial(writing.append, assignment_id), now,
                                 rows.get(assignment_id, _ABSENT))
                except Refused as exc:
                    if writing and writing[-1] == assignment_id and not isinstance(exc, LostRace):
                        raise  # refused after its first write: the batch goes, not half an item
                    done.refused.append((assignment_id, exc.message))
                    continue
                moves.append(move)
                rows[assignment_id] = {**move.after, "plan_head": move.plan_head,  # a repeated id
                                       "actor_department": move.departments[actor.department_id]}  # meets it moved
            fired = _record(session, moves, notifier) if moves else []
        done.fired += fired
    return done


_ABSENT: dict[str, Any] = {}  # fire_many: an id its batch read found no row for


@dataclass
class Asked:
    """One fire() asked of fire_each: what fire() takes for one assignment (no attachments:
    those are stored before the move, and a refused move must leave none behind)."""

    assignment_id: int
    trigger: str
    actor: User
    fields: Fields = field(default_factory=Fields)
    on_behalf_of: User | None = None
    expected_version: int | None = None


def fire_each(session: Session, asked: list[Asked], *, clock: Clock,
              notifier: Notifier | None = None) -> list[FireResult | DubanError]:
    """Each of `asked` exactly as fire() would make it alone, in order (the same checks,
    event, hash-chain link and mails; a later one meets the item as an earlier one left
    it), committed together in one transaction: on SQLite the commit (its fsync) costs
    more than a move, and the web server's writer hands over the moves that queued up
    while it wrote the last ones (group commit).

    A refused one is answered with its error in its place and writes nothing (refusals
    come before an item's first write). A database failure rolls back every one of them
    and is raised, so nothing is half-written.
    """
    notifier = notifier or Notifier()
    outcomes: list[FireResult | DubanError] = []
    moves: list[_Move] = []
    with _committing(session, "数据库繁忙，本次操作未生效，请稍后重试。"):
        for a in asked:
            if a.fields.attachments:
                raise ValueError("fire_each takes no attachments: use fire()")
            try:
                move = _move(session, a.assignment_id, a.trigger, a.actor, clock, a.fields, a.on_behalf_of,
                             a.expected_version, None, None, None)
            except DubanError as exc:
                outcomes.append(exc)
                continue
            moves.append(move)
            outcomes.append(move.result)
        if moves:
            _record(session, moves, notifier)
    return outcomes


def _read_many(session: Session, ids: list[int], transition: states.Transition, actor: User
               ) -> dict[int, dict[str, Any]]:
    """The rows of a batch, as _READ reads one (with the mail columns if the trigger mails)."""
    stmt = _SELECT_MANY_WITH_MAIL if transition.notify else _SELECT_MANY
    found = session.connection().execute(stmt, {"aids": list(set(ids)), "actor_dept": actor.department_id})
    return {row["id"]: dict(row) for row in found.mappings()}


@dataclass
class _Move:
    """One item moved (its guarded update written), its event not yet written (_record)."""

    before: dict[str, Any]  # the row as read
    after: dict[str, Any]  # the row as updated
    event: dict[str, Any]
    effects: list[tuple[str, dict]]
    attachments: list[dict[str, Any]]
    people: tuple[Any, Any]  # actor, principal (None unless acting for someone)
    departments: dict[int, str | None]
    plan_head: Any
    result: FireResult


def _fire(session: Session, assignment_id: int, trigger: str, actor: User, clock: Clock,
          fields: Fields, on_behalf_of: User | None, expected_version: int | None,
          before_write: Callable[[], None] | None, notifier: Notifier) -> FireResult:
    move = _move(session, assignment_id, trigger, actor, clock, fields, on_behalf_of, expected_version,
                 before_write, None, None)
    return _record(session, [move], notifier)[0]


def _move(session: Session, assignment_id: int, trigger: str, actor: User, clock: Clock,
          fields: Fields, on_behalf_of: User | None, expected_version: int | None,
          before_write: Callable[[], None] | None, now: dt.datetime | None,
          row: dict[str, Any] | None) -> _Move:
    """Check one move and write its guarded update (`row`: the item as fire_many read it)."""
    transition = states.TRANSITION_BY_TRIGGER.get(trigger)
    if transition is None:
        raise BadInput(f"未知操作“{trigger}”；可用操作：{'、'.join(states.TRANSITION_BY_TRIGGER)}。")
    conn = session.connection()
    if row is None:
        row = (_READ_WITH_MAIL if transition.notify else _READ).first(
            conn, {"aid": assignment_id, "actor_dept": actor.department_id})
    else:
        row = dict(row) or None
    # before any state check: an item the actor may not see "does not exist"
    require_item(visible_departments(actor), assignment_id, row["department_id"] if row else None)
    plan_head = row.pop("plan_head")
    departments = {actor.department_id: row.pop("actor_department")}
    if expected_version is not None and row["version"] != expected_version:
        raise LostRace(f"事项 {assignment_id} 已被他人修改（版本 {row['version']}），本次操作未生效，请刷新后重试。")
    _check_state(row, transition)
    principal = on_behalf_of or actor
    if on_behalf_of is not None:
        _check_delegation(session, actor, on_behalf_of, clock.today())
    _check_permission(transition, actor, principal, row)
    values = _check_fields(transition, fields, row, clock.today())

    carrier = _run_machine(row["state"], trigger)

    if before_write:
        before_write()
    now = now or clock.now()
    changes: dict[str, Any] = {"state": carrier.state, "updated_at": now,
                               "version": row["version"] + 1}
    event_data = _event_data(session, transition, row, values)
    changes.update(_row_changes(transition, actor, principal, session, row, event_data))
    result = _update_statement(frozenset(changes)).execute(
        conn, {**changes, "aid": assignment_id, "expected": row["version"]})
    if result.rowcount != 1:
        raise LostRace(f"事项 {assignment_id} 刚被他人修改，本次操作未生效；请用 duban task show {assignment_id} 查看最新状态后重试。")
    comment = values.get("comment") or values.get("reason") or values.get("summary")
    event = {
        "assignment_id": assignment_id, "plan_id": row["plan_id"], "trigger": trigger,
        "from_state": row["state"], "to_state": carrier.state, "actor_id": actor.id,
        "on_behalf_of_id": on_behalf_of.id if on_behalf_of else None, "comment": comment,
        "data": event_data, "at": now, "recorded_at": Clock.utcnow(), "changes": changed(row, changes),
    }
    after = {**row, **changes}
    return _Move(row, after, event, carrier.effects, values.get("attachments") or [], (actor, on_behalf_of),
                 departments, plan_head,
                 FireResult(assignment_id, trigger, row["state"], carrier.state, 0, changes["version"]))


def _record(session: Session, moves: list[_Move], notifier: Notifier) -> list[FireResult]:
    """Write the events of `moves` (in order): who acted (witness), the hash-chain links of
    each plan, the event rows, their attachments and the mails their effects ask for."""
    conn = session.connection()
    for m in moves:
        witness(conn, [m.event], m.people, m.departments)  # who acted and for whom: hashed
    by_plan: dict[int, list[_Move]] = {}
    for m in moves:
        by_plan.setdefault(m.event["plan_id"], []).append(m)
    for plan_id, group in by_plan.items():
        chain(conn, plan_id, [m.event for m in group], seen=group[0].plan_head)
    if len(moves) == 1:
        ids = [_INSERT_EVENT.insert(conn, moves[0].event)]
    else:
        ids = conn.execute(_INSERT_EVENTS, [{c: m.event[c] for c in _EVENT_COLUMNS} for m in moves]).scalars().all()
    files = []
    for m, event_id in zip(moves, ids):
        m.event["id"] = m.result.event_id = event_id
        files += [{"assignment_id": m.result.assignment_id, "event_id": event_id, "name": a["name"],
                   "sha256": a["sha256"], "size": a["size"]} for a in m.attachments]
    if files:
        session.execute(insert(Attachment.__table__), files)
    mails = []
    for m in moves:
        mine = notifier.outgoing(session, m.after, m.event, m.effects)
        m.result.notifications = len({item.key for item in mine})
        mails += mine
    if mails:
        enqueue(session, mails, new_keys=True, created_at=moves[0].event["at"])
    return [m.result for m in moves]


def _pure(machine) -> bool:
    """Whether the machine's outcome depends on nothing but (state, trigger).

    True while its only callback is the effect recorder and no transition has a
    condition: then one run per pair answers for every later fire of that pair.
    """
    hooks = (machine.before_state_change, machine.after_state_change, machine.prepare_event,
             machine.finalize_event, machine.on_exception)
    if any(hooks) or any(s.on_enter or s.on_exit for s in machine.states.values()):
        return False
    return all(not t.conditions and not t.before and not t.prepare and t.after == ["record"]
               for ev in machine.events.values() for ts in ev.transitions.values() for t in ts)


def _run_machine(state: str, trigger: str) -> states.Carrier:
    """Fire `trigger` from `state` on the shared machine; a fresh Carrier with the outcome.

    A run through transitions' callback chain costs about a tenth of a fire's Python
    time, so a pure machine (see _pure) runs once per (state, trigger) and later fires
    get a copy of that answer; an impure one runs every time.
    """
    if not _PURE:
        return _machine_outcome.__wrapped__(state, trigger)
    done = _machine_outcome(state, trigger)
    return states.Carrier(done.state, list(done.effects))


@functools.cache
def _machine_outcome(state: str, trigger: str) -> states.Carrier:
    carrier = states.Carrier(state)
    try:
        MACHINE.events[trigger].trigger(carrier)
    except MachineError as exc:  # pragma: no cover - _check_state asked the same machine
        raise InvalidMove(str(exc)) from exc
    return carrier


@functools.cache
def _triggers_from(state: str) -> list[str]:
    """The machine's valid triggers from `state` (its transition table never changes)."""
    return MACHINE.get_triggers(state)


_PURE = _pure(MACHINE)


def _check_state(row: dict[str, Any], transition: states.Transition) -> None:
    valid = _triggers_from(row["state"])
    if transition.trigger in valid:
        return
    here = states.state_label(row["state"])
    allowed = "、".join(f"{states.trigger_label(t)}({t})" for t in valid) or "无（已结束）"
    raise InvalidMove(f"事项 {row['id']} 当前为“{here}”，不能{transition.label}；此状态下可执行：{allowed}。")


_LAST_ACTOR_COLUMNS = states.last_actor_columns()  # trigger → row columns saying who last did it


def _check_permission(transition: states.Transition, actor: User, principal: User,
                      row: dict[str, Any]) -> None:
    # who last did the trigger this one must not follow by the same person (审办分离), if any
    needed = transition.not_by_last
    last = {needed: {row[c] for c in _LAST_ACTOR_COLUMNS.get(needed, ()) if row[c]}} if needed else None
    for person in {actor.id: actor, principal.id: principal}.values():
        problem = states.permission_problem(
            transition,
            states.Actor(person.id, frozenset(principal.roles), principal.department_id),
            row["department_id"], last)
        if problem:
            raise NotPermitted(f"{person.name}无权对事项 {row['id']} 执行“{transition.label}”：{problem}。")


def _check_delegation(session: Session, actor: User, principal: User, today: dt.date) -> None:
    """Acting for someone else needs a delegation (代办) valid today, within one department
    (a delegation made across departments before that rule no longer counts)."""
    from workflow.directory.store import delegation_problem

    problem = delegation_problem(principal, actor)
    if problem:
        raise NotPermitted(problem)
    d = Delegation.__table__
    found = session.execute(select(d.c.id).where(
        d.c.from_user_id == principal.id, d.c.to_user_id == actor.id,
        d.c.starts_on <= today, d.c.ends_on >= today, d.c.revoked_at.is_(None))).first()
    if found is None:
        raise NotPermitted(f"{actor.name}在 {today} 没有{principal.name}的有效代办授权；请先由本人用 duban delegate add 授权。")


def _check_fields(transition: states.Transition, fields: Fields, row: dict[str, Any],
                  today: dt.date) -> dict[str, Any]:
    values = fields.as_dict()
    missing = states.missing_fields(transition, values)
    if missing:
        names = "、".join(states.machine.FIELD_LABELS[m] for m in missing)
        raise MissingField(f"“{transition.label}”需要填写{names}。")
    for key in ("summary", "comment", "reason"):
        text = values.get(key)
        if text is None:
            continue
        if "\x00" in text:
            raise BadInput(f"{states.machine.FIELD_LABELS[key]}含有空字符（NUL），请删除后重试。")
        if len(text) > MAX_COMMENT:
            raise BadInput(f"{states.machine.FIELD_LABELS[key]}过长（{len(text)} 字），最多 {MAX_COMMENT} 字。")
        values[key] = text.strip()
    for name in transition.validators:
        _VALIDATORS[name](transition, values, row, today)
    return values


def _until_after_due(transition: states.Transition, values: dict[str, Any], row: dict[str, Any],
                     today: dt.date) -> None:
    until = values.get("until")
    if until <= row["due_date"]:
        raise BadInput(f"申请延期至 {until} 不晚于当前完成时限 {row['due_date']}；新日期应晚于当前时限。")
    if until > row["due_date"] + dt.timedelta(days=366):
        raise BadInput(f"申请延期至 {until} 距当前时限超过一年；请填写一年以内的日期。")


def _overdue(transition: states.Transition, values: dict[str, Any], row: dict[str, Any],
             today: dt.date) -> None:
    if row["due_date"] >= today:
        raise InvalidMove(f"事项 {row['id']} 的完成时限是 {row['due_date']}，尚未逾期，不能{transition.label}。")


# states.VALIDATORS names → their checks (test_architecture checks every name has one).
# The row checks judge the assignment alone (no typed input): allowed_triggers runs them too.
_ROW_CHECKS: dict[str, Callable[..., None]] = {"overdue": _overdue}
_VALIDATORS: dict[str, Callable[..., None]] = {"until_after_due": _until_after_due, **_ROW_CHECKS}


def allowed_triggers(conn: Any, assignment_id: int, actor: Any, today: dt.date) -> list[str]:
    """The triggers `actor` may fire on the assignment now, in table order: the ones fire()
    would not refuse before reading any input, by fire()'s own checks (the state machine,
    the permission and separation-of-duties rule, the validators that judge the row). An
    item the actor may not see does not exist (require_item, as in fire())."""
    row = conn.execute(_SELECT, {"aid": assignment_id, "actor_dept": actor.department_id}).mappings().first()
    require_item(visible_departments(actor), assignment_id, row["department_id"] if row else None)
    row = dict(row)
    allowed = []
    for trigger in states.triggers_from(row["state"]):
        transition = states.TRANSITION_BY_TRIGGER[trigger]
        try:
            _check_state(row, transition)
            _check_permission(transition, actor, actor, row)
            for name in transition.validators:
                if name in _ROW_CHECKS:
                    _ROW_CHECKS[name](transition, {}, row, today)
        except (InvalidMove, NotPermitted):
            continue
        allowed.append(trigger)
    return allowed


def _event_data(session: Session, transition: states.Transition, row: dict[str, Any],
                values: dict[str, Any]) -> dict[str, Any]:
    """The structured part of the event (JSON) the transition declares (`data`): what the
    ledger and mails need later."""
    data: dict[str, Any] = {}
    requested: dt.date | None = None
    for name in transition.data:
        if name == "summary":
            data["summary"] = values["summary"]
        elif name == "attachments":
            data["attachments"] = [{"name": a["name"], "sha256": a["sha256"]}
                                   for a in values.get("attachments") or []]
        elif name == "reason":
            data["reason"] = values["reason"]
        elif name == "old_due":
            data["old_due"] = row["due_date"].isoformat()
        elif name in ("requested_due", "new_due"):
            if requested is None:  # this request's date, or the pending request's
                requested = values.get("until") or _requested_due(session, row["id"])
            data[name] = requested.isoformat()
        else:  # pragma: no cover - test_architecture checks states.EVENT_DATA against this
            raise ValueError(f"unknown event data {name!r}")
    return data


def _requested_due(session: Session, assignment_id: int) -> dt.date:
    data = session.execute(
        select(_E.c.data).where(_E.c.assignment_id == assignment_id, _E.c.trigger == "request_delay")
        .order_by(_E.c.id.desc()).limit(1)).scalar_one()
    return dt.date.fromisoformat(data["requested_due"])


def _row_changes(transition: states.Transition, actor: User, principal: User, session: Session,
                 row: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Columns besides the state that the transition declares it changes (`changes`)."""
    changes: dict[str, Any] = {}
    for column, source in transition.changes:
        if source == "actor":
            changes[column] = actor.id
        elif source == "principal":
            changes[column] = principal.id
        elif source == "requested_due":
            changes[column] = (dt.date.fromisoformat(data["requested_due"]) if "requested_due" in data
                               else _requested_due(session, row["id"]))
        else:  # pragma: no cover - test_architecture checks states.ROW_SOURCES against this
            raise ValueError(f"unknown row change source {source!r}")
    return changes


def load_assignment(session: Session, assignment_id: int) -> Assignment:
    row = session.get(Assignment, assignment_id)
    if row is None:
        raise item_not_found(assignment_id)
    return row
