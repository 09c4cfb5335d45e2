"""Shared helpers for the mail and reminder tests: a database world and an SMTP sink."""
from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from db.engine import make_engine
from db.migrate import upgrade
from db.models import Assignment, Delegation, Department, Event, Plan, Task, User



def make_db(tmp_path: Path, name: str = "duban.db"):
    engine = make_engine(f"sqlite:///{tmp_path / name}", synchronous="NORMAL")
    upgrade(engine)
    return engine


def stamp(day: dt.date, hour: int = 10) -> dt.datetime:
    """A business timestamp on `day`: naive China wall time, as the models store it."""
    return dt.datetime.combine(day, dt.time(hour))


class World:
    """Builds rows directly, one short transaction each."""

    def __init__(self, engine):
        self.engine = engine
        self.created = dt.datetime(2021, 7, 20, 9, 0)

    def _add(self, row):
        with Session(self.engine) as s:
            s.add(row)
            s.commit()
            return row.id

    def dept(self, name: str, email: str | None = None, head: str | None = None) -> int:
        return self._add(Department(name=name, email=email, head=head))

    def user(self, name: str, dept: int | None, roles: list[str], email: str | None = None,
             active: bool = True) -> int:
        return self._add(User(name=name, email=email or f"{name}@example.gov.cn",
                              department_id=dept, roles=roles, active=active,
                              created_at=self.created))

    def plan(self, title: str = "2021年政务公开工作要点分工方案", year: int = 2021) -> int:
        return self._add(Plan(title=title, year=year, created_at=self.created))

    def task(self, plan: int, seq: int, requirement: str = "做好政务公开工作") -> int:
        return self._add(Task(plan_id=plan, seq=seq, requirement=requirement))

    def assignment(self, plan: int, task: int, dept: int, due: dt.date, state: str = "in_progress",
                   role: str = "lead", period: str = "") -> int:
        return self._add(Assignment(plan_id=plan, task_id=task, department_id=dept, role=role,
                                    period=period, due_date=due, state=state,
                                    created_at=self.created, updated_at=self.created))

    def event(self, assignment: int, plan: int, trigger: str, actor: int, at: dt.datetime,
              from_state: str = "in_progress", to_state: str = "submitted") -> int:
        """An event, and the assignment stamped with its time as fire() does."""
        with Session(self.engine) as s:
            row = s.get(Assignment, assignment)
            row.updated_at = at
            s.add(row)
            s.commit()
        return self._add(Event(assignment_id=assignment, plan_id=plan, trigger=trigger,
                               from_state=from_state, to_state=to_state, actor_id=actor,
                               at=at, recorded_at=at))

    def delegation(self, from_user: int, to_user: int, starts: dt.date, ends: dt.date) -> int:
        return self._add(Delegation(from_user_id=from_user, to_user_id=to_user, starts_on=starts,
                                    ends_on=ends, created_at=self.created))


# --- an SMTP sink --------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: email.message.EmailMessage

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()


@dataclass
class SinkHandler:
    """aiosmtpd handler: records messages; can refuse recipients, defer, or be slow."""

    refuse: set[str] = field(default_factory=set)  # addresses answered 550
    defer_first: int = 0  # the first N DATA commands get 451
    delay: float = 0.0  # seconds before answering DATA
    received: list[Received] = field(default_factory=list)
    sessions: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.lock:
            self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 <%s>: 收件人不存在 (user unknown)" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        with self.lock:
            if self.defer_first > 0:
                self.defer_first -= 1
                return "451 4.3.0 请稍后再试 (try again later)"
            msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 2.0.0 OK queued"


class SmtpSink:
    """A real aiosmtpd server on 127.0.0.1:port, started and stopped by the test."""

    def __init__(self, port: int | None = None, **handler_options):
        from aiosmtpd.controller import Controller

        self.port = port or free_port()
        self.handler = SinkHandler(**handler_options)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> "SmtpSink":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        return self.handler.received


def wait_for(predicate, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return False
