"""Plain option values without pydantic (workflow/commands/fast_params.py): the values
come out as before, bad ones are still refused, anything unusual is left to typer, and
the seed's dry run no longer imports pydantic (issue 3's latency budget)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.testing import CliRunner

from cli_helpers import ROOT, duban_cmd, run
from commands import fast_params


def test_installs_on_this_typer():
    # If this fails, typer's internals changed: the shim does nothing and every command
    # is ~100 ms slower again (bench/import_plan.py will show it), but still correct.
    assert fast_params.install() is True
    assert fast_params.install() is True  # idempotent


def _probe_app() -> typer.Typer:
    probe = typer.Typer()

    @probe.command()
    def main(name: str, count: Annotated[int, typer.Option(min=1, max=9)] = 1,
             flag: bool = False, where: Annotated[Optional[Path], typer.Option(exists=True)] = None,
             tags: Annotated[Optional[list[str]], typer.Option("--tag")] = None) -> None:
        print(repr((name, count, flag, where, tags)))

    return probe


def test_values_convert_as_typer_would(tmp_path):
    fast_params.install()
    result = CliRunner().invoke(_probe_app(), ["张三", "--count", "3", "--flag", "--where", str(tmp_path),
                                               "--tag", "a", "--tag", "b"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == repr(("张三", 3, True, tmp_path, ["a", "b"]))


def test_bad_values_are_still_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fast_params.install()
    runner, probe = CliRunner(), _probe_app()
    for args, message in ((["x", "--count", "abc"], "“abc”不是整数"), (["x", "--count", "0"], "应不小于 1"),
                          (["x", "--count", "10"], "应不大于 9"),
                          (["x", "--where", "missing"], "does not exist")):
        result = runner.invoke(probe, args)
        assert result.exit_code == 2 and message in result.output, (args, result.output)


def test_the_cli_refuses_a_bad_year():
    proc = run("plan", "import", "examples/gz-sfj-2021.txt", "--dry-run", "--year", "1999")
    assert proc.returncode == 2 and "应不小于 2000" in proc.stderr
    proc = run("plan", "import", "examples/gz-sfj-2021.txt", "--dry-run", "--year", "二〇二一")
    assert proc.returncode == 2 and "不是整数" in proc.stderr


def test_dry_run_does_not_import_pydantic(tmp_path):
    command = duban_cmd()
    python_args = command[1:] if command[0] == sys.executable else command  # [-m, cli] or [script]
    proc = subprocess.run([sys.executable, "-X", "importtime", *python_args, "--db", str(tmp_path / "none.db"),
                           "plan", "import", "examples/gz-sfj-2021.txt", "--dry-run"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    heavy = {"pydantic", "sqlalchemy", "sqlmodel", "yaml", "jinja2", "openpyxl", "docx", "rich", "zipfile", "html"}
    assert not heavy & imported, heavy & imported
