"""The traffic light (红黄绿灯) of an assignment on a day: the one rule every view uses.

Red: past its due date. Yellow: due within the warning window, counted in working days
of the configured calendar (chinese_calendar with 调休, plus duban.toml [calendar]).
Green: further off. No light once the state is closed (states/: State.final).

`task list`, `task show`, `review list`, the ledger (terminal, csv, xlsx, html, md, json),
the reminders and their mails, and the .ics export all take their light from here, so
they agree on every item on every day.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import states

if TYPE_CHECKING:  # pragma: no cover
    from workflow.calendar import WorkCalendar

RED, YELLOW, GREEN, NONE = "red", "yellow", "green", ""
ORDER: dict[str, int] = {RED: 0, YELLOW: 1, GREEN: 2, NONE: 3}  # most urgent first
LABELS: dict[str, str] = {RED: "逾期", YELLOW: "临期", GREEN: "正常", NONE: "—"}
ICONS: dict[str, str] = {RED: "🔴", YELLOW: "🟡", GREEN: "🟢", NONE: ""}
DEFAULT_WINDOW = 5  # working days; duban.toml [remind] warn_window


class Lights:
    """`lights(state, due, today)` → "red" | "yellow" | "green" | "" (closed)."""

    def __init__(self, window: int = DEFAULT_WINDOW,
                 workdays_between: Callable[[dt.date, dt.date], int] | None = None):
        self.window = window
        self._workdays_between = workdays_between
        self._far: dict[tuple[dt.date, dt.date], str] = {}  # (due, today) → light, past the window

    def workdays_between(self, a: dt.date, b: dt.date) -> int:
        if self._workdays_between is None:
            from workflow.calendar import workdays_between

            self._workdays_between = workdays_between
        return self._workdays_between(a, b)

    def __call__(self, state: str, due: dt.date, today: dt.date) -> str:
        if states.is_closed(state):
            return NONE
        return self.of_due(due, today)

    def of_due(self, due: dt.date, today: dt.date) -> str:
        """The light of an open item due on `due`."""
        if due < today:
            return RED
        if (due - today).days <= self.window:  # working days ≤ calendar days: no need to count
            return YELLOW
        # Counting working days walks the calendar; a ledger asks for the same few hundred
        # due dates 100,000 times, so each (due, today) is counted once.
        key = (due, today)
        found = self._far.get(key)
        if found is None:
            found = self._far[key] = YELLOW if self.workdays_between(today, due) <= self.window else GREEN
        return found


def from_calendar(window: int, calendar: "WorkCalendar") -> Lights:
    return Lights(window, calendar.workdays_between)


def from_config(config: Any) -> Lights:
    """The lights of a loaded Config: its [remind] warn_window on its [calendar]."""
    from workflow.calendar import calendar_from_config

    return from_calendar(config.remind.warn_window, calendar_from_config(config.calendar))


def lights_for(ctx: Any) -> Lights:
    """The lights of a Context's configuration. A listing reads only [remind] and [calendar]
    (config.load_policy), so it never builds the mail settings."""
    if ctx._config is not None:
        return from_config(ctx._config)
    from workflow.calendar import calendar_from_config
    from workflow.config import load_policy

    remind, calendar = load_policy(ctx.config_path)
    return from_calendar(remind.warn_window, calendar_from_config(calendar))


def label(light: str) -> str:
    return LABELS.get(light or NONE, "—")


def icon_label(light: str) -> str:
    """"🔴逾期", … for terminals; "—" for a closed item."""
    return f"{ICONS[light]}{LABELS[light]}" if light else LABELS[NONE]
