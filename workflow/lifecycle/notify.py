"""From a transition's `after` effects to outbox rows, inside fire()'s transaction.

states/ declares which transition notifies whom (`notify`, `audience`); the Carrier
records those effects when the machine runs the transition; this module enqueues the
mails in the same transaction as the event, so a move and its mails commit or roll back
together. Each row holds the mail's context, not its text: the dispatcher renders it
(notifications/render.py `stored_context`). Recipients come from the process's
directory cache (workflow/directory/recipients.py `current`), checked against the database's
directory stamp. Distribution sends one 任务下发通知 per department.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

import states
from db.models import Department, Plan, Task
from notifications.outbox import Outgoing, enqueue, format_recipient
from notifications.render import event_context, stored_context
from workflow.plans.model import RESPONSIBILITY_ROLES
from workflow.directory.recipients import UNREAD, Directory, current


@dataclass
class Notifier:
    """Enqueues mails with their context; caches task titles for one command's duration.

    One per command (fire() and publish() make a fresh one when none is passed): the
    task cache knows nothing of other sessions or databases. The directory comes from
    the process-wide cache, which checks the database's stamp on every use.
    """

    templates_dir: Path | None = None
    # The web front end's address ([web] base_url): reviewers' mails then carry a
    # single-use approve link each (workflow/mail_links), departments' mails the item's page.
    base_url: str | None = None
    link_days: int = 7
    _tasks: dict[int, tuple] = field(default_factory=dict)

    def directory(self, session: Session, on: dt.date, stamp=UNREAD) -> Directory:
        return current(session, on, stamp)

    def task_info(self, session: Session, task_id: int, row: dict[str, Any] | None = None) -> tuple:
        if row is not None and "task_requirement" in row:  # fire() read them with the assignment
            return row["plan_title"], row["task_seq"], row["task_requirement"]
        if task_id not in self._tasks:
            t, p = Task.__table__, Plan.__table__
            self._tasks[task_id] = tuple(session.connection().execute(
                select(p.c.title, t.c.seq, t.c.requirement).join(p, p.c.id == t.c.plan_id)
                .where(t.c.id == task_id)).one())
        return self._tasks[task_id]

    def outgoing(self, session: Session, row: dict[str, Any], event: dict[str, Any],
                 effects: list[tuple[str, dict]]) -> list[Outgoing]:
        """The mails the transition's effects ask for. The engine adds a batch's together
        (engine._record), with keys that name events its transaction just wrote."""
        kinds = [e for k, e in effects if k == "notify"]
        if not kinds:
            return []
        day = event["at"].date()
        directory = self.directory(session, day, row.get("directory_stamp", UNREAD))
        items: list[Outgoing] = []
        for effect in kinds:
            context = self._context(session, row, event, directory)
            to_reviewers = effect["audience"] == "reviewers"
            if self.base_url and not to_reviewers:
                context["link"] = f"{self.base_url}/tasks/{row['id']}"
            stored = stored_context(context, self.templates_dir)
            people = AUDIENCES[effect["audience"]](directory, row["department_id"])
            by_email = {u.email.lower(): u.id for u in directory.users.values()} if self.base_url else {}
            for name, email in people:
                mail = stored
                user_id = by_email.get(email.lower()) if to_reviewers else None
                if user_id is not None:  # a link of their own: bound to them and this item, single-use
                    from workflow.mail_links import issue

                    secret = issue(session.connection(), user_id, row["id"], self.link_days)
                    mail = stored_context({**context, "link": f"{self.base_url}/m/{secret}"},
                                          self.templates_dir)
                items.append(Outgoing(key=f"event:{event['id']}:{email.lower()}", kind=effect["kind"],
                                      recipient=format_recipient(name, email), context=mail,
                                      event_id=event["id"], assignment_id=row["id"]))
        return items

    def _context(self, session: Session, row: dict[str, Any], event: dict[str, Any],
                 directory: Directory) -> dict[str, Any]:
        title, seq, requirement = self.task_info(session, row["task_id"], row)
        data = event.get("data") or {}
        users = directory.users
        actor = users.get(event["actor_id"])
        behalf = users.get(event["on_behalf_of_id"]) if event.get("on_behalf_of_id") else None
        new_due = data.get("new_due") or data.get("requested_due")
        given = _given_fields(event["trigger"])
        return event_context(
            plan_title=title, task_seq=seq, requirement=requirement,
            department=directory.departments.get(row["department_id"], ("",))[0],
            role_label=RESPONSIBILITY_ROLES.get(row["role"], row["role"]), period=row["period"],
            due_date=row["due_date"],
            new_due=dt.date.fromisoformat(new_due) if new_due else None,
            old_due=dt.date.fromisoformat(data["old_due"]) if data.get("old_due") else None,
            actor=actor.name if actor else "", on_behalf_of=behalf.name if behalf else None,
            comment=event["comment"] if "comment" in given else None,
            reason=data.get("reason") or (event["comment"] if "reason" in given else None),
            summary=data.get("summary"),
            state_label=states.state_label(event["to_state"]),
            trigger_label=states.trigger_label(event["trigger"]),
        )

    def after_publish(self, session: Session, plan: Plan, created: list[dict[str, Any]]) -> int:
        """One 任务下发通知 per department and recipient, listing what it was given."""
        if not created:
            return 0
        today = (plan.published_at or dt.datetime.now()).date()
        directory = self.directory(session, today)
        by_dept: dict[int, list[dict[str, Any]]] = {}
        for c in created:
            by_dept.setdefault(c["department_id"], []).append(c)
        items: list[Outgoing] = []
        for dept_id, rows in by_dept.items():
            first = min(rows, key=lambda r: (r["seq"], r["period"]))
            title, seq, requirement = self.task_info(session, first["task_id"])
            context = event_context(
                plan_title=title, task_seq=seq, requirement=requirement,
                department=directory.departments.get(dept_id, ("",))[0],
                role_label=RESPONSIBILITY_ROLES.get(first["role"], first["role"]),
                period=first["period"], due_date=first["due_date"],
                actor="", state_label=states.state_label("assigned"), trigger_label="下发")
            context["summary"] = _task_list(rows)
            stored = stored_context(context, self.templates_dir)
            for name, email in directory.department(dept_id):
                key = f"distributed:{plan.id}:{dept_id}:{min(r['id'] for r in rows)}:{email.lower()}"
                items.append(Outgoing(key=key, kind="distributed", recipient=format_recipient(name, email),
                                      context=stored, assignment_id=first["id"]))
        return enqueue(session, items, created_at=plan.published_at)


# states.AUDIENCES → who receives the mail (test_architecture checks every audience is here).
AUDIENCES: dict[str, Any] = {
    "department": lambda directory, department_id: directory.department(department_id),
    "reviewers": lambda directory, department_id: directory.reviewers(),
    "heads": lambda directory, department_id: directory.escalation(department_id),
}


def _given_fields(trigger: str) -> tuple[str, ...]:
    """The fields the user fills for a trigger (states/): its comment or reason goes in the mail."""
    t = states.TRANSITION_BY_TRIGGER.get(trigger)
    return t.requires + t.optional if t else ()


def _task_list(rows: list[dict[str, Any]]) -> str:
    """The department's new items, one line each, for the distribution mail."""
    lines = []
    for r in sorted(rows, key=lambda r: (r["seq"], r["period"])):
        period = f" {r['period']}" if r["period"] else ""
        lines.append(f"第 {r['seq']} 项{period}（{RESPONSIBILITY_ROLES.get(r['role'], r['role'])}），"
                     f"完成时限 {r['due_date']}")
    return "本次下发给贵处室的事项：\n" + "\n".join(lines)

