"""Scale: a city-wide deployment on SQLite and PostgreSQL (issue 7, item 4).

60 departments (3 staff each), 40 plans, 100,000 assignments and about 500,000
events (distribution, acknowledgement, submissions, send-backs, approvals, delay
requests and decisions spread over 2021). Then, on the day 2021-11-30, through
the same functions the CLI's run functions call:

- `task list` for one department, and `task list --overdue` for the whole city;
- `review list` (the office's queue);
- `remind run` (planning and enqueueing every digest, in a transaction that is
  rolled back so each backend gets the same work);
- `ledger` of the largest plan as of 2021Q3, and of every plan.

Prints each time and the peak memory (tracemalloc) per backend. PostgreSQL is
measured when DUBAN_BENCH_PG (default: postgresql+psycopg://postgres@127.0.0.1:5432/test)
answers; the benchmark works in a schema of its own and drops it afterwards.

Run: .venv/bin/python bench/scale.py [--n 100000] [--sqlite-only]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import insert, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from _report import result  # noqa: E402
from db.engine import make_engine  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Assignment, Department, Event, Plan, Task, User  # noqa: E402
from ledger import _histories  # noqa: E402  (bench/ledger.py: the same event shapes)

TODAY = dt.date(2021, 11, 30)
DEPTS, PLANS = 60, 40
START = dt.datetime(2021, 7, 20, 9)
PG_URL = os.environ.get("DUBAN_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _extra(rnd: random.Random, steps: list, due: dt.date) -> list:
    """One more event on about a quarter of the histories (a reopen and a new submission),
    bringing the average to five events per assignment."""
    if steps[-1][0] == "approve" and rnd.random() < 0.5:
        day = steps[-1][3] + 3
        steps += [("reopen", "done", "in_progress", day, {}),
                  ("submit", "in_progress", "submitted", day + 5, {"summary": "已补充更新", "attachments": []})]
    elif steps[-1][0] == "send_back":
        steps.append(("submit", "returned", "submitted", steps[-1][3] + 4, {"summary": "已修改", "attachments": []}))
    return steps


def build(engine, n: int) -> int:
    rnd = random.Random(5)
    with engine.begin() as conn:
        conn.execute(insert(Department.__table__), [
            {"name": f"处室{i:02d}", "aliases": [], "email": f"d{i}@example.gov.cn",
             "kind": "office" if i == 0 else "business"} for i in range(DEPTS)])
        conn.execute(insert(User.__table__), [
            {"name": f"用户{d}-{k}", "email": f"u{d}-{k}@example.gov.cn", "department_id": d + 1,
             "roles": (["reviewer"] if d == 0 else ["staff", "head"] if k == 0 else ["staff"]),
             "active": True, "created_at": START} for d in range(DEPTS) for k in range(3)])
        conn.execute(insert(User.__table__), [{"name": "督查", "email": "sup@example.gov.cn",
                                               "roles": ["supervisor"], "active": True, "created_at": START}])
        conn.execute(insert(Plan.__table__), [
            {"title": f"2021年第{p + 1}号分工方案", "year": 2021, "source": {}, "created_at": START,
             "published_at": START} for p in range(PLANS)])
        per_plan_tasks = n // (PLANS * DEPTS) + 1
        conn.execute(insert(Task.__table__), [
            {"plan_id": p + 1, "seq": s + 1, "chapter": f"第{s % 6 + 1}章",
             "requirement": f"第{s + 1}项任务的具体要求" * 3, "ongoing": False, "responsibilities": []}
            for p in range(PLANS) for s in range(per_plan_tasks)])
        events = 0
        for start in range(0, n, 10_000):
            assignments, log = [], []
            for i in range(start, min(n, start + 10_000)):
                plan = i % PLANS
                seq = (i // PLANS) // DEPTS
                due = dt.date(2021, 8, 31) + dt.timedelta(days=30 * rnd.randint(0, 4))
                history = _extra(rnd, _histories(rnd, due), due)
                final_due = due
                for h in history:
                    if h[0] == "approve_delay":
                        final_due = dt.date.fromisoformat(h[4]["new_due"])
                assignments.append({"id": i + 1, "plan_id": plan + 1, "task_id": plan * per_plan_tasks + seq + 1,
                                    "department_id": (i // PLANS) % DEPTS + 1, "role": "lead", "period": "",
                                    "state": history[-1][2], "due_date": final_due, "created_at": START,
                                    "updated_at": START + dt.timedelta(days=history[-1][3]),
                                    "version": len(history)})
                for trigger, src, dest, offset, data in history:
                    log.append({"assignment_id": i + 1, "plan_id": plan + 1, "trigger": trigger, "from_state": src,
                                "to_state": dest, "actor_id": 1, "data": data,
                                "at": START + dt.timedelta(days=offset), "recorded_at": START})
            conn.execute(insert(Assignment.__table__), assignments)
            conn.execute(insert(Event.__table__), log)
            events += len(log)
    return events


def measure(label: str, fn) -> tuple[float, float, object]:
    """Wall time of one run, then the peak memory of a second, traced run."""
    start = time.perf_counter()
    out = fn()
    took = time.perf_counter() - start
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return took, peak, out


def operations(engine) -> list[tuple[str, object]]:
    from workflow.calendar import WorkCalendar
    from workflow.config import Config
    from workflow.ledger.compute import compute_ledger
    from workflow.lifecycle.queries import list_assignments, review_queue
    from workflow.reminders.sweep import run_reminders

    def in_session(fn):
        def run():
            with Session(engine) as s:
                return fn(s)
        return run

    def remind(s):
        config = Config()
        report = run_reminders(s, TODAY, config.remind, WorkCalendar(), config)
        s.rollback()  # leave the database as it was, so the next measurement does the same work
        return f"{report.enqueued} digests"

    def all_ledgers(s):
        return sum(len(compute_ledger(s, p, dt.date(2021, 9, 30)).rows) for p in range(1, PLANS + 1))

    return [
        ("task list --dept 处室07", in_session(lambda s: f"{len(list_assignments(s, TODAY, department_id=8))} rows")),
        ("task list --overdue (all)", in_session(lambda s: f"{len(list_assignments(s, TODAY, overdue=True))} rows")),
        ("review list", in_session(lambda s: f"{len(review_queue(s, TODAY))} rows")),
        ("remind run (rolled back)", in_session(remind)),
        ("ledger of one plan, 2021Q3", in_session(lambda s: f"{len(compute_ledger(s, 1, dt.date(2021, 9, 30)).rows)} rows")),
        ("ledger of all 40 plans, 2021Q3", in_session(lambda s: f"{all_ledgers(s)} rows")),
    ]


def run_backend(name: str, url: str, n: int) -> None:
    engine = make_engine(url, **({"synchronous": "OFF"} if url.startswith("sqlite") else {}))
    upgrade(engine)
    start = time.perf_counter()
    events = build(engine, n)
    print(f"[{name}] built {n:,} assignments, {events:,} events, {PLANS} plans, {DEPTS} departments "
          f"in {time.perf_counter() - start:.0f} s")
    for label, fn in operations(engine):
        took, peak, out = measure(label, fn)
        print(f"[{name}] {label:32s} {took * 1000:8.0f} ms  peak {peak:6.1f} MB  ({out})")
        result(f"{name}: {label} ({n:,} assignments, {events:,} events)", took * 1000, "ms",
               note=f"peak {peak:.1f} MB")
    engine.dispose()


def pg_schema_url() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3) as c:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            c.execute(f"CREATE SCHEMA {schema}")
        return schema
    except Exception as exc:  # noqa: BLE001 - no server: say so and measure SQLite only
        print(f"PostgreSQL not measured: {exc}")
        return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_backend("sqlite", f"sqlite:///{tmp}/scale.db", args.n)
    schema = None if args.sqlite_only else pg_schema_url()
    if schema:
        import psycopg

        try:
            run_backend("postgresql", f"{PG_URL}?options=-csearch_path%3D{schema}", args.n)
        finally:
            with psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as c:
                c.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
