"""duban installed like any Python tool: a wheel built from the repository, installed into
a fresh virtual environment (its dependencies from the package index), and `duban demo`
run from a directory outside the repository. Demo data, templates and migrations must
travel as package data, and the demo folder must be relocatable (its duban.toml paths are
relative to the folder).

One build and one install for the whole file (about a minute, most of it pip fetching
dependencies), so the module-scoped fixture builds once and every test reuses it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*args, cwd: Path, env: dict | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_") and k != "PYTHONPATH"}
    full.update(env or {})
    return subprocess.run([str(a) for a in args], cwd=cwd, env=full, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The `duban` script of a fresh venv holding only the wheel and its dependencies."""
    work = tmp_path_factory.mktemp("install")
    wheels = work / "wheels"
    built = _run(sys.executable, "-m", "pip", "wheel", ROOT, "--no-deps",
                 "-w", wheels, "-q", cwd=work)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(wheels.glob("duban-*.whl"))
    venv = work / "venv"
    # The venv gets no pip of its own (ensurepip: ~7 s); this pip installs into it. Without
    # compiling every dependency to .pyc up front (~15 s): what runs is compiled as it runs.
    assert _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=work).returncode == 0
    pip = _run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q", "--no-compile",
               wheel, cwd=work)
    assert pip.returncode == 0, pip.stderr[-2000:]
    return venv / "bin" / "duban"


def test_demo_runs_from_a_wheel_outside_the_repository(installed, tmp_path):
    elsewhere = tmp_path / "anywhere"
    elsewhere.mkdir()
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path)}
    demo = _run(installed, "demo", cwd=elsewhere, env=env)
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert "找不到" not in demo.stdout + demo.stderr
    folder = elsewhere / "demo"
    for name in ("duban.db", "台账-2021Q4.xlsx", "台账-2021Q4.html", "年度报告-政务公开工作要点落实情况.docx"):
        assert (folder / name).stat().st_size > 0, name
    assert len(list((folder / "outbox").glob("*.eml"))) > 1000
    # the installed code is the wheel's, not the repository's
    where = _run(installed.parent / "python", "-c", "import workflow; print(workflow.__file__)", cwd=elsewhere)
    assert str(ROOT) not in where.stdout and "site-packages" in where.stdout

    # A copied demo folder writes into itself: its duban.toml names paths relative to it.
    config = tomllib.loads((folder / "duban.toml").read_text(encoding="utf-8"))
    assert not Path(config["mail"]["dir"]).is_absolute()
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    before = len(list((folder / "outbox").glob("*.eml")))
    sent = _run(installed, "--config", copy / "duban.toml", "mail", "test", "me@example.gov.cn",
                cwd=elsewhere, env=env)
    assert sent.returncode == 0, sent.stderr
    assert len(list((copy / "outbox").glob("*.eml"))) == before + 1
    assert len(list((folder / "outbox").glob("*.eml"))) == before
