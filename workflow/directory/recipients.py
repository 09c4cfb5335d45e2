"""Who receives a mail: department members, reviewers, escalation targets.

A Directory loads the active users, the departments' e-mail addresses and the
delegations in force on a date with three queries, then answers any number of
questions from memory; the reminder run asks once per department, not once per
assignment. The module-level functions are the one-shot forms.

Every answer is a de-duplicated list of (name, email) in a stable order
(users by id, then the department mailbox, then delegates by id), de-duplicated
on the lower-cased address.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlmodel import Session, select

from db.models import Delegation, Department, User

Recipient = tuple[str, str]


@dataclass
class Directory:
    users: dict[int, User]
    departments: dict[int, tuple[str, str | None, str | None]]  # id → (name, email, head name)
    delegates: dict[int, list[int]] = field(default_factory=dict)  # from_user → to_users

    @classmethod
    def load(cls, session: Session, on: dt.date) -> "Directory":
        users = {u.id: u for u in session.exec(select(User).where(User.active == True)  # noqa: E712
                                               .order_by(User.id)).all()}
        departments = {d.id: (d.name, d.email, d.head) for d in session.exec(select(Department)).all()}
        delegations = session.exec(
            select(Delegation).where(Delegation.starts_on <= on, Delegation.ends_on >= on)
            .order_by(Delegation.to_user_id)).all()
        delegates: dict[int, list[int]] = defaultdict(list)
        for d in delegations:
            if d.to_user_id in users:
                delegates[d.from_user_id].append(d.to_user_id)
        return cls(users, departments, dict(delegates))

    def department(self, department_id: int) -> list[Recipient]:
        """Members (heads included), the department mailbox, then their delegates."""
        members = [u for u in self.users.values() if u.department_id == department_id]
        out = [(u.name, u.email) for u in members]
        name, email, _head = self.departments.get(department_id, ("", None, None))
        if email:
            out.append((name, email))
        out += self._delegates_of(members)
        return _unique(out)

    def reviewers(self) -> list[Recipient]:
        """Active reviewers, then their delegates."""
        reviewers = [u for u in self.users.values() if "reviewer" in (u.roles or [])]
        return _unique([(u.name, u.email) for u in reviewers] + self._delegates_of(reviewers))

    def escalation(self, department_id: int) -> list[Recipient]:
        """The department's heads (role head, or named as its head), then all supervisors."""
        head_name = self.departments.get(department_id, ("", None, None))[2]
        heads = [u for u in self.users.values()
                 if u.department_id == department_id
                 and ("head" in (u.roles or []) or (head_name and u.name == head_name))]
        supervisors = [u for u in self.users.values() if "supervisor" in (u.roles or [])]
        return _unique([(u.name, u.email) for u in heads + supervisors])

    def _delegates_of(self, people: list[User]) -> list[Recipient]:
        ids = sorted({to for u in people for to in self.delegates.get(u.id, [])})
        return [(self.users[i].name, self.users[i].email) for i in ids]


def department_recipients(session: Session, department_id: int, on: dt.date) -> list[Recipient]:
    return Directory.load(session, on).department(department_id)


def reviewer_recipients(session: Session, on: dt.date | None = None) -> list[Recipient]:
    return Directory.load(session, on or dt.date.today()).reviewers()


def escalation_recipients(session: Session, department_id: int) -> list[Recipient]:
    return Directory.load(session, dt.date.today()).escalation(department_id)


def _unique(items: list[Recipient]) -> list[Recipient]:
    seen: set[str] = set()
    out: list[Recipient] = []
    for name, email in items:
        key = (email or "").strip().lower()
        if key and key not in seen:
            seen.add(key)
            out.append((name, email.strip()))
    return out
