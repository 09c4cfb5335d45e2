"""Working days on China's calendar with 调休 (SCENARIO 2021), and the fallback for 2027."""
import datetime as dt

import pytest

from workflow import calendar as cal_module
from workflow.calendar import WorkCalendar

D = dt.date


@pytest.fixture
def cal():
    return WorkCalendar()


@pytest.mark.parametrize("day, expected", [
    (D(2021, 9, 17), True),    # Fri
    (D(2021, 9, 18), True),    # Sat, 调休 for 中秋
    (D(2021, 9, 19), False),   # 中秋
    (D(2021, 9, 20), False),
    (D(2021, 9, 21), False),
    (D(2021, 9, 22), True),
    (D(2021, 9, 25), False),   # ordinary Saturday
    (D(2021, 9, 26), True),    # Sun, 调休 for 国庆
    (D(2021, 10, 1), False),
    (D(2021, 10, 4), False),   # a Monday inside 国庆
    (D(2021, 10, 7), False),
    (D(2021, 10, 8), True),
    (D(2021, 10, 9), True),    # Sat, 调休
    (D(2021, 10, 10), False),
    (D(2021, 7, 31), False),   # the distribution deadline, a Saturday
])
def test_scenario_days(cal, day, expected):
    assert cal.is_workday(day) is expected


def test_counting_across_the_holidays(cal):
    # 09-24 is 5 working days before 09-30, counting the working Sunday 09-26.
    assert cal.workdays_between(D(2021, 9, 24), D(2021, 9, 30)) == 5
    assert cal.add_workdays(D(2021, 9, 24), 5) == D(2021, 9, 30)
    assert cal.add_workdays(D(2021, 9, 30), -5) == D(2021, 9, 24)
    # The first working day after 09-30 is 10-08; 10-09 (Sat) is the second.
    assert cal.next_workday(D(2021, 9, 30)) == D(2021, 10, 8)
    assert cal.add_workdays(D(2021, 9, 30), 2) == D(2021, 10, 9)
    assert cal.workdays_between(D(2021, 9, 30), D(2021, 10, 7)) == 0
    assert cal.workdays_between(D(2021, 9, 30), D(2021, 10, 12)) == 4
    # Mid-Autumn: 09-17 → 09-22 is one working day.
    assert cal.next_workday(D(2021, 9, 18)) == D(2021, 9, 22)
    assert cal.previous_workday(D(2021, 9, 22)) == D(2021, 9, 18)
    # A Saturday deadline is handled on the Friday before.
    assert cal.on_or_before(D(2021, 7, 31)) == D(2021, 7, 30)
    assert cal.on_or_before(D(2021, 7, 30)) == D(2021, 7, 30)
    # 11-23 is 5 working days before 11-30.
    assert cal.add_workdays(D(2021, 11, 23), 5) == D(2021, 11, 30)


def test_between_is_antisymmetric_and_zero_on_same_day(cal):
    a, b = D(2021, 9, 1), D(2021, 10, 31)
    assert cal.workdays_between(a, a) == 0
    assert cal.workdays_between(b, a) == -cal.workdays_between(a, b)
    assert cal.add_workdays(a, 0) == a


def test_module_functions_use_the_official_calendar():
    assert cal_module.is_workday(D(2021, 10, 9))
    assert cal_module.add_workdays(D(2021, 9, 30), 1) == D(2021, 10, 8)
    assert cal_module.previous_workday(D(2021, 10, 8)) == D(2021, 9, 30)
    assert cal_module.next_workday(D(2021, 7, 30)) == D(2021, 8, 2)
    assert cal_module.workdays_between(D(2021, 7, 31), D(2021, 8, 2)) == 1


def test_2027_falls_back_to_weekdays_and_config_and_warns_once():
    cal_module._reset_fallback_warnings()
    seen = []
    cal = WorkCalendar(holidays=[D(2027, 10, 1), D(2027, 10, 4)], workdays=[D(2027, 9, 26)],
                       on_warning=seen.append)
    assert cal.is_workday(D(2027, 9, 27))       # Monday
    assert not cal.is_workday(D(2027, 9, 25))   # Saturday
    assert cal.is_workday(D(2027, 9, 26))       # configured 调休 Sunday
    assert not cal.is_workday(D(2027, 10, 1))   # configured holiday
    assert not cal.is_workday(D(2027, 10, 4))
    assert cal.add_workdays(D(2027, 9, 30), 1) == D(2027, 10, 5)
    for n in range(365):
        cal.is_workday(D(2027, 1, 1) + dt.timedelta(days=n))
    assert len(seen) == 1 and "2027" in seen[0] and "周一至周五" in seen[0]
    assert cal.warnings == seen
    # Once per process: a second calendar does not repeat it.
    other = WorkCalendar(on_warning=seen.append)
    other.is_workday(D(2027, 3, 3))
    assert len(seen) == 1


def test_100k_calls_compute_each_date_once(cal):
    """Reminders ask the same few hundred dates again and again: each is worked out once.
    (Speed itself is measured by bench/remind.py, not asserted here.)"""
    computed: list[dt.date] = []
    cal._cache.clear()  # shared by calendars of the same configuration: start from nothing
    compute = cal._compute
    cal._compute = lambda day: computed.append(day) or compute(day)
    days = [D(2021, 1, 1) + dt.timedelta(days=n % 730) for n in range(100_000)]
    answers = [cal.is_workday(d) for d in days]
    assert sorted(computed) == sorted(set(days)) and len(computed) == 730
    assert answers[:730] == [compute(d) for d in days[:730]]
