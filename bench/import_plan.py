"""Benchmark: importing a plan is interactive, and a big plan publishes quickly.

1. `duban plan import examples/gz-sfj-2021.txt --dry-run` against `duban --version`, both
   as real subprocesses in the same run, interleaved (so a busy machine slows both alike),
   10 runs each after one warm-up; the medians and their ratio are printed (target ≤ 1.3×).
   Both run with bytecode caches, as an installed duban does (pip writes .pyc files on
   install): if PYTHONDONTWRITEBYTECODE is set, caches go to a temporary
   PYTHONPYCACHEPREFIX instead of being recompiled on every run. CPU time is printed too
   (it moves less than wall time on a busy machine), and the dry run once more against a
   database holding the example directory, the office's usual case (names are checked).
2. A generated 2,000-row plan: parse, store and publish to ≥ 20,000 assignments,
   printing the rate.

Run: .venv/bin/python bench/import_plan.py [--runs N] [--latency-only]
"""
from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _report import result  # noqa: E402  (RESULT lines for bench/run_all.py)
from _timing import clean_env, keep_bytecode, medians  # noqa: E402
DUBAN = str(Path(sys.executable).parent / "duban")
VERSION = [DUBAN, "--version"]
DRY_RUN = [DUBAN, "plan", "import", "examples/gz-sfj-2021.txt", "--dry-run"]
TARGET = 1.3


def bench_env(tmp: Path) -> dict[str, str]:
    """No DUBAN_* settings, no database (a first import), and bytecode caches kept."""
    return keep_bytecode(clean_env() | {"DUBAN_DB": str(tmp / "none.db")}, tmp)


def latency(runs: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        env = bench_env(Path(tmp))
        directory = with_directory(Path(tmp), env)
        found = medians({"version": VERSION, "dry": DRY_RUN, "dry+directory": directory}, runs, env)
    (version, version_cpu), (dry, dry_cpu), (with_dir, _) = found["version"], found["dry"], found["dry+directory"]
    ratio = dry / version
    print(f"duban --version: {version * 1000:.0f} ms; plan import seed --dry-run: {dry * 1000:.0f} ms "
          f"(medians of {runs}); ratio {ratio:.2f} (target <= {TARGET}: {'ok' if ratio <= TARGET else 'MISSED'})")
    print(f"  CPU time: {version_cpu * 1000:.0f} ms vs {dry_cpu * 1000:.0f} ms; ratio {dry_cpu / version_cpu:.2f}")
    print(f"  with a department directory in the database (names checked): {with_dir * 1000:.0f} ms; "
          f"ratio {with_dir / version:.2f}")
    result("plan import 种子 --dry-run", dry * 1000, "ms", baseline=version * 1000, baseline_label="duban --version",
           ratio=ratio, target=f"≤ {TARGET}×", met=ratio <= TARGET,
           note=f"中位数,各 {runs} 次交替运行;CPU 时间比 {dry_cpu / version_cpu:.2f};"
                f"数据库中已有处室名录时 {with_dir * 1000:.0f} ms({with_dir / version:.2f}×)")
    return ratio


def with_directory(tmp: Path, env: dict[str, str]) -> list[str]:
    """The dry run against a database holding the example directory (the office's usual case)."""
    db = str(tmp / "directory.db")
    init = subprocess.run([DUBAN, "--db", db, "db", "init", "--admin", "管理员", "--email", "admin@example.gov.cn"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    admin = env | {"DUBAN_TOKEN": init.stdout.strip().splitlines()[-1]}
    subprocess.run([DUBAN, "--db", db, "dept", "import", "examples/departments.csv"], cwd=ROOT, env=admin,
                   capture_output=True, check=True)
    return [DUBAN, "--db", db, *DRY_RUN[1:]]


def big_plan_text(rows: int) -> str:
    lines = ["某市某局2021年政务公开工作要点分工方案", "", "序号", "工作任务", "具体要求", "落实处室(部门)", "完成时限"]
    for i in range(1, rows + 1):
        lines += ["", str(i), "", f"第{i}项具体要求:做好相关信息公开。", "", "办公室牵头,各业务处室配合。",
                  ""]
        if i == 1:
            lines += ["各处室于11月底前按要求落实。", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of each command (default 10)")
    parser.add_argument("--latency-only", action="store_true", help="skip the 2,000-row plan")
    args = parser.parse_args()
    latency(args.runs)
    if not args.latency_only:
        big_plan()


def big_plan() -> None:
    from sqlmodel import Session, select

    from db.engine import make_engine
    from db.migrate import upgrade
    from db.models import User
    from workflow.clock import Clock
    from workflow.directory.store import add_department, add_user
    from workflow.importers import parse_plan_text
    from workflow.plans.store import store_plan
    from workflow.plans.publish import publish

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
        rate = report.created / (t3 - t2)
        print(f"2,000-row plan: parse {t1 - t0:.2f} s, store {t2 - t1:.2f} s, publish {report.created:,} "
              f"assignments in {t3 - t2:.2f} s ({rate:,.0f}/s, with their events and distribution mails)")
        result("2,000 行计划下发的事项数", report.created, "项", target="≥ 20,000", met=report.created >= 20_000,
               note=f"解析 {t1 - t0:.2f} s,入库 {t2 - t1:.2f} s,下发 {t3 - t2:.2f} s({rate:,.0f} 项/s)")


if __name__ == "__main__":
    main()
