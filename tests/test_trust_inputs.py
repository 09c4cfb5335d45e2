"""Issue 14: templates run sandboxed, mail files are private, --out folders are checked up
front, names cannot hide characters, delegation stays within the department, and a title
with a line break cannot crash the calendar. Each test failed on the code before the fix."""
from __future__ import annotations

import os
import stat

import pytest

from cli_helpers import run

EXPLOIT = "{{ cycler.__init__.__globals__.os.popen('id').read() }}"


def _one_sentence(proc, code: int) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "内部错误" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误:"), proc.stderr
    return lines[0]


# ---------------------------------------------------------------- templates (finding 7)
@pytest.mark.parametrize("name, fmt", [("annual.md.j2", "md"), ("annual.html.j2", "html")])
def test_report_template_cannot_run_code(world, tmp_path, name, fmt):
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / name).write_text("结果:" + EXPLOIT + "\n", encoding="utf-8")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    proc = run("report", "annual", str(world.plan_id), "--format", fmt, "--out", str(out_dir / f"a.{fmt}"),
               "--templates", str(folder), db=world.url, user="李审核")
    line = _one_sentence(proc, 2)
    assert "模板" in line and "uid=" not in proc.stdout + proc.stderr
    assert list(out_dir.iterdir()) == []


def test_mail_template_from_config_cannot_run_code(world, tmp_path):
    from conftest import snapshot

    folder = tmp_path / "mailtpl"
    folder.mkdir()
    (folder / "distributed.txt").write_text(EXPLOIT + "\n", encoding="utf-8")
    (folder / "submitted.txt").write_text(EXPLOIT + "\n", encoding="utf-8")
    config = tmp_path / "duban.toml"
    config.write_text('templates_dir = "mailtpl"\n[mail]\nbackend = "file"\ndir = "outbox"\n', encoding="utf-8")
    aid = world.assignment(1, "装财处")
    assert run("task", "start", str(aid), db=world.url, user="张三").returncode == 0
    before = snapshot(world)
    proc = run("--config", str(config), "task", "submit", str(aid), "--summary", "完成",
               db=world.url, user="张三")
    line = _one_sentence(proc, 2)
    assert "模板" in line and "uid=" not in proc.stdout + proc.stderr
    assert snapshot(world) == before
    assert not (tmp_path / "outbox").exists() or list((tmp_path / "outbox").iterdir()) == []
