"""The business clock: today's date, fixable with --today/DUBAN_TODAY for simulation.

Business timestamps (event.at) follow the simulated date so that a replayed year
produces the same ledgers as a lived one; the real wall clock is kept beside them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from workflow.errors import BadInput

CHINA = ZoneInfo("Asia/Shanghai")


def parse_date(value: str, what: str = "日期") -> dt.date:
    """Parse YYYY-MM-DD strictly, with a Chinese error naming the bad value."""
    text = (value or "").strip()
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{what}“{value}”无效：应为真实存在的日期，格式 YYYY-MM-DD，如 2021-11-30。") from None


@dataclass(frozen=True)
class Clock:
    """Today (China time) unless fixed; `now()` keeps the real time of day."""

    fixed_today: dt.date | None = None

    def today(self) -> dt.date:
        return self.fixed_today or dt.datetime.now(CHINA).date()

    def now(self) -> dt.datetime:
        """Naive China wall time on the business date."""
        real = dt.datetime.now(CHINA).replace(tzinfo=None)
        if self.fixed_today is None:
            return real
        return dt.datetime.combine(self.fixed_today, real.time())

    @staticmethod
    def utcnow() -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def china_iso(value: dt.datetime | None, *, utc: bool = False) -> str | None:
    """ISO 8601 with the zone written out (`2021-09-30T10:00:00+08:00`), for JSON and history.

    duban stores naive times: business times (event.at, notification.created_at) as China wall
    time, real ones (recorded_at, sent_at, next_attempt_at) as UTC (`utc=True`)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc if utc else CHINA)
    return value.astimezone(CHINA).isoformat(timespec="seconds")


def shown_time(iso: str | None) -> str:
    """A china_iso() time as a person reads it in a table: `2021-09-30 10:00:00` (every
    time duban shows is China time, so the zone says nothing to the reader)."""
    return iso[:19].replace("T", " ") if iso else ""
