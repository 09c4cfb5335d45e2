"""Benchmark: how long a person waits for the command line (issue 7, item 6).

- `duban --help` against `python -c "import typer"` (target ≤ 2×);
- `duban task list --json` on 300 assignments against `python -c "import sqlmodel"`
  (target ≤ 1.5×): the floor of any command that reads the database is importing the
  database layer.

Each command runs 10 times in a fresh process after one warm-up, interleaved with its
baseline, with bytecode caches (bench/_timing.py); the medians are compared, wall time
for the target and CPU time beside it.

Run: .venv/bin/python bench/cli_latency.py
"""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _report import result  # noqa: E402
from _timing import clean_env, keep_bytecode, medians  # noqa: E402

RUNS = 10
DUBAN = [str(Path(sys.executable).parent / "duban")]


def build(url: str) -> dict[str, str]:
    """300 assignments of one department; returns the environment that acts as its staff."""
    from db.engine import make_engine
    from db.migrate import upgrade
    from sqlmodel import Session
    from workflow.clock import Clock
    from workflow.directory.store import add_department, add_user
    from workflow.plans.model import plan_from_dict
    from workflow.plans.store import store_plan
    from workflow.plans.publish import publish

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
        from workflow.access.tokens import issue_token

        token = issue_token(s, staff)
    env = clean_env() | {"DUBAN_DB": url, "DUBAN_USER": "张三", "DUBAN_TODAY": "2021-08-02"}
    env["DUBAN_TOKEN"] = token
    return env


def compare(label: str, baseline: tuple[str, list[str]], duban: list[str], env: dict[str, str],
            duban_env: dict[str, str], target: float) -> None:
    name, command = baseline
    found = medians({name: command, label: duban}, RUNS, env, {label: duban_env})
    (base_wall, base_cpu), (wall, cpu) = found[name], found[label]
    print(f"python -c '{name}': {base_wall * 1000:.0f} ms; {label}: {wall * 1000:.0f} ms; "
          f"ratio {wall / base_wall:.2f} (target <= {target}); CPU {base_cpu * 1000:.0f} vs "
          f"{cpu * 1000:.0f} ms, ratio {cpu / base_cpu:.2f}")
    result(label, wall * 1000, "ms", baseline=base_wall * 1000, baseline_label=name,
           ratio=wall / base_wall, target=f"≤ {target:g}×", met=wall / base_wall <= target)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = keep_bytecode(clean_env(), Path(tmp))
        compare("duban --help", ("import typer", [sys.executable, "-c", "import typer"]),
                DUBAN + ["--help"], env, env, 2)
        run_env = keep_bytecode(build(f"sqlite:///{tmp}/bench.db"), Path(tmp))
        out = subprocess.run(DUBAN + ["task", "list", "--json"], capture_output=True, env=run_env, text=True)
        assert out.returncode == 0 and out.stdout.count('"id"') == 300, out.stderr
        compare("duban task list --json, 300 assignments",
                ("import sqlmodel", [sys.executable, "-c", "import sqlmodel"]),
                DUBAN + ["task", "list", "--json"], env, run_env, 1.5)


if __name__ == "__main__":
    main()
