"""`duban demo`: the seed plan (广州市司法局 2021) walked through its year.

Follows ../shared/SCENARIO.md: import and distribution in July, acknowledgement in
August, quarterly submissions, a send-back loop, a delay request, reminders on China's
working-day calendar, and the state of every assignment at year end. Everything goes
through the services (workflow/*/service.py) the CLI calls, on a SQLite file in a folder
of its own; the mails land as .eml files in that folder. The demo never prints: it
tells its story to a Narrator the front end gives it (commands/demo.py prints it).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from workflow.clock import Clock
from workflow.context import Context

if TYPE_CHECKING:
    from workflow.ledger.compute import Ledger


class Narrator(Protocol):
    """How the demo tells its year: one line at a time, and a ledger's totals."""

    def line(self, text: str) -> None: ...

    def totals(self, ledger: "Ledger") -> None: ...


@dataclass
class DemoContext(Context):
    """The replay's Context: a trusted library caller on its own database, with a narrator."""

    narrator: Any = None


App = DemoContext  # the steps' name for it

# The demo's real inputs (examples/ of the repository, linked here as workflow/demo/data so
# that a wheel carries them as package data and `duban demo` works from any directory).
EXAMPLES = Path(__file__).parent / "data"

USERS = [  # name, department, roles
    ("李敏", "局政务公开办", ["reviewer"]),
    ("王芳", "局政务公开办", ["reviewer"]),
    ("黄伟", "办公室", ["head"]),
    ("陈刚", "装财处", ["head"]),
    ("张伟", "装财处", ["staff"]),
    ("林峰", "科监处", ["head"]),
    ("刘洋", "科监处", ["staff"]),
    ("周局长", None, ["supervisor"]),
    ("管理员", None, ["admin"]),
]
STAFF_OF = {"局政务公开办": "李敏", "办公室": "黄伟", "装财处": "张伟", "科监处": "刘洋"}


def write_tokens(app: App, folder: Path) -> Path:
    """Give each named demo user a token, one file each (0600 in a 0700 folder).

    So the reader can go on with the demo database as any of them:
    `DUBAN_TOKEN=$(cat demo/tokens/李敏) duban --db demo/duban.db task list`.
    """
    import os

    from sqlmodel import select

    from db.models import User
    from workflow.access.tokens import issue_token

    target = folder / "tokens"
    target.mkdir(mode=0o700, exist_ok=True)
    with app.session() as s:
        for name, _dept, _roles in USERS:
            token = issue_token(s, s.exec(select(User).where(User.name == name)).one())
            fd = os.open(target / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(token + "\n")
    return target


def at(app: App, day: str, user: str | None = None) -> App:
    """The same App on another simulated day, acting as `user`."""
    return replace(app, clock=Clock(dt.date.fromisoformat(day)), actor_name=user,
                   _engine=app._engine, _config=app._config)


def say(app: App, day: str, text: str) -> None:
    app.narrator.line(f"{day}  {text}")


def quarter_ledger(app: App, quarter: str) -> "Ledger":
    """What the office looks at after a quarter ends: the ledger's totals as of its last day."""
    from workflow.ledger.service import LedgerQuery, build

    ledger = build(app, LedgerQuery(quarter=quarter))
    app.narrator.line("")
    app.narrator.totals(ledger)
    return ledger


def year_end(app: App, folder: Path) -> list[Path]:
    """The Q4 ledger on screen; the ledgers and the annual-report section as files."""
    from workflow.ledger.service import LedgerQuery, build
    from workflow.reports import atomic_path, write_ledger
    from workflow.reports.annual import render_annual

    q4 = quarter_ledger(app, "2021Q4")
    files = []
    q3 = build(app, LedgerQuery(quarter="2021Q3"))
    for ledger, name, fmt in ((q3, "台账-2021Q3.xlsx", "xlsx"), (q4, "台账-2021Q4.xlsx", "xlsx"),
                              (q4, "台账-2021Q4.html", "html")):
        write_ledger(ledger, fmt, folder / name, "task")
        files.append(folder / name)
    for fmt in ("docx", "md"):
        path = folder / f"年度报告-政务公开工作要点落实情况.{fmt}"
        data = render_annual(q4, fmt)
        with atomic_path(path) as part:
            part.write_bytes(data) if isinstance(data, bytes) else part.write_text(data, encoding="utf-8")
        files.append(path)
    return files
