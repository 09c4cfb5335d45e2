"""What task/review/delay commands share: call the lifecycle service, report the move.

Each takes the App and plain arguments, so tests call them directly; the typer commands
in commands/task.py, review.py and delay.py only parse options and call these.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import states
from commands.common import App, print_json
from workflow.lifecycle import service

if TYPE_CHECKING:  # pragma: no cover
    from workflow.lifecycle.engine import Fields, FireResult

BulkReport = service.BulkReport


def transition(app: App, assignment_id: int, trigger: str, fields: "Fields | None" = None,
               on_behalf: str | None = None, attach: list[Path] | None = None,
               as_json: bool = False, before_write: Callable[[], None] | None = None) -> "FireResult":
    """Fire one trigger as the acting user and report the move."""
    result = service.transition(app, assignment_id, trigger, fields, attach or (),
                                on_behalf=on_behalf, before_write=before_write)
    if as_json:
        print_json(app, service.show(app, assignment_id))
    app.say(f"事项 {assignment_id}：{states.trigger_label(trigger)}成功，"
            f"{states.state_label(result.from_state)} → {states.state_label(result.to_state)}。")
    return result


def approve_all(app: App, department: str | None = None, comment: str | None = None,
                as_json: bool = False) -> BulkReport:
    """Approve every submitted assignment the reviewer may approve, one event each."""
    report = service.approve_all(app, department, comment)
    if as_json:
        print_json(app, {"approved": report.approved,
                         "skipped": [{"id": i, "reason": r} for i, r in report.skipped]})
    else:
        print(f"已审核通过 {len(report.approved)} 项，跳过 {len(report.skipped)} 项。", file=app.out)
        for i, reason in report.skipped:
            print(f"  跳过事项 {i}：{reason}", file=app.err)
    return report


def view(app: App, assignment_id: int) -> dict[str, Any]:
    """One assignment, if the reader may see it (otherwise it "does not exist")."""
    return service.show(app, assignment_id)
