"""Run functions for the commands that move assignments (task/review/delay).

Each takes the App (database, clock, acting user, streams) and plain arguments, so
tests call them directly; cli.py only parses options and calls these.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import select

import states
from db.models import Assignment, User
from workflow.context import App
from workflow.lifecycle.attachments import Referenced, staged
from commands.common import print_json
from workflow.directory.store import find_department
from workflow.lifecycle.engine import Fields, FireResult, fire
from workflow.lifecycle.notify import Notifier
from workflow.errors import NotFound, NotPermitted, Refused, shown
from workflow.lifecycle.queries import attachment_in_use, show_assignment


def _principal(session, name: str | None) -> User | None:
    if not name:
        return None
    user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if user is None or not user.active:  # a revoked user's delegations stop with them
        raise NotFound(f"被代办人“{name}”不存在或已停用;可用 duban user list 查看。")
    return user


def notifier(app: App) -> Notifier:
    """Renders with the office's own templates where the config names a folder."""
    config = app.config()
    return Notifier(config.templates_dir, base_url=config.web.base_url, link_days=config.web.link_days)


def data_dir(app: App) -> Path:
    return Path(os.environ.get("DUBAN_DATA") or "duban-files")


def _referenced(app: App) -> Referenced:
    """For a refused command's cleanup: does a committed record use this stored file? Asked in
    a session of its own, after the command's transaction has rolled back."""
    def referenced(stored_path: str) -> bool:
        with app.session() as session:
            return attachment_in_use(session, stored_path)
    return referenced


def transition(app: App, assignment_id: int, trigger: str, fields: Fields | None = None,
               on_behalf: str | None = None, attach: list[Path] | None = None,
               as_json: bool = False, before_write: Callable[[], None] | None = None) -> FireResult:
    """Fire one trigger as the acting user and report the move.

    `before_write` is handed to fire(): tests pause a command inside its transaction with it."""
    fields = fields or Fields()
    store_dir = data_dir(app) / "attachments"
    with staged(attach or [], store_dir, _referenced(app)) as stored:
        fields.attachments = stored
        with app.session() as session:
            actor = app.actor(session)
            result = fire(session, assignment_id, trigger, actor, clock=app.clock, fields=fields,
                          on_behalf_of=_principal(session, on_behalf), notifier=notifier(app),
                          before_write=before_write)
    with app.session() as session:
        if as_json:
            print_json(app, show_assignment(session, assignment_id, app.clock.today()))
    app.say(f"事项 {assignment_id}:{states.trigger_label(trigger)}成功,"
            f"{states.state_label(result.from_state)} → {states.state_label(result.to_state)}。")
    return result


@dataclass
class BulkReport:
    approved: list[int]
    skipped: list[tuple[int, str]]


def approve_all(app: App, department: str | None = None, comment: str | None = None,
                as_json: bool = False) -> BulkReport:
    """Approve every submitted assignment the reviewer may approve, one event each."""
    report = BulkReport([], [])
    with app.session() as session:
        actor = app.actor(session)
        if "reviewer" not in actor.roles:
            raise NotPermitted(f"{actor.name}不是审核人,不能批量审核。")
        q = select(Assignment.id).where(Assignment.state == "submitted").order_by(Assignment.id)
        if department:
            dept = find_department(session, department)
            if dept is None:
                raise NotFound(f"处室“{shown(department)}”不存在;可用 duban dept list 查看。")
            q = q.where(Assignment.department_id == dept.id)
        ids = list(session.execute(q).scalars())
        mailer = notifier(app)
        for assignment_id in ids:
            try:
                fire(session, assignment_id, "approve", actor, clock=app.clock,
                     fields=Fields(comment=comment), notifier=mailer)
                report.approved.append(assignment_id)
            except Refused as exc:
                report.skipped.append((assignment_id, exc.message))
    if as_json:
        print_json(app, {"approved": report.approved,
                         "skipped": [{"id": i, "reason": r} for i, r in report.skipped]})
    else:
        print(f"已审核通过 {len(report.approved)} 项,跳过 {len(report.skipped)} 项。", file=app.out)
        for i, reason in report.skipped:
            print(f"  跳过事项 {i}:{reason}", file=app.err)
    return report


def view(app: App, assignment_id: int) -> dict[str, Any]:
    """One assignment, if the reader may see it (otherwise it "does not exist")."""
    from workflow.lifecycle.queries import visible_departments

    with app.session() as session:
        visible = visible_departments(app.viewer(session))
        return show_assignment(session, assignment_id, app.clock.today(), visible)
