"""催办: which reminders go out today, computed from the database.

Policy (working days, China's calendar with 调休; see RemindPolicy):

- before due: `before` working days before the due date (default 5 and 1);
- due today: on the due date — a due date on a non-working day is "due today" on
  the last working day before it (07-31-2021 is a Saturday: due today on 07-30);
- overdue: on the 1st, 1+k, 1+2k… working day after the due date (k = overdue_every);
- escalation (heads + supervisors): on the `escalate_after`-th working day
  overdue, then every `overdue_every` working days;
- review waiting (reviewers): a submission waiting more than `review_wait`
  working days since it was submitted, then every `overdue_every`.

Nothing runs on a non-working day. Departments are chased for assigned,
in_progress and returned items only: `submitted` waits on the reviewers (who get
review-waiting reminders instead), `delay_requested` waits on the office's
decision, done/cancelled are closed.

One digest per recipient per run, all their items inside, grouped by kind and
de-duplicated per assignment (a head whose department is late gets the item
once, as an escalation).

Idempotency is per recipient, item, kind and day: every item of an enqueued
digest gets a reminder_log row in the same transaction. A second run the same
day mails a recipient only the items not yet logged for them — nothing when
nothing is new; a smaller digest (key `remind:<day>:<address>:<n>`) when, say,
an item became overdue after the first run. The first digest of a day keeps
the key `remind:<day>:<address>`, the one used before the log existed.

Speed: the due dates (and submission days) that trigger something today are
derived from the calendar first (a walk back from today, one step per day), then
one query fetches only the assignments with those due dates (their tasks joined),
and one more the submissions made on those days. The digests are stored as their
contexts and rendered by the dispatcher when it sends them (see _enqueue): each item
is serialised once, though it is in the digest of every member of its department,
and the contexts are put together from those texts (_contexts, db/jsontext.py); the
outbox and reminder_log rows go in without ORM objects, the log's 17,000 rows (in
the benchmark) as one prepared executemany. What is left is mostly SQLite's own work:
the log rows' inserts with their unique index and foreign-key checks.
"""
from __future__ import annotations

import datetime as dt
import functools
import operator
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from db.jsontext import JSONText, array, compose, dumps
from db.models import Assignment, Department, Notification, Plan, ReminderLog, Task
from db.prepared import Prepared
from notifications.outbox import Outgoing, enqueue_with_ids, format_recipient
from notifications.render import stored_context_text, stored_value
from workflow.calendar import WorkCalendar
from workflow.ledger import lights
from workflow.clock import CHINA
from workflow.config import Config, RemindPolicy
from workflow.plans.model import RESPONSIBILITY_ROLES
from workflow.directory.recipients import Directory

CHASED_STATES = ("assigned", "in_progress", "returned")
KIND_ORDER = ("escalation", "overdue", "due_today", "before", "review_waiting")
SECTION_TITLES = {
    "escalation": "逾期升级（已逾期多个工作日，请督促办理）",
    "overdue": "已逾期",
    "due_today": "今日到期",
    "before": "即将到期",
    "review_waiting": "报送待审核",
}
LIGHTS = {k: (lights.ICONS[k], lights.LABELS[k]) for k in (lights.GREEN, lights.YELLOW, lights.RED)}

A, T, P, D = Assignment.__table__, Task.__table__, Plan.__table__, Department.__table__
L, N = ReminderLog.__table__, Notification.__table__


class Row(dict):
    """A template row whose keys also read as attributes.

    Jinja resolves `item.x` by getattr first and falls back to item["x"] after
    an AttributeError; with thousands of rows per sweep that failed getattr was a
    visible share of the rendering time. Both spellings keep working.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


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

    def context(self) -> Row:
        """The item's row in the digest templates."""
        return self._row(Row, self.due_date)

    def stored(self) -> dict[str, Any]:
        """`stored_value(self.context())`, built directly: every value but the due date
        is already plain (str or int), and the date is stored as stored_value stores it."""
        return self._row(dict, _stored_date(self.due_date))

    def _row(self, kind: type, due_date: Any) -> Any:
        icon, word = LIGHTS[self.light]
        return kind(plan_title=self.plan_title, task_seq=self.task_seq,
                    requirement=self.requirement, department=self.department,
                    role_label=RESPONSIBILITY_ROLES.get(self.role, self.role),
                    period=self.period, due_date=due_date, light=icon,
                    light_label=word, note=self.note())

    def note(self) -> str:
        return _note(self.kind, self.days)


@functools.lru_cache(maxsize=1024)  # a few kinds and day counts, thousands of items
def _note(kind: str, days: int) -> str:
    if kind == "before":
        return f"距完成时限还有 {days} 个工作日"
    if kind == "due_today":
        return "今日到期" if days == 0 else "完成时限为休息日，请于今日完成"
    if kind == "review_waiting":
        return f"已报送 {days} 个工作日，等待审核"
    return f"已逾期 {days} 个工作日"


@functools.lru_cache(maxsize=1024)  # a few due dates, thousands of items; the value is never changed
def _stored_date(day: dt.date) -> Any:
    return stored_value(day)


@dataclass
class Digest:
    """One mail: everything one recipient is reminded of in this run."""

    name: str
    email: str
    today: dt.date
    items: list[Item]
    seq: int = 1  # the recipient's n-th digest today (a later run adds only new items)
    anchor: str | None = None  # supervisors' digests: the audit anchor line (workflow/audit.py)

    @property
    def kind(self) -> str:
        kinds = {i.kind for i in self.items}
        if "escalation" in kinds:
            return "escalation"
        return "review_waiting" if kinds == {"review_waiting"} else "reminder"

    @property
    def key(self) -> str:
        base = f"remind:{self.today.isoformat()}:{self.email.lower()}"
        return base if self.seq == 1 else f"{base}:{self.seq}"

    @property
    def signature(self) -> tuple[int, ...]:
        """Same signature, same item tables: what lets recipients share them. The items by
        identity: planning makes one Item per assignment and kind, held by every digest
        that has it (a department's members, its head, a delegate)."""
        return tuple(map(id, self.items))

    def sections(self, row: Callable[[Item], Any] = Item.context,
                 table: Callable[[list[Any]], Any] = list) -> list[dict[str, Any]]:
        """The item tables, each item as `row(item)` (its template row, or its stored
        row's text) and each table's rows as `table(rows)` (a list, or a JSON array)."""
        by_kind: dict[str, list[Item]] = defaultdict(list)
        for item in self.items:
            by_kind[item.kind].append(item)
        return [{"key": k, "title": SECTION_TITLES[k], "items": table([row(i) for i in by_kind[k]])}
                for k in KIND_ORDER if by_kind[k]]

    def context(self, tables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The template context; `tables` ({"sections": …}) when the caller shares or stores them."""
        counts = Counter(map(_KIND, self.items))
        return {"recipient_name": self.name, "today": self.today, "total": len(self.items),
                "counts": {k: counts[k] for k in KIND_ORDER}, "anchor": self.anchor,
                **(tables if tables is not None else {"sections": self.sections()})}


@dataclass
class RemindReport:
    today: dt.date
    workday: bool
    digests: list[Digest] = field(default_factory=list)
    enqueued: int = 0
    already: int = 0  # recipients with nothing new: every item was reminded earlier today
    already_items: int = 0  # distinct items left out because they were reminded earlier today
    items: dict[str, int] = field(default_factory=dict)  # kind → distinct items (distinct_items)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "today": self.today, "workday": self.workday, "enqueued": self.enqueued,
            "already": self.already, "already_items": self.already_items,
            "items": {kind: self.items.get(kind, 0) for kind in KIND_ORDER},  # every kind, zeros too
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
    names = _Names(session)
    items = _assignment_items(session, today, triggers, policy, calendar, names)
    items += _review_items(session, today, policy, calendar, names)
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
                      calendar: WorkCalendar, names: _Names) -> list[Item]:
    if not triggers:
        return []
    rows = session.execute(_ITEM_COLUMNS.where(
        A.c.state.in_(CHASED_STATES), A.c.due_date.in_(list(triggers))))
    lights: dict[dt.date, str] = {}
    items = []
    for aid, dept, role, period, day, plan, seq, requirement in rows:  # one row at a time: none kept
        light = lights.get(day) or lights.setdefault(day, _light(day, today, policy, calendar))
        for kind, days in triggers[day]:
            items.append(Item(kind, aid, dept, names.departments.get(dept, ""), names.plans[plan],
                              seq, requirement, role, period or "", day, days, light))
    return items


# An assignment with what its reminder shows of its task: joined, not looked up by id
# afterwards (a second pass of the predicate, or thousands of bound ids).
_ITEM_COLUMNS = (select(A.c.id, A.c.department_id, A.c.role, A.c.period, A.c.due_date, A.c.plan_id,
                        T.c.seq, T.c.requirement)
                 .join_from(A, T, T.c.id == A.c.task_id))


class _Names:
    """Plan titles and department names (2 queries, a few rows each)."""

    def __init__(self, session: Session):
        self.departments = dict(session.execute(select(D.c.id, D.c.name)).all())
        self.plans = dict(session.execute(select(P.c.id, P.c.title)).all())


def _review_items(session: Session, today: dt.date, policy: RemindPolicy,
                  calendar: WorkCalendar, names: _Names) -> list[Item]:
    """Submissions waiting on a review-reminder day; the same two steps as due dates.

    A submitted row's `updated_at` is when it was (last) submitted: fire() stamps it
    with the event's business time, and `submit` is the only way into `submitted`
    (the review queue shows the same value as 等待自). So no event is read: the
    submission days that trigger today come from the calendar, then one query
    fetches the rows submitted on those days. Each day is its own term, `state =
    'submitted'` and `updated_at` within the day, OR'd: the (state, updated_at) index
    then reads only those days' rows (on SQLite a multi-index OR), not every submission.
    """
    oldest = session.execute(select(func.min(A.c.updated_at))
                             .where(A.c.state == "submitted")).scalar()
    days = _review_days(_china_date(oldest), today, policy, calendar) if oldest else {}
    if not days:
        return []
    where = or_(*(and_(A.c.state == "submitted", A.c.updated_at >= _midnight(day),
                       A.c.updated_at < _midnight(day + dt.timedelta(days=1))) for day in days))
    rows = session.execute(_ITEM_COLUMNS.add_columns(A.c.updated_at).where(where)).all()
    lights = {due: _light(due, today, policy, calendar) for due in {r.due_date for r in rows}}
    items = []
    for aid, dept, role, period, due, plan, seq, requirement, submitted_at in rows:
        items.append(Item("review_waiting", aid, dept, names.departments.get(dept, ""),
                          names.plans[plan], seq, requirement, role, period or "", due,
                          days[_china_date(submitted_at)], lights[due]))
    return items


def _review_days(oldest: dt.date, today: dt.date, policy: RemindPolicy,
                 calendar: WorkCalendar) -> dict[dt.date, int]:
    """Submission day → working days waited, for the days whose wait is reminded today.

    Reminded once more than `review_wait` working days have passed, then every
    `overdue_every`; a walk back from today, one step per calendar day.
    """
    out: dict[dt.date, int] = {}
    day, waited = today, 0  # working days in (day, today]
    while day >= oldest:
        extra = waited - policy.review_wait
        if extra >= 1 and (extra - 1) % policy.overdue_every == 0:
            out[day] = waited
        waited += calendar.is_workday(day)
        day -= dt.timedelta(days=1)
    return out


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


def _light(due: dt.date, today: dt.date, policy: RemindPolicy, calendar: WorkCalendar) -> str:
    """The light of an open item (workflow/ledger/lights.py, the one rule)."""
    return lights.from_calendar(policy.warn_window, calendar).of_due(due, today)


def _china_date(value: dt.datetime | dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return (value.astimezone(CHINA) if value.tzinfo else value).date()
    return value


_RANK = {k: i for i, k in enumerate(KIND_ORDER)}
_KIND = operator.attrgetter("kind")
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
    """Plan today's digests, keep what no earlier run today sent, add it to the outbox.

    The caller commits: the digests and their reminder_log rows go in one
    transaction, so a crash leaves both or neither. Two concurrent runs are kept
    apart by the sweep lock (workflow/remind_lock.py), and should one slip
    through, the unique keys of notification and reminder_log refuse the second.
    With dry_run nothing is added; `enqueued` then counts what would be.
    """
    report = RemindReport(today=today, workday=calendar.is_workday(today))
    planned = plan_reminders(session, today, policy, calendar)
    report.warnings = list(calendar.warnings)
    report.digests = _not_yet_reminded(session, today, planned, report)
    report.items = distinct_items(report.digests)
    if dry_run:
        report.enqueued = len(report.digests)
        return report
    report.enqueued = _enqueue(session, today, report.digests, config)
    return report


def distinct_items(digests: list[Digest]) -> dict[str, int]:
    """Kind → how many distinct assignments, each counted once under its most urgent kind:
    an item mailed to a department, its head and a delegate is one item, not three."""
    kind_of: dict[int, str] = {}
    for digest in digests:
        for item in digest.items:
            held = kind_of.get(item.assignment_id)
            if held is None or _RANK[item.kind] < _RANK[held]:
                kind_of[item.assignment_id] = item.kind
    counts = Counter(kind_of.values())
    return {kind: counts[kind] for kind in KIND_ORDER if counts[kind]}


def _not_yet_reminded(session: Session, today: dt.date, planned: list[Digest],
                      report: RemindReport) -> list[Digest]:
    """The planned digests cut down to the items not yet reminded today.

    A recipient mailed earlier today gets a further, smaller digest only when
    something new qualifies; one whose items were all sent gets nothing.
    """
    logged, mails = _reminded_today(session, today)
    todo, left_out = [], set()
    for digest in planned:
        address = digest.email.lower()
        if logged:
            fresh = [i for i in digest.items if (address, i.kind, i.assignment_id) not in logged]
            left_out.update(i.assignment_id for i in digest.items
                            if (address, i.kind, i.assignment_id) in logged)
        else:  # the day's first sweep: every item is new
            fresh = digest.items
        if fresh:
            todo.append(Digest(digest.name, digest.email, today, fresh, seq=mails[address] + 1))
        else:
            report.already += 1
    # A first digest of the day enqueued before reminder_log existed (migration 0003)
    # has this key and no log rows: it stands for the whole day.
    report.already_items = len(left_out)  # distinct items, like report.items
    sent = _existing_keys(session, [d.key for d in todo])
    report.already += len(sent)
    return [d for d in todo if d.key not in sent]


def _reminded_today(session: Session, today: dt.date) -> tuple[set[tuple[str, str, int]],
                                                                Counter[str]]:
    """(address, kind, assignment) reminded today, and how many digests each address got.

    The rows are read one at a time: after a first sweep there are as many as its
    entries (17,000 in the benchmark), and a list of them all outlived collections."""
    logged, mails = set(), set()
    for address, kind, assignment, mail in session.execute(
            select(L.c.recipient, L.c.kind, L.c.assignment_id, L.c.notification_id).where(L.c.day == today)):
        logged.add((address, kind, assignment))
        mails.add((address, mail))
    return logged, Counter(address for address, _ in mails)


def _on_day(today: dt.date) -> dt.datetime:
    """Now's time of day on the sweep's (business) day, naive China wall time."""
    return dt.datetime.combine(today, dt.datetime.now(CHINA).time().replace(tzinfo=None))


_LOG_COLUMNS = ("day", "recipient", "kind", "assignment_id", "notification_id")
_LOG_INSERT = Prepared(L.insert(), _LOG_COLUMNS)


def _enqueue(session: Session, today: dt.date, digests: list[Digest], config: Config) -> int:
    """Add the digests to the outbox and log their items; returns how many were added.

    A digest is stored as its context and rendered when the dispatcher sends it, as
    event mails are (notifications/outbox.py `rendered_row`): rendering 162 digests of
    17,000 entries was most of a sweep's time, spent inside the sweep's transaction.
    Their keys were looked up by _not_yet_reminded (new_keys); the unique keys of
    notification and reminder_log still refuse a concurrent sweep's rows. The log rows,
    one per item of each digest, go in one prepared executemany of tuples (db/prepared.py).
    """
    _give_supervisors_the_anchor(session, today, digests)
    contexts = _contexts(digests, config.templates_dir)
    ids = enqueue_with_ids(session, [
        Outgoing(key=d.key, kind=d.kind, recipient=format_recipient(d.name, d.email), context=c)
        for d, c in zip(digests, contexts)], created_at=_on_day(today), new_keys=True)
    rows = [(today, address, i.kind, i.assignment_id, nid) for d in digests if d.key in ids
            for address, nid in ((d.email.lower(), ids[d.key]),) for i in d.items]
    if rows:
        _LOG_INSERT.execute_values(session.connection(), rows)
    return len(ids)


def _give_supervisors_the_anchor(session: Session, today: dt.date, digests: list[Digest]) -> None:
    """Supervisors' digests carry today's audit anchor: a copy outside the database of
    every chain's head and length, so a later rewrite of the history can be proven."""
    from db.models import User
    from workflow.lifecycle.audit import anchor

    u = User.__table__
    supervisors = {email.lower() for email, roles in session.execute(
        select(u.c.email, u.c.roles).where(u.c.active.is_(True))) if "supervisor" in (roles or [])}
    chosen = [d for d in digests if d.email.lower() in supervisors]
    if chosen:
        line = anchor(session.connection(), today).line
        for digest in chosen:
            digest.anchor = line


def _contexts(digests: list[Digest], templates_dir: Any) -> list[JSONText]:
    """Every digest's stored context (render.stored_context), as its JSON text.

    All members of a department get the same items, and an item is in the digests of
    several people: each item is serialised once, each distinct item list's tables put
    together once from those texts, and each digest's context from its tables
    (db/jsontext.py compose; the text is json.dumps' for the whole context).
    """
    items: dict[int, str] = {}  # id(item) → its stored row's JSON text; the digests hold the items

    def stored(item: Item) -> str:
        text = items.get(id(item))
        if text is None:
            text = items[id(item)] = dumps(item.stored())
        return text

    tables: dict[tuple[int, ...], JSONText] = {}
    out = []
    for digest in digests:
        signature = digest.signature
        sections = tables.get(signature)
        if sections is None:
            sections = tables[signature] = compose(digest.sections(stored, array))
        out.append(stored_context_text(digest.context({}), templates_dir, stored={"sections": sections}))
    return out


def _existing_keys(session: Session, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        found.update(k for (k,) in session.execute(select(N.c.key).where(N.c.key.in_(chunk))))
    return found
