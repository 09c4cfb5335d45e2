"""`plan import --dry-run` checks the plan's names against the directory without loading
the database layer (workflow/directory_peek.py, workflow/directory_names.py): same
warnings, nothing written, and no SQLAlchemy in the process."""
from __future__ import annotations

import io
import sqlite3
import subprocess
import sys
from pathlib import Path

from cli_helpers import ROOT, duban_cmd, init_db, run, run_json
from commands.common import App
from workflow.plans import service as plan_service
from db.peek import DepartmentName, peek_departments, sqlite_path

SEED = "examples/gz-sfj-2021.txt"


def _directory_without_zupei(tmp_path: Path) -> str:
    db = str(tmp_path / "d.db")
    init_db(db)
    csv = (ROOT / "examples" / "departments.csv").read_text(encoding="utf-8")
    short = tmp_path / "departments.csv"
    short.write_text("\n".join(line for line in csv.splitlines() if not line.startswith("组培处")), encoding="utf-8")
    assert run("dept", "import", str(short), db=db, user="吴管理").returncode == 0
    return db


def test_dry_run_warns_about_names_the_directory_lacks(tmp_path):
    db = _directory_without_zupei(tmp_path)
    proc = run("plan", "import", SEED, "--dry-run", db=db)
    assert proc.returncode == 0, proc.stderr
    unknown = [line for line in proc.stderr.splitlines() if "不在处室名录中" in line]
    assert unknown and all("“组培处”" in line for line in unknown), proc.stderr
    assert "各相关业务处室" in proc.stderr  # the groups to resolve are still listed
    assert run_json("plan", "list", db=db, user="吴管理") == []


def test_dry_run_with_a_directory_stays_off_the_database_layer(tmp_path):
    db = _directory_without_zupei(tmp_path)
    command = duban_cmd()
    python_args = command[1:] if command[0] == sys.executable else command
    proc = subprocess.run([sys.executable, "-X", "importtime", *python_args, "--db", db,
                           "plan", "import", SEED, "--dry-run"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "不在处室名录中" in proc.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert not {"sqlalchemy", "sqlmodel", "alembic", "db.models"} & imported


def test_peek_reads_the_directory_in_order(tmp_path):
    path = tmp_path / "d.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE department (id INTEGER PRIMARY KEY, name TEXT, aliases JSON, kind TEXT)")
        connection.executemany("INSERT INTO department VALUES (?, ?, ?, ?)", [
            (2, "规范性文件审查处", '["文件审查处"]', "business"), (1, "办公室", "[]", "office")])
    connection.close()
    assert peek_departments(path) == [DepartmentName("办公室", [], "office"),
                                      DepartmentName("规范性文件审查处", ["文件审查处"], "business")]


def test_peek_without_a_directory_or_a_database(tmp_path):
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    assert peek_departments(empty) == []  # no table yet: no directory
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    assert peek_departments(garbage) is None  # the caller falls back to the database layer


def test_which_urls_are_sqlite_files():
    assert sqlite_path(None) == Path("duban.db")
    assert sqlite_path("x/d.db") == Path("x/d.db")
    assert sqlite_path("sqlite:////tmp/d.db") == Path("/tmp/d.db")
    assert sqlite_path("sqlite:///rel.db") == Path("rel.db")
    assert sqlite_path("sqlite:///:memory:") is None
    assert sqlite_path("postgresql://postgres@127.0.0.1/test") is None


def test_falls_back_to_the_database_layer(tmp_path, monkeypatch):
    db = _directory_without_zupei(tmp_path)
    monkeypatch.setattr("db.peek.peek_departments", lambda path: None)
    app = App(db_url=db, out=io.StringIO(), err=io.StringIO())
    names = [d.name for d in plan_service._directory_for_review(app)]
    assert names[:3] == ["局政务公开办", "办公室", "装财处"] and "组培处" not in names
