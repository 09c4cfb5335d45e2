"""Issue 14: templates run sandboxed, mail files are private, --out folders are checked up
front, names cannot hide characters, delegation stays within the department, and a title
with a line break cannot crash the calendar. Each test failed on the code before the fix."""
from __future__ import annotations

import json

import os
import stat

import pytest

from cli_helpers import run

EXPLOIT = "{{ cycler.__init__.__globals__.os.popen('id').read() }}"


def _one_sentence(proc, code: int) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "内部错误" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误："), proc.stderr
    return lines[0]


# ---------------------------------------------------------------- templates (finding 7)
@pytest.mark.parametrize("name, fmt", [("annual.md.j2", "md"), ("annual.html.j2", "html")])
def test_report_template_cannot_run_code(world, tmp_path, name, fmt):
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / name).write_text("结果：" + EXPLOIT + "\n", encoding="utf-8")
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
    # The mail is enqueued with its context and rendered when sent: the submit itself stores
    # no text, and sending refuses the template in one sentence without running it.
    assert run("--config", str(config), "task", "submit", str(aid), "--summary", "完成",
               db=world.url, user="张三").returncode == 0
    proc = run("--config", str(config), "outbox", "send", db=world.url, user="李审核")
    assert "Traceback" not in proc.stderr and "uid=" not in proc.stdout + proc.stderr
    listed = json.loads(run("outbox", "list", "--json", db=world.url, user="李审核").stdout)["items"]
    submitted = [m for m in listed if m["kind"] == "submitted"]
    assert submitted and all(m["status"] == "failed" and "邮件无法生成" in m["last_error"] for m in submitted)
    sent = [f.read_text(errors="replace") for f in (tmp_path / "outbox").rglob("*.eml")] if (tmp_path / "outbox").exists() else []
    assert not any("uid=" in text for text in sent)


# ---------------------------------------------------------------- names (finding 6)
@pytest.mark.parametrize("args, code_point", [
    (["user", "add", "张伟\u200b", "--role", "supervisor", "--email", "zw@example.gov.cn"], "U+200B"),
    (["user", "add", "张\u202e伟", "--role", "supervisor", "--email", "zw@example.gov.cn"], "U+202E"),
    (["user", "add", "\ufeff张伟", "--role", "supervisor", "--email", "zw@example.gov.cn"], "U+FEFF"),
    (["dept", "add", "装财处\u200b"], "U+200B"),
    (["dept", "add", "新处\u2066室"], "U+2066"),
    (["dept", "add", "新处室", "--alias", "新\u200d处"], "U+200D"),
])
def test_invisible_characters_in_names_are_refused(world, args, code_point):
    from conftest import snapshot

    before = snapshot(world), run("user", "list", db=world.url, user="吴管理").stdout, \
        run("dept", "list", db=world.url, user="吴管理").stdout
    line = _one_sentence(run(*args, db=world.url, user="吴管理"), 2)
    assert code_point in line
    after = snapshot(world), run("user", "list", db=world.url, user="吴管理").stdout, \
        run("dept", "list", db=world.url, user="吴管理").stdout
    assert after == before


def test_look_alike_names_are_the_existing_name(world):
    # Full-width letters normalise (NFKC) to the ordinary ones the directory already has.
    assert run("dept", "add", "IT处", db=world.url, user="吴管理").returncode == 0
    line = _one_sentence(run("dept", "add", "ＩＴ处", db=world.url, user="吴管理"), 1)
    assert "与已有的“IT处”相同" in line or "已被使用" in line
    assert run("user", "add", "Ann", "--role", "supervisor", "--email", "a@example.gov.cn",
               db=world.url, user="吴管理").returncode == 0
    line = _one_sentence(run("user", "add", "Ａｎｎ", "--role", "supervisor", "--email", "b@example.gov.cn",
                             db=world.url, user="吴管理"), 1)
    assert "Ann" in line
    # A name stored with its NFKC form: full-width digits become ordinary ones.
    proc = run("user", "add", "王２号", "--role", "supervisor", "--email", "w2@example.gov.cn",
               "--json", db=world.url, user="吴管理")
    assert proc.returncode == 0, proc.stderr
    assert "王2号" in run("user", "list", db=world.url, user="吴管理").stdout


# ---------------------------------------------------------------- titles (finding 9a)
def test_title_with_a_line_break_is_flattened_and_the_calendar_exports(world, tmp_path):
    plan = tmp_path / "p.yaml"
    plan.write_text('title: "第一行\\n第二行"\nyear: 2021\ntasks:\n  - seq: 1\n    requirement: "要求\\n第二行"\n'
                    '    responsibilities:\n      - {department: 装财处, role: lead}\n', encoding="utf-8")
    proc = run("plan", "import", str(plan), "--json", db=world.url, user="李审核")
    assert proc.returncode == 0, proc.stderr
    listing = run("plan", "list", "--json", db=world.url, user="李审核")
    titles = [p["title"] for p in __import__("json").loads(listing.stdout)]
    assert "第一行 第二行" in titles
    new_id = str(len(titles))
    assert run("plan", "publish", new_id, db=world.url, user="李审核").returncode == 0, "publish"
    for args in (["--plan", new_id], []):
        out = tmp_path / "c.ics"
        proc = run("calendar", "export", *args, "--out", str(out), db=world.url, user="李审核")
        assert proc.returncode == 0, proc.stderr
        assert b"BEGIN:VCALENDAR" in out.read_bytes()


def test_title_with_an_invisible_character_is_refused(world, tmp_path):
    plan = tmp_path / "p.yaml"
    plan.write_text('title: "隐形\\u200b计划"\nyear: 2021\ntasks:\n  - seq: 1\n    requirement: "要求"\n'
                    '    responsibilities:\n      - {department: 装财处, role: lead}\n', encoding="utf-8")
    line = _one_sentence(run("plan", "import", str(plan), db=world.url, user="李审核"), 2)
    assert "U+200B" in line


# ---------------------------------------------------------------- files (findings 8, 9b)
def test_mail_files_are_private(world, tmp_path):
    config = tmp_path / "duban.toml"
    config.write_text('[mail]\nbackend = "file"\ndir = "mail/outbox"\n', encoding="utf-8")
    aid = world.assignment(1, "装财处")
    assert run("task", "start", str(aid), db=world.url, user="张三").returncode == 0
    assert run("task", "submit", str(aid), "--summary", "完成", db=world.url, user="张三").returncode == 0
    proc = run("--config", str(config), "outbox", "send", db=world.url, user="李审核")
    assert proc.returncode == 0, proc.stderr
    folder = tmp_path / "mail" / "outbox"
    mails = list(folder.glob("*.eml"))
    assert mails, proc.stdout
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert {stat.S_IMODE(m.stat().st_mode) for m in mails} == {0o600}


@pytest.mark.parametrize("args", [
    ["ledger", "--out", "{missing}/x.xlsx"],
    ["ledger", "--format", "csv", "--out", "{missing}/x.csv"],
    ["audit", "export", "--out", "{missing}/e.jsonl"],
    ["plan", "export", "1", "--out", "{missing}/p.yaml"],
    ["report", "annual", "1", "--out", "{missing}/a.md"],
    ["calendar", "export", "--out", "{missing}/c.ics"],
])
def test_out_into_a_missing_folder_is_one_sentence(world, tmp_path, args):
    missing = tmp_path / "nonexistent"
    args = [a.replace("{missing}", str(missing)) for a in args]
    line = _one_sentence(run(*args, db=world.url, user="李审核"), 2)
    assert str(missing) in line and "不存在" in line
    assert not missing.exists()


def test_out_into_a_read_only_folder_is_one_sentence(world, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    line = _one_sentence(run("audit", "export", "--out", str(folder / "e.jsonl"), db=world.url, user="李审核"), 2)
    assert "没有权限" in line
