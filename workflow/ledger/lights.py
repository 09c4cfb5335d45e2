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
        self._yellow_until: dict[dt.date, dt.date] = {}

    def workdays_between(self, a: dt.date, b: dt.date) -> int:
        if self._workdays_between is None:
            from workflow.calendar import workdays_between

            self._workdays_between = workdays_between
        return self._workdays_between(a, b)

    def __call__(self, state: str, due: dt.date, today: dt.date) -> str:
        if states.is_closed(state):
            return NONE
        return self.of_due(due, today)

    def days_late(self, due: dt.date, day: dt.date) -> int:
        """逾期工作日: working days past `due` on `day` (0 when not past). The one unit of
        lateness: the ledger (every format), the annual report, the .ics and the reminder
        mails ("已逾期 3 个工作日") all count this way."""
        return self.workdays_between(due, day) if day > due else 0

    def of_due(self, due: dt.date, today: dt.date) -> str:
        """The light of an open item due on `due`."""
        if due < today:
            return RED
        return YELLOW if due <= self.yellow_until(today) else GREEN

    def yellow_until(self, today: dt.date) -> dt.date:
        """The last due date that is yellow today: at most `window` working days off. The
        working days to a date grow with the date, so the yellow ones are today up to this
        day (the 首页 counts lights in SQL with it); kept per day."""
        last = self._yellow_until.get(today)
        if last is None:
            last = today + dt.timedelta(days=self.window)  # working days ≤ calendar days
            while self.workdays_between(today, last + dt.timedelta(days=1)) <= self.window:
                last += dt.timedelta(days=1)
            self._yellow_until[today] = last
        return last


LATE_HEADER = "逾期工作日"  # the column header wherever days_late is shown


def days_late(due: dt.date, day: dt.date, lights: "Lights | None" = None) -> int:
    """Lights.days_late on the given lights' calendar (default: the legal calendar)."""
    return (lights or _DEFAULT).days_late(due, day)


_DEFAULT = Lights()


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
