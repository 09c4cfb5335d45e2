"""The ledger (台账, DESIGN §7): every assignment of a plan as of one day, with totals.

Computed from the event log, not from the assignment rows, so a ledger for 2021Q3
printed in December shows the picture on 2021-09-30: the state, the due date that
applied then, the send-backs and delay requests up to that day. The renderers
(`workflow/reports/`) and the CLI only read the dataclasses below.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from workflow.ledger.lights import LABELS as LIGHT_LABELS, ORDER as _LIGHT_ORDER, Lights, days_late  # noqa: E402
DELAY_OUTCOMES = {"approved": "同意", "rejected": "不同意", "pending": "待审核"}


@dataclass
class DelayRecord:
    """One written request for a new date, and what the office made of it."""

    requested_on: dt.date
    old_due: dt.date
    requested_due: dt.date
    reason: str
    outcome: str = "pending"  # approved | rejected | pending (as of the ledger's day)
    decided_on: dt.date | None = None

    @property
    def outcome_label(self) -> str:
        return DELAY_OUTCOMES[self.outcome]


@dataclass
class LedgerRow:
    """One assignment (task × department × role × period) as it stood on `as_of`."""

    assignment_id: int
    task_seq: int
    chapter: str | None
    section: str | None
    requirement: str
    department: str
    role: str
    role_label: str
    period: str
    state: str
    state_label: str
    due: dt.date  # the due date that applied on as_of (after approved delays)
    original_due: dt.date  # the due date at distribution
    light: str  # red | yellow | green | "" (closed)
    submitted_on: dt.date | None = None  # the latest submission up to as_of
    approved_on: dt.date | None = None  # when it became done (None unless done on as_of)
    days_late: int = 0  # 逾期工作日 (lights.days_late): done: due → approved_on; open: due → as_of
    send_backs: int = 0
    delays: list[DelayRecord] = field(default_factory=list)
    latest_summary: str | None = None

    @property
    def light_label(self) -> str:
        return LIGHT_LABELS[self.light]

    @property
    def on_time(self) -> bool | None:
        """True: done by its due date; False: done late or open past it; None: not yet due."""
        if self.state == "done":
            return self.approved_on is None or self.approved_on <= self.due
        if self.state == "cancelled":
            return None
        return False if self.light == "red" else None

    def as_dict(self) -> dict[str, Any]:
        """Stable keys for `--json` and csv."""
        return {
            "assignment": self.assignment_id, "task": self.task_seq, "chapter": self.chapter,
            "requirement": self.requirement, "department": self.department, "role": self.role,
            "role_label": self.role_label, "period": self.period, "state": self.state,
            "state_label": self.state_label, "due": _iso(self.due), "original_due": _iso(self.original_due),
            "light": self.light, "submitted_on": _iso(self.submitted_on),
            "approved_on": _iso(self.approved_on), "days_late": self.days_late,
            "send_backs": self.send_backs, "on_time": self.on_time,
            "delays": [{"requested_on": _iso(d.requested_on), "old_due": _iso(d.old_due),
                        "requested_due": _iso(d.requested_due), "reason": d.reason,
                        "outcome": d.outcome, "decided_on": _iso(d.decided_on)} for d in self.delays],
            "latest_summary": self.latest_summary,
        }


@dataclass
class Totals:
    """Counts for one department (or the whole plan) on the ledger's day.

    `due` counts what should be finished by then: everything already done plus every
    open assignment past its due date (cancelled ones never count). The on-time rate
    (按时办结率) is `on_time / due`: done on or before the due date that applied.
    """

    name: str
    total: int = 0
    states: Counter = field(default_factory=Counter)
    overdue: int = 0
    due: int = 0
    on_time: int = 0
    done_late: int = 0
    send_backs: int = 0
    delays: int = 0

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.due if self.due else None

    def add(self, row: LedgerRow) -> None:
        self.total += 1
        self.states[row.state] += 1
        self.send_backs += row.send_backs
        self.delays += len(row.delays)
        if row.state == "done":
            self.due += 1
            if not row.on_time:
                self.done_late += 1
            else:
                self.on_time += 1
        elif row.light == "red":
            self.overdue += 1
            self.due += 1

    def as_dict(self) -> dict[str, Any]:
        rate = self.on_time_rate
        import states

        # Every state, zero counts included: a script reads the same keys every day.
        return {"name": self.name, "total": self.total,
                "states": {state.name: self.states.get(state.name, 0) for state in states.STATES},
                "overdue": self.overdue, "due": self.due, "on_time": self.on_time,
                "done_late": self.done_late, "send_backs": self.send_backs, "delays": self.delays,
                "on_time_rate": None if rate is None else round(rate, 4)}


@dataclass
class Ledger:
    plan_id: int
    plan_title: str
    year: int
    as_of: dt.date
    quarter: str | None  # "2021Q3" when asked by quarter
    warn_days: int
    rows: list[LedgerRow]
    by_department: list[Totals]  # most overdue first, then by name
    total: Totals

    @property
    def title(self) -> str:
        when = period_label(self.quarter) if self.quarter else f"截至{self.as_of:%Y年%m月%d日}"
        return f"{self.plan_title} 工作台账（{when}）"

    def for_department(self, name: str) -> "Ledger":
        """The same ledger narrowed to one department: what it owes, most urgent first."""
        rows = sorted((r for r in self.rows if r.department == name), key=urgency_key)
        return _assemble_from(self, rows)

    def as_dict(self) -> dict[str, Any]:
        return {"plan": self.plan_id, "plan_title": self.plan_title, "year": self.year,
                "as_of": self.as_of.isoformat(), "quarter": self.quarter, "warn_days": self.warn_days,
                "total": self.total.as_dict(),
                "by_department": [t.as_dict() for t in self.by_department],
                "rows": [r.as_dict() for r in self.rows]}


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def period_label(period: str | None) -> str:
    """'2021Q3' → 2021年第3季度, '2021H2' → 2021年下半年; anything else as it is."""
    m = re.fullmatch(r"(\d{4})Q([1-4])", period or "")
    if m:
        return f"{m.group(1)}年第{m.group(2)}季度"
    m = re.fullmatch(r"(\d{4})H([12])", period or "")
    if m:
        return f"{m.group(1)}年{'上' if m.group(2) == '1' else '下'}半年"
    return period or ""


_QUARTER = re.compile(r"^(\d{4})\s*[Qq季]?\s*([1-4])$")


def quarter_end(text: str) -> tuple[str, dt.date]:
    """'2021Q3' → ('2021Q3', 2021-09-30). Raises ValueError with a Chinese sentence."""
    m = _QUARTER.match(text.strip())
    if not m:
        raise ValueError(f"季度“{text}”无效，应写作 2021Q3 这样的年份加季度（Q1–Q4）。")
    year, q = int(m.group(1)), int(m.group(2))
    if not 2000 <= year <= 2100:
        raise ValueError(f"季度“{text}”的年份 {year} 超出范围（2000–2100）。")
    month = q * 3
    end = dt.date(year, month, 1).replace(day=1) + dt.timedelta(days=31)
    return f"{year}Q{q}", end.replace(day=1) - dt.timedelta(days=1)


# ---------------------------------------------------------------- computation
LightFn = Callable[[str, dt.date, dt.date], str]
_DELAY_TRIGGERS = ("request_delay", "approve_delay", "reject_delay")


def calendar_light(warn_days: int, workdays_between: Callable[[dt.date, dt.date], int] | None = None) -> LightFn:
    """The traffic light of workflow/ledger/lights.py with this window (and calendar)."""
    return Lights(warn_days, workdays_between)


def compute_ledger(session: Any, plan_id: int, as_of: dt.date, *, quarter: str | None = None,
                   warn_days: int = 5, light: LightFn | None = None) -> Ledger:
    """Replay the plan's event log up to the end of `as_of` into one row per assignment.

    Assignments distributed after `as_of` are left out: they did not exist that day.
    """
    from sqlalchemy import select

    from db.models import Plan

    plan = session.get(Plan, plan_id)
    if plan is None:
        from workflow.errors import NotFound
        raise NotFound(f"计划 {plan_id} 不存在；可用 duban plan list 查看。")
    light = light or Lights(warn_days)
    cutoff = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    base = _assignments(session, plan_id)
    rows = _replay(session, plan_id, cutoff, base, as_of, light)
    rows.sort(key=lambda r: (r.task_seq, r.period, r.department, r.assignment_id))
    return _assemble(plan, as_of, quarter, warn_days, rows)


def _assignments(session: Any, plan_id: int) -> dict[int, tuple]:
    """id → (role, period, due_date, seq, chapter, section, requirement, department)."""
    from sqlalchemy import select

    from db.models import Assignment, Department, Task
    a, t, d = Assignment.__table__, Task.__table__, Department.__table__
    q = (select(a.c.id, a.c.role, a.c.period, a.c.due_date, t.c.seq, t.c.chapter, t.c.section,
                t.c.requirement, d.c.name)
         .join(t, t.c.id == a.c.task_id).join(d, d.c.id == a.c.department_id)
         .where(a.c.plan_id == plan_id))
    return {r[0]: tuple(r[1:]) for r in session.connection().execute(q)}


def _events(session: Any, plan_id: int, cutoff: dt.datetime) -> Iterable[Any]:
    """(assignment, trigger, to_state, day, data) in order.

    The hot loop of the ledger: the day comes as SQL `date(at)` and the JSON as raw
    text, parsed later only where the ledger shows it, because per-row datetime and
    JSON conversion cost more than the query itself on 400,000 events.
    """
    from sqlalchemy import String, case, cast, func, select

    from db.models import Event
    e = Event.__table__
    summary = e.c.data["summary"].as_string()
    q = (select(e.c.assignment_id, e.c.trigger, e.c.to_state, func.date(e.c.at, type_=String),
                case((e.c.trigger.in_(_DELAY_TRIGGERS), cast(e.c.data, String)),
                     (e.c.trigger == "submit", summary), else_=None))
         .where(e.c.plan_id == plan_id, e.c.at < cutoff)
         .order_by(e.c.assignment_id, e.c.id))
    result = session.connection().execution_options(stream_results=True).execute(q)
    for chunk in result.partitions(20_000):
        yield from chunk


def _day(value: Any) -> dt.date:
    """`date(at)` arrives as text from SQLite and as a date from PostgreSQL."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _data(value: Any) -> dict[str, Any]:
    """A JSON column read raw: text from SQLite, already decoded by psycopg."""
    if value is None:
        return {}
    return json.loads(value) if isinstance(value, str) else value


def _first_dues(session: Any, plan_id: int) -> dict[int, dt.date]:
    """The due date at distribution of every assignment whose date was ever moved."""
    from sqlalchemy import select

    from db.models import Event
    e = Event.__table__
    q = (select(e.c.assignment_id, e.c.data).where(e.c.plan_id == plan_id, e.c.trigger == "approve_delay")
         .order_by(e.c.assignment_id, e.c.id))
    first: dict[int, dt.date] = {}
    for aid, data in session.execute(q):
        first.setdefault(aid, dt.date.fromisoformat(data["old_due"]))
    return first


def _replay(session: Any, plan_id: int, cutoff: dt.datetime, base: dict[int, tuple],
            as_of: dt.date, light: LightFn) -> list[LedgerRow]:
    import states
    from workflow.plans.model import RESPONSIBILITY_ROLES

    first_due = _first_dues(session, plan_id)
    rows: list[LedgerRow] = []
    current: LedgerRow | None = None
    current_id = None
    for aid, trigger, to_state, day, data in _events(session, plan_id, cutoff):
        if aid != current_id:
            if current is not None:
                rows.append(_finish(current, as_of, light))
            current_id = aid
            info = base.get(aid)
            if info is None:  # pragma: no cover - an event always has its assignment
                current = None
                continue
            role, period, due_date, seq, chapter, section, requirement, department = info
            due = first_due.get(aid, due_date)
            current = LedgerRow(
                assignment_id=aid, task_seq=seq, chapter=chapter, section=section,
                requirement=requirement, department=department, role=role,
                role_label=RESPONSIBILITY_ROLES.get(role, role), period=period,
                state="assigned", state_label="", due=due, original_due=due, light="")
        if current is not None:
            current.state = to_state
            if data is not None or trigger in ("approve", "send_back", "submit"):
                _apply(current, trigger, day, data)
    if current is not None:
        rows.append(_finish(current, as_of, light))
    labels = {s.name: s.label for s in states.STATES}
    for r in rows:
        r.state_label = labels[r.state]
    return rows


def _apply(row: LedgerRow, trigger: str, day: Any, raw: Any) -> None:
    """One event's effect besides the state: the ledger's reading of DESIGN §3."""
    if trigger == "submit":
        row.submitted_on = _day(day)
        row.latest_summary = raw  # extracted from the JSON by the database
    elif trigger == "approve":
        row.approved_on = _day(day)
    elif trigger == "send_back":
        row.send_backs += 1
    elif trigger == "request_delay":
        data = _data(raw)
        row.delays.append(DelayRecord(
            requested_on=_day(day), old_due=dt.date.fromisoformat(data["old_due"]),
            requested_due=dt.date.fromisoformat(data["requested_due"]), reason=data.get("reason") or ""))
    elif trigger in ("approve_delay", "reject_delay") and row.delays:
        pending = row.delays[-1]
        pending.outcome = "approved" if trigger == "approve_delay" else "rejected"
        pending.decided_on = _day(day)
        if trigger == "approve_delay":
            new_due = _data(raw).get("new_due")
            row.due = dt.date.fromisoformat(new_due) if new_due else pending.requested_due


def _finish(row: LedgerRow, as_of: dt.date, light: LightFn) -> LedgerRow:
    if row.state != "done":
        row.approved_on = None
    row.light = light(row.state, row.due, as_of)
    late = light.days_late if isinstance(light, Lights) else days_late  # 逾期工作日, one rule
    if row.state == "done" and row.approved_on:
        row.days_late = late(row.due, row.approved_on)
    elif row.light == "red":
        row.days_late = late(row.due, as_of)
    return row


def _assemble(plan: Any, as_of: dt.date, quarter: str | None, warn_days: int,
              rows: list[LedgerRow]) -> Ledger:
    by_department, total = _totals(rows)
    return Ledger(plan_id=plan.id, plan_title=plan.title, year=plan.year, as_of=as_of, quarter=quarter,
                  warn_days=warn_days, rows=rows, by_department=by_department, total=total)


def _assemble_from(ledger: Ledger, rows: list[LedgerRow]) -> Ledger:
    by_department, total = _totals(rows)
    return Ledger(plan_id=ledger.plan_id, plan_title=ledger.plan_title, year=ledger.year,
                  as_of=ledger.as_of, quarter=ledger.quarter, warn_days=ledger.warn_days,
                  rows=rows, by_department=by_department, total=total)


def _totals(rows: list[LedgerRow]) -> tuple[list[Totals], Totals]:
    """Per department (most overdue first, then by name) and for the whole plan."""
    per: dict[str, Totals] = {}
    total = Totals("合计")
    for r in rows:
        per.setdefault(r.department, Totals(r.department)).add(r)
        total.add(r)
    return sorted(per.values(), key=lambda t: (-t.overdue, t.name)), total


def urgency_key(row: LedgerRow) -> tuple:
    """Most urgent first: red, yellow, green, closed; then the nearest due date."""
    return (_LIGHT_ORDER[row.light], row.due, row.task_seq, row.assignment_id)
