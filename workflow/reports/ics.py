"""Open assignments as a calendar file (.ics, RFC 5545), for Outlook, WPS and phones.

Staff live in their calendars, not in `duban task list`: each open assignment becomes
an all-day event on its due date, with a reminder at 9:00 the day before and on the
day. Closed assignments (done, cancelled) are left out.

The UID is one per assignment (`assignment-{id}.{instance}@{domain}`: the database's
random instance id, db/instance.py, and the office's mail domain, so two databases never
share a UID while one database's exports always agree) and SEQUENCE is the
assignment's version, which grows with every move. Re-importing a newer export
therefore *updates* the event, also when an approved delay moved the due date,
instead of leaving a stale deadline beside the new one (a UID that contained the
date would do exactly that).

The icalendar library escapes commas, semicolons, backslashes and line breaks in
text values and folds lines at 75 octets without splitting a UTF-8 character, so
user text (a requirement pasted with CR/LF) cannot break the file's structure.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import and_, select
from sqlmodel import Session

import states
from db.models import Assignment, Department, Plan, Task
from workflow.ledger.compute import period_label
from workflow.ledger.lights import days_late
from workflow.plans.model import RESPONSIBILITY_ROLES

PRODID = "-//duban//督办//ZH"
CALNAME = "督办事项"
PREFIX = "【督办】"
_WS = re.compile(r"\s+")
_A, _T, _D, _P = (m.__table__ for m in (Assignment, Task, Department, Plan))


def cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def uid(assignment_id: int, instance: str, domain: str) -> str:
    """One event per assignment, whatever its due date becomes; one database's own."""
    return f"assignment-{assignment_id}.{instance}@{domain}"


def open_assignments(session: Session, *, department_id: int | None = None,
                     plan_id: int | None = None) -> list[Any]:
    """Open assignments with what the event shows, nearest due date first."""
    q = (select(_A.c.id, _A.c.role, _A.c.period, _A.c.due_date, _A.c.state, _A.c.version,
                _T.c.seq, _T.c.requirement, _D.c.name.label("department"), _P.c.title.label("plan_title"))
         .join(_T, _T.c.id == _A.c.task_id)
         .join(_D, _D.c.id == _A.c.department_id)
         .join(_P, _P.c.id == _A.c.plan_id))
    conditions = [_A.c.state.in_(states.OPEN_STATES)]
    if department_id is not None:
        conditions.append(_A.c.department_id == department_id)
    if plan_id is not None:
        conditions.append(_A.c.plan_id == plan_id)
    q = q.where(and_(*conditions)).order_by(_A.c.due_date, _T.c.seq, _A.c.id)
    return list(session.execute(q))


def summary(row: Any) -> str:
    """【督办】第7项 科监处 截止 — what fits on a phone's calendar line."""
    period = f"（{period_label(row.period)}）" if row.period else ""
    return _WS.sub(" ", f"{PREFIX}第{row.seq}项{period} {row.department} 截止").strip()


def description(row: Any, today: dt.date) -> str:
    """The event body: enough to act on without opening duban."""
    lines = [f"计划：{row.plan_title}",
             f"任务：第{row.seq}项",
             f"具体要求：{_plain(row.requirement)}",
             f"处室：{row.department}（{RESPONSIBILITY_ROLES.get(row.role, row.role)}）",
             f"状态：{states.state_label(row.state)}"]
    if row.period:
        lines.append(f"期次：{period_label(row.period)}")
    lines.append(f"完成时限：{cn_date(row.due_date)}")
    late = days_late(row.due_date, today)
    if late > 0:
        lines.append(f"提示：截至{cn_date(today)}已逾期 {late} 个工作日")
    lines.append(f"查看：duban task show {row.id}")
    return "\n".join(lines)


def _plain(text: Any) -> str:
    """Keep the author's line breaks as LF (icalendar escapes them); drop other controls."""
    text = str(text or "").replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in text if ch == "\n" or ch == "\t" or ch.isprintable()).strip()


def event(row: Any, today: dt.date, stamp: dt.datetime, instance: str = "0",
          domain: str = "localhost"):
    """One all-day VEVENT on the due date with two display alarms."""
    from icalendar import Alarm, Event

    ev = Event()
    ev.add("uid", uid(row.id, instance, domain))
    ev.add("sequence", int(row.version or 0))
    ev.add("dtstamp", stamp)
    ev.add("dtstart", row.due_date)  # a date: VALUE=DATE, all day
    ev.add("dtend", row.due_date + dt.timedelta(days=1))
    ev.add("summary", summary(row))
    ev.add("description", description(row, today))
    ev.add("categories", ["督办"])
    ev.add("transp", "TRANSPARENT")  # a deadline does not make anyone busy
    for trigger, when in ((dt.timedelta(hours=-15), "明天"), (dt.timedelta(hours=9), "今天")):
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("trigger", trigger)  # relative to 00:00 of the due date: 9:00 the day before / on the day
        alarm.add("description", f"{summary(row)}：{when}到期")
        ev.add_component(alarm)
    return ev


def calendar_name(session: Session, department_id: int | None, plan_id: int | None) -> str:
    parts = []
    if department_id is not None:
        name = session.execute(select(_D.c.name).where(_D.c.id == department_id)).scalar_one_or_none()
        parts.append(name or f"处室{department_id}")
    if plan_id is not None:
        title = session.execute(select(_P.c.title).where(_P.c.id == plan_id)).scalar_one_or_none()
        parts.append(title or f"计划{plan_id}")
    return CALNAME + (f"（{' · '.join(parts)}）" if parts else "")


def export_calendar(session: Session, today: dt.date, *, department_id: int | None = None,
                    plan_id: int | None = None, stamp: dt.datetime | None = None,
                    domain: str = "localhost") -> bytes:
    """Every open assignment (optionally of one department and/or plan) as .ics bytes.

    `stamp` (DTSTAMP, UTC) defaults to now; tests fix it to compare exports byte for byte.
    `domain` ends the UIDs: the office's mail domain (MailConfig.id_domain).
    """
    from icalendar import Calendar

    from db.instance import instance_id

    instance = instance_id(session)
    stamp = stamp or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.timezone.utc)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", calendar_name(session, department_id, plan_id))
    cal.add("x-wr-timezone", "Asia/Shanghai")
    for row in open_assignments(session, department_id=department_id, plan_id=plan_id):
        cal.add_component(event(row, today, stamp, instance, domain))
    return cal.to_ical()
