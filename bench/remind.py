"""Benchmark: plan_reminders() on 100,000 assignments, 5% of them due for a reminder.

Builds a SQLite database with 40 departments (3 users each), one plan of 2,500
tasks and 100,000 open assignments. 5% have a due date that triggers a reminder
on the benchmark day (2021-11-30: due today, 1 and 5 working days before, the
1st/4th/7th working day overdue, escalation); the rest are due on dates that
trigger nothing that day. Times `plan_reminders` against a raw SQL count of the
due rows (target ≤ 10×) and against a raw sqlite3 fetch of those rows with the
fields a mail shows, and prints the peak memory of the planning (tracemalloc;
target < 300 MB) and the process's max RSS.

Run: .venv/bin/python bench/remind.py [--n 100000]
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from db.engine import make_engine  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Assignment, Department, Plan, Task, User  # noqa: E402
from workflow.calendar import WorkCalendar  # noqa: E402
from workflow.config import RemindPolicy  # noqa: E402
from workflow.reminders import CHASED_STATES, plan_reminders  # noqa: E402

TODAY = dt.date(2021, 11, 30)
DEPTS = 40
ROLES = ("lead", "cooperate")


def trigger_dates(calendar: WorkCalendar) -> list[dt.date]:
    """Due dates that produce a reminder on TODAY with the default policy."""
    return [TODAY, calendar.add_workdays(TODAY, 1), calendar.add_workdays(TODAY, 5),
            calendar.add_workdays(TODAY, -1), calendar.add_workdays(TODAY, -4),
            calendar.add_workdays(TODAY, -5), calendar.add_workdays(TODAY, -7)]


def quiet_dates(calendar: WorkCalendar, due: set[dt.date]) -> list[dt.date]:
    """Open due dates that trigger nothing on TODAY (checked by the caller's count)."""
    out, day = [], dt.date(2021, 6, 1)
    while day <= dt.date(2022, 6, 30):
        if day not in due and calendar.is_workday(day):
            back = calendar.workdays_between(day, TODAY)  # > 0: overdue by that many
            ahead = calendar.workdays_between(TODAY, day)
            overdue_hit = back >= 1 and ((back - 1) % 3 == 0 or (back >= 5 and (back - 5) % 3 == 0))
            if not overdue_hit and ahead not in (0, 1, 5) and day != TODAY:
                out.append(day)
        day += dt.timedelta(days=1)
    return out


def build(engine, n: int, calendar: WorkCalendar) -> list[dt.date]:
    now = dt.datetime(2021, 7, 20, 9)
    with engine.begin() as conn:
        conn.execute(insert(Department.__table__), [
            {"name": f"处室{i}", "aliases": [], "email": f"d{i}@example.gov.cn", "kind": "business"}
            for i in range(DEPTS)])
        conn.execute(insert(User.__table__), [
            {"name": f"用户{d}-{k}", "email": f"u{d}-{k}@example.gov.cn", "department_id": d + 1,
             "roles": ["staff", "head"] if k == 0 else ["staff"], "active": True, "created_at": now}
            for d in range(DEPTS) for k in range(3)])
        conn.execute(insert(User.__table__), [{"name": "督查", "email": "sup@example.gov.cn",
                                               "roles": ["supervisor"], "active": True,
                                               "created_at": now}])
        conn.execute(insert(Plan.__table__), [{"title": "2021年政务公开工作要点分工方案", "year": 2021,
                                               "source": {}, "created_at": now}])
        tasks = n // (DEPTS * len(ROLES)) + 1
        conn.execute(insert(Task.__table__), [
            {"plan_id": 1, "seq": s + 1, "requirement": f"第{s + 1}项任务的具体要求" * 3,
             "ongoing": False, "responsibilities": []} for s in range(tasks)])
        due = trigger_dates(calendar)
        quiet = quiet_dates(calendar, set(due))
        rnd = random.Random(7)
        rows = []
        for i in range(n):
            task, rest = divmod(i, DEPTS * len(ROLES))
            dept, role = divmod(rest, len(ROLES))
            hot = rnd.random() < 0.05
            rows.append({"plan_id": 1, "task_id": task + 1, "department_id": dept + 1,
                         "role": ROLES[role], "period": "", "state": rnd.choice(CHASED_STATES),
                         "due_date": rnd.choice(due) if hot else rnd.choice(quiet),
                         "created_at": now, "updated_at": now, "version": 1})
        for start in range(0, n, 10_000):
            conn.execute(insert(Assignment.__table__), rows[start:start + 10_000])
    return due


def count_due(engine, due: list[dt.date]) -> tuple[float, int]:
    states = ", ".join(f"'{s}'" for s in CHASED_STATES)
    dates = ", ".join(f"'{d.isoformat()}'" for d in due)
    sql = text(f"SELECT count(*) FROM assignment WHERE state IN ({states}) AND due_date IN ({dates})")
    with engine.connect() as conn:
        conn.execute(sql).scalar()  # warm the page cache like the timed runs below
        start = time.perf_counter()
        for _ in range(5):
            count = conn.execute(sql).scalar()
        return (time.perf_counter() - start) / 5, count


def fetch_due(engine, due: list[dt.date]) -> float:
    """The floor any implementation pays: fetch the due rows with what a mail shows."""
    states = ", ".join(f"'{s}'" for s in CHASED_STATES)
    dates = ", ".join(f"'{d.isoformat()}'" for d in due)
    sql = ("SELECT a.id, a.department_id, a.role, a.period, a.due_date, t.seq, t.requirement, "
           "p.title, d.name FROM assignment a JOIN task t ON t.id = a.task_id "
           "JOIN plan p ON p.id = a.plan_id JOIN department d ON d.id = a.department_id "
           f"WHERE a.state IN ({states}) AND a.due_date IN ({dates})")
    with engine.connect() as conn:
        conn.exec_driver_sql(sql).fetchall()
        start = time.perf_counter()
        for _ in range(5):
            conn.exec_driver_sql(sql).fetchall()
        return (time.perf_counter() - start) / 5


def time_plan(engine, calendar: WorkCalendar) -> tuple[float, int, int]:
    policy = RemindPolicy()
    best, digests = float("inf"), []
    for _ in range(3):
        with Session(engine) as session:
            start = time.perf_counter()
            digests = plan_reminders(session, TODAY, policy, calendar)
            best = min(best, time.perf_counter() - start)
    return best, len(digests), sum(len(d.items) for d in digests)


def peak_memory(engine, calendar: WorkCalendar) -> int:
    tracemalloc.start()
    with Session(engine) as session:
        plan_reminders(session, TODAY, RemindPolicy(), calendar)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    calendar = WorkCalendar()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db", synchronous="OFF")
        upgrade(engine)
        start = time.perf_counter()
        due = build(engine, args.n, calendar)
        print(f"built {args.n} assignments in {time.perf_counter() - start:.1f} s")
        raw, count = count_due(engine, due)
        fetch = fetch_due(engine, due)
        took, digests, items = time_plan(engine, calendar)
        peak = peak_memory(engine, calendar)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"due rows (raw SQL count): {count} ({count / args.n:.1%}) in {raw * 1000:.1f} ms")
    print(f"plan_reminders: {took * 1000:.1f} ms → {digests} digests, {items} digest entries")
    print(f"raw sqlite3 fetch of those rows with task/plan/department: {fetch * 1000:.1f} ms")
    print(f"ratio to the raw count: {took / raw:.1f}x (target <= 10x); "
          f"to the raw fetch: {took / fetch:.1f}x")
    print(f"peak memory of plan_reminders (tracemalloc): {peak / 2**20:.1f} MB (target < 300 MB); "
          f"process max RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
