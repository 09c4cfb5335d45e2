"""`plan export --format json|yaml` writes the canonical form with the keys issue 3 names,
and what it writes imports back unchanged (the real CLI, on the seed)."""
from __future__ import annotations

import json

from cli_helpers import init_db, run, run_json

PLAN_KEYS = {"title", "issuer", "issued_on", "distribute_by", "due", "tasks"}
TASK_KEYS = {"seq", "chapter", "section", "requirement", "responsibilities", "note", "due", "recurrence", "ongoing"}


def test_json_export_has_the_documented_keys_and_round_trips(tmp_path):
    db = str(tmp_path / "d.db")
    init_db(db)
    assert run("plan", "import", "examples/gz-sfj-2021.txt", db=db, user="吴管理").returncode == 0
    exported = run("plan", "export", "1", "--format", "json", db=db, user="吴管理")
    assert exported.returncode == 0, exported.stderr
    data = json.loads(exported.stdout)
    assert PLAN_KEYS <= set(data) and (data["issued_on"], data["distribute_by"], data["due"]) == (
        "2021-07-19", "2021-07-31", "2021-11-30")
    assert len(data["tasks"]) == 28 and all(TASK_KEYS <= set(t) for t in data["tasks"])
    assert all(set(r) == {"department", "role", "group"} for t in data["tasks"] for r in t["responsibilities"])
    for fmt in ("json", "yaml"):
        path = tmp_path / f"plan.{fmt}"
        assert run("plan", "export", "1", "--format", fmt, "--out", str(path), db=db, user="吴管理").returncode == 0
        back = run_json("plan", "import", str(path), "--dry-run", db=db)
        assert {k: back[k] for k in data} == data, fmt
