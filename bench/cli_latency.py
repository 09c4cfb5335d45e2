"""Benchmark: how long a person waits for the command line (issue 7, item 6).

- `duban --help` against `python -c "import typer"` (target ≤ 2×);
- `duban task list --json` on 300 assignments against `python -c "import sqlmodel"`
  (target ≤ 1.5×): the floor of any command that reads the database is importing the
  database layer.

Each command runs 10 times in a fresh process after one warm-up; the medians are compared.

Run: .venv/bin/python bench/cli_latency.py
"""
from __future__ import annotations

import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _report import result  # noqa: E402

RUNS = 10
DUBAN = [str(Path(sys.executable).parent / "duban")]


def median_time(cmd: list[str], env: dict[str, str]) -> float:
    subprocess.run(cmd, capture_output=True, env=env, check=True)  # warm the page cache
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def build(url: str) -> dict[str, str]:
    """300 assignments of one department; returns the environment that acts as its staff."""
    from db.engine import make_engine
    from db.migrate import upgrade
    from sqlmodel import Session
    from workflow.clock import Clock
    from workflow.directory import add_department, add_user
    from workflow.plan import plan_from_dict
    from workflow.plans import store_plan
    from workflow.publish import publish

    upgrade(make_engine(url))
    clock = Clock(dt.date(2021, 7, 20))
    with Session(make_engine(url)) as s:
        add_department(s, "局政务公开办", "gk@example.gov.cn", [], "office")
        add_department(s, "装财处", "zc@example.gov.cn", [], "business")
        reviewer = add_user(s, "李审核", "r@example.gov.cn", ["reviewer"], "局政务公开办", clock)
        staff = add_user(s, "张三", "z@example.gov.cn", ["staff"], "装财处", clock)
        plan = store_plan(s, plan_from_dict({
            "title": "基准计划", "year": 2021, "due": "2021-11-30",
            "tasks": [{"seq": i, "requirement": f"第{i}项任务", "responsibilities": [
                {"department": "装财处", "role": "lead"}]} for i in range(1, 301)]}), clock)
        publish(s, plan, reviewer, clock)
        from workflow.auth import issue_token

        token = issue_token(s, staff)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}
    env |= {"DUBAN_DB": url, "DUBAN_USER": "张三", "DUBAN_TODAY": "2021-08-02"}
    env["DUBAN_TOKEN"] = token
    return env


def main() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}
    typer_t = median_time([sys.executable, "-c", "import typer"], env)
    help_t = median_time(DUBAN + ["--help"], env)
    print(f"python -c 'import typer': {typer_t * 1000:.0f} ms; duban --help: {help_t * 1000:.0f} ms; "
          f"ratio {help_t / typer_t:.2f} (target <= 2)")
    result("duban --help", help_t * 1000, "ms", baseline=typer_t * 1000, baseline_label="import typer",
           ratio=help_t / typer_t, target="≤ 2×", met=help_t / typer_t <= 2)
    with tempfile.TemporaryDirectory() as tmp:
        run_env = build(f"sqlite:///{tmp}/bench.db")
        out = subprocess.run(DUBAN + ["task", "list", "--json"], capture_output=True, env=run_env, text=True)
        assert out.returncode == 0 and out.stdout.count('"id"') == 300, out.stderr
        sqlmodel_t = median_time([sys.executable, "-c", "import sqlmodel"], env)
        list_t = median_time(DUBAN + ["task", "list", "--json"], run_env)
    print(f"python -c 'import sqlmodel': {sqlmodel_t * 1000:.0f} ms; duban task list --json (300): "
          f"{list_t * 1000:.0f} ms; ratio {list_t / sqlmodel_t:.2f} (target <= 1.5)")
    result("duban task list --json, 300 assignments", list_t * 1000, "ms", baseline=sqlmodel_t * 1000,
           baseline_label="import sqlmodel", ratio=list_t / sqlmodel_t, target="≤ 1.5×",
           met=list_t / sqlmodel_t <= 1.5)


if __name__ == "__main__":
    main()
