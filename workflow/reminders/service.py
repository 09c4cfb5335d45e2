"""Reminder services: one sweep of a day (the reminders cron or the daemon runs)."""
from __future__ import annotations

import contextlib
import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from workflow.context import Context
    from workflow.reminders.sweep import RemindReport


def run(ctx: "Context", day: dt.date | None = None, *, dry_run: bool = False) -> "RemindReport":
    """Enqueue the day's reminder digests (none on a rest day); `dry_run` writes nothing.
    The calendar's fallback notices are in the report's `warnings`."""
    from workflow.calendar import calendar_from_config
    from workflow.reminders.lock import sweep_lock
    from workflow.reminders.sweep import run_reminders

    config = ctx.config()
    calendar = calendar_from_config(config.calendar)
    # A dry run writes nothing, so it needs no lock; a real sweep waits for any other
    # sweep to commit, then sees its reminder_log rows and sends only what is new.
    lock = contextlib.nullcontext() if dry_run else sweep_lock(ctx.engine())
    with lock, ctx.session() as session:
        report = run_reminders(session, day or ctx.clock.today(), config.remind, calendar, config,
                               dry_run=dry_run)
        if not dry_run:
            session.commit()
    return report
