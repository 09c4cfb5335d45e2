"""Benchmark: the engine's fire() against raw sqlite3 doing the same writes.

Publishes a plan of 10,000 assignments, fires `start` on every one through the
engine (guard, machine, guarded update, event, one transaction each), then does the
same guarded update + event insert with raw sqlite3 on a copy of the same database,
once with synchronous=FULL (the default) and once with NORMAL. Prints both rates and
the ratio (target: engine ≥ 0.25 × raw). Then times `review approve --all` on 10,000
submitted assignments.

Run: .venv/bin/python bench/fire.py [--n 10000]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlmodel import Session, select  # noqa: E402

from _report import result  # noqa: E402
from db.engine import make_engine  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Assignment, User  # noqa: E402
from workflow.clock import Clock  # noqa: E402
from workflow.directory import add_department, add_user  # noqa: E402
from workflow.engine import fire  # noqa: E402
from workflow.plan import plan_from_dict  # noqa: E402
from workflow.plans import store_plan  # noqa: E402
from workflow.publish import publish  # noqa: E402

DEPTS = 10
CLOCK = Clock(dt.date(2021, 8, 2))


def build(path: Path, n: int) -> None:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as s:
        add_department(s, "政务公开办", "gk@example.gov.cn", [], "office")
        add_user(s, "审核人", "r@example.gov.cn", ["reviewer"], "政务公开办", CLOCK)
        add_user(s, "审核人二", "r2@example.gov.cn", ["reviewer"], "政务公开办", CLOCK)
        for d in range(DEPTS):
            add_department(s, f"业务{d}处", f"d{d}@example.gov.cn", [], "business")
            add_user(s, f"员工{d}", f"s{d}@example.gov.cn", ["staff"], f"业务{d}处", CLOCK)
        tasks = [{"seq": i, "requirement": f"任务{i}",
                  "responsibilities": [{"department": "各业务处室", "role": "cooperate", "group": True}]}
                 for i in range(1, n // DEPTS + 1)]
        plan = store_plan(s, plan_from_dict({"title": "基准计划", "year": 2021, "due": "2021-11-30",
                                             "tasks": tasks}), CLOCK)
        publish(s, plan, s.exec(select(User).where(User.name == "审核人")).one(), CLOCK)
    engine.dispose()


def engine_run(path: Path, synchronous: str) -> tuple[int, float]:
    engine = make_engine(f"sqlite:///{path}", synchronous=synchronous)
    with Session(engine, expire_on_commit=False) as s:
        users = {u.department_id: u for u in s.exec(select(User)).all()}
        work = [(a.id, a.department_id) for a in s.exec(select(Assignment).order_by(Assignment.id)).all()]
        start = time.perf_counter()
        for aid, dept in work:
            fire(s, aid, "start", users[dept], clock=CLOCK)
        elapsed = time.perf_counter() - start
    engine.dispose()
    return len(work), elapsed


def raw_run(path: Path, synchronous: str) -> tuple[int, float]:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA foreign_keys=ON")
    con.execute(f"PRAGMA synchronous={synchronous}")
    rows = con.execute("SELECT a.id, a.plan_id, a.version, u.id FROM assignment a "
                       "JOIN app_user u ON u.department_id = a.department_id ORDER BY a.id").fetchall()
    now = dt.datetime.combine(CLOCK.today(), dt.time(9)).isoformat(" ")
    start = time.perf_counter()
    for aid, plan_id, version, user in rows:
        con.execute("BEGIN")
        cur = con.execute("UPDATE assignment SET state='in_progress', version=?, updated_at=? "
                          "WHERE id=? AND version=? AND state='assigned'", (version + 1, now, aid, version))
        assert cur.rowcount == 1
        con.execute("INSERT INTO event (assignment_id, plan_id, trigger, from_state, to_state, actor_id, "
                    "data, at, recorded_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    (aid, plan_id, "start", "assigned", "in_progress", user, json.dumps({}), now, now))
        con.execute("COMMIT")
    elapsed = time.perf_counter() - start
    con.close()
    return len(rows), elapsed


def approve_all_run(path: Path) -> tuple[int, float]:
    """Submit everything with raw SQL, then time the bulk approval through the CLI's run function."""
    import io

    from workflow.app import App
    from workflow.commands.lifecycle import approve_all

    con = sqlite3.connect(path, isolation_level=None)
    con.execute("UPDATE assignment SET state='submitted', submitted_by_id=(SELECT id FROM app_user u "
                "WHERE u.department_id = assignment.department_id)")
    con.close()
    app = App(db_url=f"sqlite:///{path}", actor_name="审核人", clock=CLOCK, out=io.StringIO(), err=io.StringIO())
    start = time.perf_counter()
    report = approve_all(app)
    return len(report.approved), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base.db"
        t0 = time.perf_counter()
        build(base, args.n)
        print(f"publish: {args.n} assignments in {time.perf_counter() - t0:.1f} s")
        for sync in ("FULL", "NORMAL"):
            a, b = Path(tmp) / f"engine-{sync}.db", Path(tmp) / f"raw-{sync}.db"
            shutil.copy(base, a)
            shutil.copy(base, b)
            n1, t1 = engine_run(a, sync)
            n2, t2 = raw_run(b, sync)
            e_rate, r_rate = n1 / t1, n2 / t2
            print(f"synchronous={sync}: engine {e_rate:,.0f} fires/s ({t1:.1f} s), raw sqlite3 "
                  f"{r_rate:,.0f} tx/s ({t2:.1f} s), ratio {e_rate / r_rate:.2f} (target >= 0.25)")
            result(f"fire() rate, synchronous={sync}", e_rate, "fires/s", baseline=r_rate,
                   baseline_label="raw sqlite3 tx/s", ratio=e_rate / r_rate, target="≥ 0.25×",
                   met=e_rate / r_rate >= 0.25)
        n, t = approve_all_run(Path(tmp) / "engine-FULL.db")
        print(f"review approve --all: {n} approvals in {t:.1f} s ({n / t:,.0f}/s)")
        result(f"review approve --all, {n:,} approvals", n / t, "approvals/s")


if __name__ == "__main__":
    main()
