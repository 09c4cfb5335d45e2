"""Working days on China's official calendar, with 调休.

Deadlines and reminders count working days the way the office does: weekends
are off except the 调休 Saturdays/Sundays, and public holidays are off even on
weekdays. chinese_calendar knows this for 2004–2026; for other years (plans for
2027 are written before the State Council publishes its holidays) we fall back
to Monday–Friday plus the holidays and 调休 working days listed in duban.toml
([calendar]), and say so once per process.

Configured holidays/workdays override chinese_calendar in every year, so an
office can also record a local closure.

Every answer is cached per date: reminders ask the same few hundred dates again
and again over 100,000 assignments.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import chinese_calendar

_ONE = dt.timedelta(days=1)
_WARNED_YEARS: set[int] = set()  # per process: the fallback is announced once per year
_CACHES: dict[tuple[frozenset, frozenset], dict[dt.date, bool]] = {}


class WorkCalendar:
    """Working-day arithmetic. `warnings` collects the fallback notices for the caller."""

    def __init__(self, holidays: Iterable[dt.date] = (), workdays: Iterable[dt.date] = (),
                 on_warning: Callable[[str], None] | None = None):
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        self.on_warning = on_warning
        self.warnings: list[str] = []
        # shared by every calendar of the same holidays and workdays: a service builds one
        # per call, and the answers for a date never change within a process
        self._cache: dict[dt.date, bool] = _CACHES.setdefault((self.holidays, self.workdays), {})

    def is_workday(self, day: dt.date) -> bool:
        cached = self._cache.get(day)
        if cached is None:
            cached = self._cache[day] = self._compute(day)
        return cached

    def _compute(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            self._warn_fallback(day.year)
            return day.weekday() < 5

    def _warn_fallback(self, year: int) -> None:
        if year in _WARNED_YEARS:
            return
        _WARNED_YEARS.add(year)
        line = (f"{year} 年不在 chinese_calendar 的数据范围内：工作日按周一至周五计算，"
                "并扣除 duban.toml [calendar] 中配置的节假日、加上调休上班日。")
        self.warnings.append(line)
        if self.on_warning:
            self.on_warning(line)

    def next_workday(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`."""
        day += _ONE
        while not self.is_workday(day):
            day += _ONE
        return day

    def previous_workday(self, day: dt.date) -> dt.date:
        """The last working day strictly before `day`."""
        day -= _ONE
        while not self.is_workday(day):
            day -= _ONE
        return day

    def on_or_before(self, day: dt.date) -> dt.date:
        """`day` if it is a working day, else the last working day before it.

        A deadline on a Saturday is, for the office, due on the Friday before.
        """
        return day if self.is_workday(day) else self.previous_workday(day)

    def add_workdays(self, day: dt.date, n: int) -> dt.date:
        """Move n working days forward (n < 0: backward); n = 0 returns `day`."""
        step = self.next_workday if n > 0 else self.previous_workday
        for _ in range(abs(n)):
            day = step(day)
        return day

    def workdays_between(self, a: dt.date, b: dt.date) -> int:
        """Working days in (a, b]; negative when b < a. workdays_between(d, d) == 0.

        So a deadline d is "n working days overdue" on day t when
        workdays_between(d, t) == n, and t is "n working days before" d when
        workdays_between(t, d) == n.
        """
        if b < a:
            return -self.workdays_between(b, a)
        count = 0
        day = a + _ONE
        while day <= b:
            count += self.is_workday(day)
            day += _ONE
        return count


_DEFAULT = WorkCalendar()


def calendar_from_config(calendar_config, on_warning: Callable[[str], None] | None = None) -> WorkCalendar:
    """A WorkCalendar with the [calendar] holidays and 调休 workdays of duban.toml."""
    return WorkCalendar(calendar_config.holidays, calendar_config.workdays, on_warning)


def is_workday(day: dt.date) -> bool:
    return _DEFAULT.is_workday(day)


def next_workday(day: dt.date) -> dt.date:
    return _DEFAULT.next_workday(day)


def previous_workday(day: dt.date) -> dt.date:
    return _DEFAULT.previous_workday(day)


def add_workdays(day: dt.date, n: int) -> dt.date:
    return _DEFAULT.add_workdays(day, n)


def workdays_between(a: dt.date, b: dt.date) -> int:
    return _DEFAULT.workdays_between(a, b)


def _reset_fallback_warnings() -> None:
    """For tests: forget which years were announced."""
    _WARNED_YEARS.clear()
