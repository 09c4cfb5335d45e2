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

    def absorb(self, other: "Totals") -> None:
        """Add another group's counts: the plan's totals are its departments' summed."""
        self.total += other.total
        self.states.update(other.states)
        for name in ("overdue", "due", "on_time", "done_late", "send_backs", "delays"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

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
    """Each assignment of the plan as its event log stood at the end of `as_of`.

    Assignments distributed after `as_of` are left out: they did not exist that day.
    The database finds each assignment's last event, latest submission and approval and
    counts its send-backs up to the day (one grouped query, as the raw aggregate would);
    only the rare delay events are replayed here, one by one, because a decision refers
    to the request before it.
    """
    from db.models import Plan

    plan = session.get(Plan, plan_id)
    if plan is None:
        from workflow.errors import NotFound
        raise NotFound(f"计划 {plan_id} 不存在；可用 duban plan list 查看。")
    light = light or Lights(warn_days)
    cutoff = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    rows = _rows(session, plan_id, cutoff, as_of, light)
    rows.sort(key=lambda r: (r.task_seq, r.period, r.department, r.assignment_id))
    return _assemble(plan, as_of, quarter, warn_days, rows)


def _latest(session: Any, plan_id: int, cutoff: dt.datetime) -> Iterable[tuple]:
    """Per assignment with an event before `cutoff`: (id, state, submitted day, summary,
    approved day, send-backs, role, period, due_date, seq, chapter, section, requirement,
    department).

    The grouped sub-query picks the ids of the last event, the last submission and the
    last approval; the outer query reads those three events by primary key. Days come as
    SQL `date(at)` and the summary straight out of the JSON, because per-row datetime
    and JSON conversion in Python cost more than the query itself on 400,000 events.
    """
    from sqlalchemy import Integer, String, case, func, select

    from db.models import Assignment, Department, Event, Task
    e, a, t, d = Event.__table__, Assignment.__table__, Task.__table__, Department.__table__
    g = (select(e.c.assignment_id.label("aid"), func.max(e.c.id).label("last"),
                func.sum(case((e.c.trigger == "send_back", 1), else_=0), type_=Integer).label("backs"),
                func.max(case((e.c.trigger == "submit", e.c.id))).label("submit"),
                func.max(case((e.c.trigger == "approve", e.c.id))).label("approve"))
         .where(e.c.plan_id == plan_id, e.c.at < cutoff).group_by(e.c.assignment_id).subquery())
    last, sub, appr = e.alias("last"), e.alias("sub"), e.alias("appr")
    q = (select(g.c.aid, last.c.to_state, func.date(sub.c.at, type_=String),
                sub.c.data["summary"].as_string(), func.date(appr.c.at, type_=String), g.c.backs,
                a.c.role, a.c.period, func.date(a.c.due_date, type_=String), t.c.seq, t.c.chapter, t.c.section,
                t.c.requirement, d.c.name)
         .select_from(g).join(last, last.c.id == g.c.last)
         .outerjoin(sub, sub.c.id == g.c.submit).outerjoin(appr, appr.c.id == g.c.approve)
         .join(a, a.c.id == g.c.aid).join(t, t.c.id == a.c.task_id).join(d, d.c.id == a.c.department_id))
    result = session.connection().execution_options(stream_results=True).execute(q)
    for chunk in result.partitions(20_000):
        yield from chunk


def _delay_events(session: Any, plan_id: int, cutoff: dt.datetime) -> dict[int, list[tuple]]:
    """assignment → [(trigger, day, data, before cutoff)] of its delay events, in order.

    All of them, not only those before the cut-off: the first approved delay's old date
    is the due date at distribution, even for a ledger of a day before that delay.
    """
    from sqlalchemy import String, func, select

    from db.models import Event
    e = Event.__table__
    q = (select(e.c.assignment_id, e.c.trigger, func.date(e.c.at, type_=String), e.c.data,
                e.c.at < cutoff)
         .where(e.c.plan_id == plan_id, e.c.trigger.in_(_DELAY_TRIGGERS))
         .order_by(e.c.assignment_id, e.c.id))
    out: dict[int, list[tuple]] = {}
    for aid, trigger, day, data, before in session.connection().execute(q):
        out.setdefault(aid, []).append((trigger, day, data, bool(before)))
    return out


def _day(value: Any) -> dt.date:
    """`date(at)` arrives as text from SQLite and as a date from PostgreSQL."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _data(value: Any) -> dict[str, Any]:
    """A JSON column read raw: text from SQLite, already decoded by psycopg."""
    if value is None:
        return {}
    return json.loads(value) if isinstance(value, str) else value


def _rows(session: Any, plan_id: int, cutoff: dt.datetime, as_of: dt.date,
          light: LightFn) -> list[LedgerRow]:
    """One LedgerRow per assignment: the loop 100,000 rows go through, so the few hundred
    distinct days are parsed once each and the light is asked once per state and date."""
    import states
    from workflow.plans.model import RESPONSIBILITY_ROLES

    labels = {s.name: s.label for s in states.STATES}
    delays = _delay_events(session, plan_id, cutoff)
    days: dict[Any, Any] = {None: None}
    lit: dict[tuple[str, dt.date], str] = {}
    late = _late_days(light)
    rows: list[LedgerRow] = []
    append = rows.append
    for (aid, state, submitted, summary, approved, backs, role, period, due, seq, chapter, section,
         requirement, department) in _latest(session, plan_id, cutoff):
        for text in (submitted, approved, due):
            if text not in days:
                days[text] = _day(text)
        due = days[due]
        row = LedgerRow(
            aid, seq, chapter, section, requirement, department, role,
            RESPONSIBILITY_ROLES.get(role, role), period, state, labels[state], due, due, "",
            days[submitted], days[approved], 0, backs or 0, [], summary)
        if aid in delays:
            _apply_delays(row, delays[aid])
            due = row.due
        key = (state, due)
        colour = lit.get(key)
        if colour is None:
            colour = lit[key] = light(state, due, as_of)
        append(_finish(row, as_of, colour, late))
    return rows


def _apply_delays(row: LedgerRow, events: list[tuple]) -> None:
    """The delay requests up to the ledger's day and what the office made of them (DESIGN §3):
    a decision answers the request before it; an approval moves the due date."""
    first = next((e for e in events if e[0] == "approve_delay"), None)
    if first is not None:  # the due date at distribution, before any delay moved it
        row.due = row.original_due = dt.date.fromisoformat(_data(first[2])["old_due"])
    for trigger, day, raw, before in events:
        if not before:
            break
        if trigger == "request_delay":
            data = _data(raw)
            row.delays.append(DelayRecord(
                requested_on=_day(day), old_due=dt.date.fromisoformat(data["old_due"]),
                requested_due=dt.date.fromisoformat(data["requested_due"]),
                reason=data.get("reason") or ""))
        elif row.delays:
            pending = row.delays[-1]
            pending.outcome = "approved" if trigger == "approve_delay" else "rejected"
            pending.decided_on = _day(day)
            if trigger == "approve_delay":
                new_due = _data(raw).get("new_due")
                row.due = dt.date.fromisoformat(new_due) if new_due else pending.requested_due


def _late_days(light: LightFn) -> Callable[[dt.date, dt.date], int]:
    """逾期工作日 by the one rule (Lights.days_late, or the legal calendar's for a bare
    light function), each (due, day) pair counted once: 100,000 rows share a few hundred."""
    count = light.days_late if isinstance(light, Lights) else days_late
    seen: dict[tuple[dt.date, dt.date], int] = {}

    def late(due: dt.date, day: dt.date) -> int:
        found = seen.get((due, day))
        if found is None:
            found = seen[(due, day)] = count(due, day)
        return found
    return late


def _finish(row: LedgerRow, as_of: dt.date, light: str,
            late: Callable[[dt.date, dt.date], int]) -> LedgerRow:
    if row.state != "done":
        row.approved_on = None
    row.light = light
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
        dept = per.get(r.department)
        if dept is None:
            dept = per[r.department] = Totals(r.department)
        dept.add(r)
    for dept in per.values():
        total.absorb(dept)
    return sorted(per.values(), key=lambda t: (-t.overdue, t.name)), total


def urgency_key(row: LedgerRow) -> tuple:
    """Most urgent first: red, yellow, green, closed; then the nearest due date."""
    return (_LIGHT_ORDER[row.light], row.due, row.task_seq, row.assignment_id)
