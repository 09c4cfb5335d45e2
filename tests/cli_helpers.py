"""Run the real `duban` command in a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
# Subprocesses never see the real ~/.config/duban/credentials.
XDG_CONFIG_HOME = tempfile.mkdtemp(prefix="duban-test-xdg-")
# Database URL -> how to get a user's token there (build_world and the demo fill it).
_TOKENS: dict[str, Callable[[str], str | None]] = {}


def register_tokens(db: str, lookup: Callable[[str], str | None]) -> None:
    """Let run(user=NAME, db=URL) authenticate as NAME with the token `lookup(NAME)`."""
    _TOKENS[db] = lookup


def token_for(db: str | None, user: str | None) -> str | None:
    lookup = _TOKENS.get(db) if db else None
    return lookup(user) if lookup and user else None


def duban_cmd() -> list[str]:
    script = Path(sys.executable).parent / "duban"
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli"]


def cli_env(db: str | None = None, user: str | None = None, today: str | None = None,
            env: dict | None = None, token: str | None = None) -> dict[str, str]:
    """The environment `run` gives the command: no inherited DUBAN_*, the user's token."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}
    full_env["XDG_CONFIG_HOME"] = XDG_CONFIG_HOME
    full_env.update(env or {})
    if db:
        full_env["DUBAN_DB"] = db
    if user:
        full_env["DUBAN_USER"] = user
    token = token_for(db, user) if token is None else token
    if token:
        full_env["DUBAN_TOKEN"] = token
    if today:
        full_env["DUBAN_TODAY"] = today
    return full_env


def run(*args: str, db: str | None = None, user: str | None = None, today: str | None = None,
        env: dict | None = None, cwd: Path | None = None, input: str | None = None,
        token: str | None = None) -> subprocess.CompletedProcess:
    """`user` acts with their registered token unless `token` is given ("" for none)."""
    return subprocess.run([*duban_cmd(), *args], capture_output=True, text=True,
                          env=cli_env(db, user, today, env, token),
                          cwd=cwd or ROOT, input=input, timeout=120)


def start(*args: str, db: str | None = None, user: str | None = None, today: str | None = None,
          token: str | None = None) -> subprocess.Popen:
    """`run` without waiting: for tests that act on the database while the command runs."""
    return subprocess.Popen([*duban_cmd(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True, env=cli_env(db, user, today, None, token),
                            cwd=ROOT)


def run_json(*args: str, **kw):
    proc = run(*args, "--json", **kw)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def init_db(db: str, admin: str = "吴管理", email: str = "wu@example.gov.cn") -> str:
    """`duban db init --admin` on a new database; the admin's token is registered, so
    run(..., db=db, user=admin) acts as them. Returns the token."""
    proc = run("db", "init", "--admin", admin, "--email", email, db=db)
    assert proc.returncode == 0, proc.stderr
    token = proc.stdout.strip().splitlines()[-1]
    register_tokens(db, {admin: token}.get)
    return token
