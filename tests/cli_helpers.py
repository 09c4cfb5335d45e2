"""Run the real `duban` command in a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def duban_cmd() -> list[str]:
    script = Path(sys.executable).parent / "duban"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli"]


def run(*args: str, db: str | None = None, user: str | None = None, today: str | None = None,
        env: dict | None = None, cwd: Path | None = None, input: str | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}
    full_env.update(env or {})
    if db:
        full_env["DUBAN_DB"] = db
    if user:
        full_env["DUBAN_USER"] = user
    if today:
        full_env["DUBAN_TODAY"] = today
    return subprocess.run([*duban_cmd(), *args], capture_output=True, text=True, env=full_env,
                          cwd=cwd or ROOT, input=input, timeout=120)


def run_json(*args: str, **kw):
    proc = run(*args, "--json", **kw)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)
