"""Benchmark: importing a plan is interactive, and a big plan publishes quickly.

1. `duban plan import examples/gz-sfj-2021.txt --dry-run` against `duban --version`,
   both as real subprocesses, best of 7 each (target ≤ 1.3×).
2. A generated 2,000-row plan: parse, store and publish to ≥ 20,000 assignments,
   printing the rate.

Run: .venv/bin/python bench/import_plan.py
"""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DUBAN = str(Path(sys.executable).parent / "duban")


def best_of(args: list[str], n: int = 7) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}
    env["DUBAN_DB"] = str(Path(tempfile.gettempdir()) / "bench-import-none.db")
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(args, cwd=ROOT, env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - t)
    return min(times)


def big_plan_text(rows: int) -> str:
    lines = ["某市某局2021年政务公开工作要点分工方案", "", "序号", "工作任务", "具体要求", "落实处室(部门)", "完成时限"]
    for i in range(1, rows + 1):
        lines += ["", str(i), "", f"第{i}项具体要求:做好相关信息公开。", "", "办公室牵头,各业务处室配合。",
                  ""]
        if i == 1:
            lines += ["各处室于11月底前按要求落实。", ""]
    return "\n".join(lines)


def main() -> None:
    version = best_of([DUBAN, "--version"])
    dry = best_of([DUBAN, "plan", "import", "examples/gz-sfj-2021.txt", "--dry-run"])
    print(f"duban --version: {version * 1000:.0f} ms; plan import seed --dry-run: {dry * 1000:.0f} ms; "
          f"ratio {dry / version:.2f} (target <= 1.3)")

    from sqlmodel import Session, select

    from db.engine import make_engine
    from db.migrate import upgrade
    from db.models import User
    from workflow.clock import Clock
    from workflow.directory import add_department, add_user
    from workflow.importers import parse_plan_text
    from workflow.plans import store_plan
    from workflow.publish import publish

    clock = Clock(dt.date(2021, 7, 20))
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'big.db'}")
        upgrade(engine)
        with Session(engine) as s:
            add_department(s, "办公室", "bgs@example.gov.cn", [], "office")
            add_user(s, "审核人", "r@example.gov.cn", ["reviewer"], "办公室", clock)
            for d in range(10):
                add_department(s, f"业务{d}处", f"d{d}@example.gov.cn", [], "business")
            text = big_plan_text(2000)
            t0 = time.perf_counter()
            plan = parse_plan_text(text, year=2021)
            t1 = time.perf_counter()
            row = store_plan(s, plan, clock)
            t2 = time.perf_counter()
            report = publish(s, row, s.exec(select(User)).one(), clock)
            t3 = time.perf_counter()
        print(f"2,000-row plan: parse {t1 - t0:.2f} s, store {t2 - t1:.2f} s, publish {report.created:,} "
              f"assignments in {t3 - t2:.2f} s ({report.created / (t3 - t2):,.0f}/s, with their events and "
              f"distribution mails)")


if __name__ == "__main__":
    main()
