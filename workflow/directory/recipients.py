"""Who receives a mail: department members, reviewers, escalation targets.

A Directory loads the active users, the departments' e-mail addresses and the
delegations in force on a date with three queries, then answers any number of
questions from memory; the reminder run asks once per department, not once per
assignment. The module-level functions are the one-shot forms.

Every answer is a de-duplicated list of (name, email) in a stable order
(users by id, then the department mailbox, then delegates by id), de-duplicated
on the lower-cased address.

`current(session, on)` is the directory fire() and publish() mail from. A process keeps
what it loaded while the database's directory stamp (table directory_version, renewed
by triggers in the transaction of every change to users, departments or delegations)
is the one it loaded under: one small read per mail instead of three queries over the
whole directory, and never a stale answer, whichever process made the change. A
Directory holds plain records (Person), not ORM objects, so it outlives its session.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlmodel import Session

from db.models import Delegation, Department, DirectoryVersion, User

Recipient = tuple[str, str]

_U, _D, _G, _DV = User.__table__, Department.__table__, Delegation.__table__, DirectoryVersion.__table__
_USERS = select(_U.c.id, _U.c.name, _U.c.email, _U.c.department_id, _U.c.roles).where(
    _U.c.active == True).order_by(_U.c.id)  # noqa: E712
_DEPARTMENTS = select(_D.c.id, _D.c.name, _D.c.email, _D.c.head)
_STAMP = select(_DV.c.stamp).where(_DV.c.id == 1)
UNREAD: Any = object()


class Person(NamedTuple):
    """An active user as the directory knows them (what mails need, nothing else)."""

    id: int
    name: str
    email: str
    department_id: int | None
    roles: list[str]


@dataclass
class Directory:
    users: dict[int, Person]
    departments: dict[int, tuple[str, str | None, str | None]]  # id → (name, email, head name)
    delegates: dict[int, list[int]] = field(default_factory=dict)  # from_user → to_users

    @classmethod
    def load(cls, session: Session, on: dt.date) -> "Directory":
        conn = session.connection()
        users = {r.id: Person(r.id, r.name, r.email, r.department_id, list(r.roles or []))
                 for r in conn.execute(_USERS)}
        departments = {r.id: (r.name, r.email, r.head) for r in conn.execute(_DEPARTMENTS)}
        delegations = conn.execute(
            select(_G.c.from_user_id, _G.c.to_user_id).where(_G.c.starts_on <= on, _G.c.ends_on >= on,
                                                          _G.c.revoked_at.is_(None))
            .order_by(_G.c.to_user_id))
        delegates: dict[int, list[int]] = defaultdict(list)
        for from_id, to_id in delegations:
            if to_id in users:
                delegates[from_id].append(to_id)
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

    def _delegates_of(self, people: list[Person]) -> list[Recipient]:
        ids = sorted({to for u in people for to in self.delegates.get(u.id, [])})
        return [(self.users[i].name, self.users[i].email) for i in ids]


# Directories this process loaded, by (stamp, day). A stamp is random and renewed at every
# change, so an entry is right for as long as the database shows its stamp; entries of
# stamps gone by are never asked for again and are dropped when the cache fills.
_LOADED: dict[tuple[str, dt.date], Directory] = {}
_LOADED_LIMIT = 16


def read_stamp(session: Session) -> str | None:
    """The directory's current stamp (None on a database without one)."""
    return session.connection().execute(_STAMP).scalar()


def current(session: Session, on: dt.date, stamp: Any = UNREAD) -> Directory:
    """The directory in force on `on`, from this process's cache while the stamp holds.

    `stamp` is the stamp the caller already read in this transaction (fire() reads it
    with the assignment). The result is shared: callers must not change it.
    """
    if stamp is UNREAD:
        stamp = read_stamp(session)
    if stamp is None:
        return Directory.load(session, on)
    found = _LOADED.get((stamp, on))
    if found is not None:
        return found
    directory = Directory.load(session, on)
    # Kept only if nothing changed while it loaded (PostgreSQL's READ COMMITTED gives
    # each statement its own snapshot; SQLite's transaction has one).
    if read_stamp(session) == stamp:
        if len(_LOADED) >= _LOADED_LIMIT:
            _LOADED.clear()
        _LOADED[(stamp, on)] = directory
    return directory


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
