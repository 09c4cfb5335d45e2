"""催办: which reminders go out today, computed from the database.

Policy (working days, China's calendar with 调休; see RemindPolicy):

- before due: `before` working days before the due date (default 5 and 1);
- due today: on the due date — a due date on a non-working day is "due today" on
  the last working day before it (07-31-2021 is a Saturday: due today on 07-30);
- overdue: on the 1st, 1+k, 1+2k… working day after the due date (k = overdue_every);
- escalation (heads + supervisors): on the `escalate_after`-th working day
  overdue, then every `overdue_every` working days;
- review waiting (reviewers): a submission waiting more than `review_wait`
  working days since its latest `submit` event, then every `overdue_every`.

Nothing runs on a non-working day. Departments are chased for assigned,
in_progress and returned items only: `submitted` waits on the reviewers (who get
review-waiting reminders instead), `delay_requested` waits on the office's
decision, done/cancelled are closed.

One digest per recipient per run, all their items inside, grouped by kind and
de-duplicated per assignment (a head whose department is late gets the item
once, as an escalation). A digest's idempotency key is recipient + date, so a
second run the same day enqueues nothing new.

Speed: the due dates that trigger something today are derived from the calendar
first (a walk back from today, one step per day), then one query fetches only
the assignments with those due dates, and one more the waiting submissions.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from db.models import Assignment, Department, Event, Plan, Task
from notifications.outbox import Outgoing, enqueue, format_recipient
from notifications.render import render
from workflow.calendar import WorkCalendar
from workflow.clock import CHINA
from workflow.config import Config, RemindPolicy
from workflow.plan import RESPONSIBILITY_ROLES
from workflow.recipients import Directory

CHASED_STATES = ("assigned", "in_progress", "returned")
KIND_ORDER = ("escalation", "overdue", "due_today", "before", "review_waiting")
SECTION_TITLES = {
    "escalation": "逾期升级(已逾期多个工作日,请督促办理)",
    "overdue": "已逾期",
    "due_today": "今日到期",
    "before": "即将到期",
    "review_waiting": "报送待审核",
}
LIGHTS = {"green": ("🟢", "正常"), "yellow": ("🟡", "临期"), "red": ("🔴", "逾期")}

A, T, P, D, E = (Assignment.__table__, Task.__table__, Plan.__table__,
                 Department.__table__, Event.__table__)


@dataclass(slots=True)
class Item:
    """One assignment in one reminder kind, with what the mail shows about it."""

    kind: str
    assignment_id: int
    department_id: int
    department: str
    plan_title: str
    task_seq: int
    requirement: str
    role: str
    period: str
    due_date: dt.date
    days: int  # working days before due / overdue / waiting, by kind
    light: str  # green | yellow | red

    def context(self) -> dict[str, Any]:
        icon, word = LIGHTS[self.light]
        return {"plan_title": self.plan_title, "task_seq": self.task_seq,
                "requirement": self.requirement, "department": self.department,
                "role_label": RESPONSIBILITY_ROLES.get(self.role, self.role),
                "period": self.period, "due_date": self.due_date, "light": icon,
                "light_label": word, "note": self.note()}

    def note(self) -> str:
        if self.kind == "before":
            return f"距完成时限还有 {self.days} 个工作日"
        if self.kind == "due_today":
            return "今日到期" if self.days == 0 else "完成时限为休息日,请于今日完成"
        if self.kind == "review_waiting":
            return f"已报送 {self.days} 个工作日,等待审核"
        return f"已逾期 {self.days} 个工作日"


@dataclass
class Digest:
    """One mail: everything one recipient is reminded of today."""

    name: str
    email: str
    today: dt.date
    items: list[Item]

    @property
    def kind(self) -> str:
        kinds = {i.kind for i in self.items}
        if "escalation" in kinds:
            return "escalation"
        return "review_waiting" if kinds == {"review_waiting"} else "reminder"

    @property
    def key(self) -> str:
        return f"remind:{self.today.isoformat()}:{self.email.lower()}"

    def context(self) -> dict[str, Any]:
        by_kind: dict[str, list[Item]] = defaultdict(list)
        for item in self.items:
            by_kind[item.kind].append(item)
        sections = [{"key": k, "title": SECTION_TITLES[k],
                     "items": [i.context() for i in by_kind[k]]} for k in KIND_ORDER if by_kind[k]]
        return {"recipient_name": self.name, "today": self.today, "total": len(self.items),
                "counts": {k: len(by_kind[k]) for k in KIND_ORDER}, "sections": sections}


@dataclass
class RemindReport:
    today: dt.date
    workday: bool
    digests: list[Digest] = field(default_factory=list)
    enqueued: int = 0
    already: int = 0  # digests whose key was already in the outbox
    items: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "today": self.today, "workday": self.workday, "enqueued": self.enqueued,
            "already": self.already, "items": self.items,
            "digests": [{"recipient": d.email, "name": d.name, "kind": d.kind, "key": d.key,
                         "items": [{"kind": i.kind, "assignment_id": i.assignment_id,
                                    "plan": i.plan_title, "task_seq": i.task_seq,
                                    "department": i.department, "period": i.period,
                                    "due_date": i.due_date, "days": i.days, "light": i.light}
                                   for i in d.items]} for d in self.digests],
        }


# --- planning ---------------------------------------------------------------------

def plan_reminders(session: Session, today: dt.date, policy: RemindPolicy,
                   calendar: WorkCalendar) -> list[Digest]:
    """The digests to send today (none on a non-working day)."""
    if not calendar.is_workday(today):
        return []
    triggers = _due_date_triggers(session, today, policy, calendar)
    items = _assignment_items(session, today, triggers, policy, calendar)
    items += _review_items(session, today, policy, calendar)
    return _digests(session, today, items)


def _due_date_triggers(session: Session, today: dt.date, policy: RemindPolicy,
                       calendar: WorkCalendar) -> dict[dt.date, list[tuple[str, int]]]:
    """due date → [(kind, days)] for every due date that triggers a reminder today."""
    triggers: dict[dt.date, list[tuple[str, int]]] = defaultdict(list)
    for n in policy.before:
        for due in _dates_falling_on(calendar.add_workdays(today, n), calendar):
            triggers[due].append(("before", n))
    for due in _dates_falling_on(today, calendar):
        triggers[due].append(("due_today", (due - today).days))
    oldest = session.execute(select(func.min(A.c.due_date)).where(
        A.c.state.in_(CHASED_STATES), A.c.due_date < today)).scalar()
    day, overdue = today - dt.timedelta(days=1), 1  # working days in (day, today]
    while oldest is not None and day >= oldest:
        for kind in _overdue_kinds(overdue, policy):
            triggers[day].append((kind, overdue))
        overdue += calendar.is_workday(day)
        day -= dt.timedelta(days=1)
    return triggers


def _dates_falling_on(workday: dt.date, calendar: WorkCalendar) -> list[dt.date]:
    """`workday` and the non-working days right after it: deadlines handled on `workday`."""
    out, day = [workday], workday + dt.timedelta(days=1)
    while not calendar.is_workday(day):
        out.append(day)
        day += dt.timedelta(days=1)
    return out


def _overdue_kinds(n: int, policy: RemindPolicy) -> list[str]:
    kinds = []
    if (n - 1) % policy.overdue_every == 0:
        kinds.append("overdue")
    if n >= policy.escalate_after and (n - policy.escalate_after) % policy.overdue_every == 0:
        kinds.append("escalation")
    return kinds


def _assignment_items(session: Session, today: dt.date, triggers: dict, policy: RemindPolicy,
                      calendar: WorkCalendar) -> list[Item]:
    if not triggers:
        return []
    rows = session.execute(
        select(A.c.id, A.c.department_id, A.c.role, A.c.period, A.c.due_date, A.c.task_id,
               A.c.plan_id)
        .where(A.c.state.in_(CHASED_STATES), A.c.due_date.in_(list(triggers)))).all()
    names = _Names(session, {r[5] for r in rows})
    lights = {due: _light(due, today, policy, calendar) for due in {r[4] for r in rows}}
    items = []
    for aid, dept, role, period, due, task, plan in rows:
        seq, requirement = names.tasks[task]
        for kind, days in triggers[due]:
            items.append(Item(kind, aid, dept, names.departments.get(dept, ""), names.plans[plan],
                              seq, requirement, role, period or "", due, days, lights[due]))
    return items


class _Names:
    """Titles, task numbers/texts and department names for the rows at hand (3 queries)."""

    def __init__(self, session: Session, task_ids: set[int]):
        self.departments = dict(session.execute(select(D.c.id, D.c.name)).all())
        self.plans = dict(session.execute(select(P.c.id, P.c.title)).all())
        self.tasks: dict[int, tuple[int, str]] = {}
        ids = sorted(task_ids)
        for start in range(0, len(ids), 900):
            chunk = ids[start:start + 900]
            self.tasks.update((i, (seq, req)) for i, seq, req in session.execute(
                select(T.c.id, T.c.seq, T.c.requirement).where(T.c.id.in_(chunk))).all())


def _review_items(session: Session, today: dt.date, policy: RemindPolicy,
                  calendar: WorkCalendar) -> list[Item]:
    latest = (select(E.c.assignment_id, func.max(E.c.at).label("submitted_at"))
              .where(E.c.trigger == "submit").group_by(E.c.assignment_id).subquery())
    rows = session.execute(
        select(A.c.id, A.c.department_id, A.c.role, A.c.period, A.c.due_date, A.c.task_id,
               A.c.plan_id, latest.c.submitted_at, A.c.updated_at)
        .outerjoin(latest, latest.c.assignment_id == A.c.id)
        .where(A.c.state == "submitted")).all()
    names = _Names(session, {r[5] for r in rows}) if rows else None
    items = []
    waits: dict[dt.date, int] = {}
    for aid, dept, role, period, due, task, plan, submitted_at, updated_at in rows:
        since = _china_date(submitted_at or updated_at)
        waited = waits.get(since)
        if waited is None:
            waited = waits[since] = calendar.workdays_between(since, today)
        extra = waited - policy.review_wait
        if extra >= 1 and (extra - 1) % policy.overdue_every == 0:
            seq, requirement = names.tasks[task]
            items.append(Item("review_waiting", aid, dept, names.departments.get(dept, ""),
                              names.plans[plan], seq, requirement, role, period or "", due,
                              waited, _light(due, today, policy, calendar)))
    return items


def _light(due: dt.date, today: dt.date, policy: RemindPolicy, calendar: WorkCalendar) -> str:
    """Red when overdue, yellow within the warning window, green otherwise."""
    if today > due:
        return "red"
    return "yellow" if calendar.workdays_between(today, due) <= policy.warn_window else "green"


def _china_date(value: dt.datetime | dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return (value.astimezone(CHINA) if value.tzinfo else value).date()
    return value


_RANK = {k: i for i, k in enumerate(KIND_ORDER)}
Audience = tuple[str, int]  # ("department" | "escalation", department id) or ("reviewers", 0)


def _digests(session: Session, today: dt.date, items: list[Item]) -> list[Digest]:
    """Route items to recipients; one digest each, one entry per assignment.

    Items are grouped by audience first (a department, its escalation list, the
    reviewers), so the per-recipient work is per audience, not per item; only a
    recipient in several audiences (a head, a delegate) needs a merge.
    """
    if not items:
        return []
    groups = _by_audience(items)
    directory = Directory.load(session, today)
    members: dict[str, list[Audience]] = defaultdict(list)
    names: dict[str, tuple[str, str]] = {}
    for audience in groups:
        for name, email in _audience_recipients(directory, audience):
            address = email.lower()
            names.setdefault(address, (name, email))
            members[address].append(audience)
    digests = []
    for address in sorted(members):
        name, email = names[address]
        audiences = members[address]
        chosen = (list(groups[audiences[0]]) if len(audiences) == 1
                  else _merge([groups[a] for a in audiences]))
        digests.append(Digest(name=name, email=email, today=today, items=chosen))
    return digests


def _by_audience(items: list[Item]) -> dict[Audience, list[Item]]:
    boxes: dict[Audience, dict[int, Item]] = defaultdict(dict)
    for item in items:
        if item.kind == "review_waiting":
            key = ("reviewers", 0)
        else:
            key = ("escalation" if item.kind == "escalation" else "department", item.department_id)
        box = boxes[key]
        held = box.get(item.assignment_id)
        if held is None or _RANK[item.kind] < _RANK[held.kind]:
            box[item.assignment_id] = item
    return {key: sorted(box.values(), key=_order) for key, box in boxes.items()}


def _merge(lists: list[list[Item]]) -> list[Item]:
    box: dict[int, Item] = {}
    for items in lists:
        for item in items:
            held = box.get(item.assignment_id)
            if held is None or _RANK[item.kind] < _RANK[held.kind]:
                box[item.assignment_id] = item
    return sorted(box.values(), key=_order)


def _order(item: Item) -> tuple:
    return (_RANK[item.kind], item.due_date, item.plan_title, item.task_seq, item.department,
            item.period, item.assignment_id)


def _audience_recipients(directory: Directory, audience: Audience) -> list[tuple[str, str]]:
    kind, department_id = audience
    if kind == "escalation":
        return directory.escalation(department_id)
    if kind == "reviewers":
        return directory.reviewers()
    return directory.department(department_id)


# --- enqueueing -------------------------------------------------------------------

def run_reminders(session: Session, today: dt.date, policy: RemindPolicy,
                  calendar: WorkCalendar, config: Config, *, dry_run: bool = False) -> RemindReport:
    """Plan today's digests and add them to the outbox (the caller commits).

    With dry_run nothing is added; `enqueued` then counts what would be.
    """
    report = RemindReport(today=today, workday=calendar.is_workday(today))
    report.digests = plan_reminders(session, today, policy, calendar)
    report.warnings = list(calendar.warnings)
    for digest in report.digests:
        for item in digest.items:
            report.items[item.kind] = report.items.get(item.kind, 0) + 1
    existing = _existing_keys(session, [d.key for d in report.digests])
    todo = [d for d in report.digests if d.key not in existing]
    report.already = len(report.digests) - len(todo)
    if dry_run:
        report.enqueued = len(todo)
        return report
    outgoing = [Outgoing(key=d.key, kind=d.kind, recipient=format_recipient(d.name, d.email),
                         rendered=render(d.kind, d.context(), config.templates_dir))
                for d in todo]
    report.enqueued = enqueue(session, outgoing)
    return report


def _existing_keys(session: Session, keys: list[str]) -> set[str]:
    from db.models import Notification

    N = Notification.__table__
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        found.update(k for (k,) in session.execute(select(N.c.key).where(N.c.key.in_(chunk))))
    return found
