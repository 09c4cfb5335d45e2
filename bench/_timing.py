"""Timing fresh processes fairly, for the latency benchmarks.

Commands run interleaved (a busy moment slows each alike), after one warm-up, and
report the median wall time and the median CPU time of the child (user + system),
which moves less than wall time on a busy machine. They run with bytecode caches, as
an installed duban does (pip writes .pyc files on install): where
PYTHONDONTWRITEBYTECODE is set, the caches go to a temporary PYTHONPYCACHEPREFIX
instead of every run compiling our modules from source.
"""
from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def keep_bytecode(env: dict[str, str], tmp: Path) -> dict[str, str]:
    """`env` with bytecode caches written (to `tmp`) even where the machine turned them off."""
    env = dict(env)
    if env.pop("PYTHONDONTWRITEBYTECODE", None):
        env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    return env


def medians(commands: dict[str, list[str]], runs: int, env: dict[str, str],
            envs: dict[str, dict[str, str]] | None = None) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of each command over `runs` interleaved runs, each in
    `env` unless `envs` gives that command's name an environment of its own."""
    env_of = {name: (envs or {}).get(name, env) for name in commands}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for name, args in commands.items():  # warm-up, and the bytecode caches written
        proc = subprocess.run(args, cwd=ROOT, env=env_of[name], capture_output=True, check=False)
        if proc.returncode:
            sys.exit(f"{' '.join(args[1:])} failed: {proc.stderr.decode()[-500:]}")
    for _ in range(runs):
        for name, args in commands.items():
            before, start = _child_cpu(), time.perf_counter()
            subprocess.run(args, cwd=ROOT, env=env_of[name], capture_output=True, check=False)
            times[name].append((time.perf_counter() - start, _child_cpu() - before))
    return {name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
            for name, values in times.items()}


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def clean_env() -> dict[str, str]:
    """The caller's environment without any DUBAN_* setting."""
    return {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}
