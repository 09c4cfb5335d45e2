"""The real CLI in a subprocess: JSON shapes, exit codes, one-sentence errors, no traceback,
and a refused command that changes nothing."""
from __future__ import annotations

import pytest

from cli_helpers import run, run_json
from conftest import snapshot


@pytest.fixture
def cli_world(world):
    return world


def test_task_show_json_keys(cli_world):
    aid = cli_world.assignment(1, "装财处")
    data = run_json("task", "show", str(aid), db=cli_world.url, user="张三", today="2021-12-01")
    for key in ("id", "plan", "task", "department", "role", "period", "state", "due_date", "version", "overdue"):
        assert key in data
    assert (data["id"], data["task"], data["department"], data["state"]) == (aid, 1, "装财处", "assigned")
    assert data["due_date"] == "2021-11-30" and data["overdue"] is True


def test_lifecycle_through_cli(cli_world):
    aid = str(cli_world.assignment(1, "装财处"))
    db = cli_world.url
    assert run("task", "start", aid, db=db, user="张三").returncode == 0
    proc = run("task", "submit", aid, "--summary", "已公开", db=db, user="张三")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""  # piped: no confirmation chatter
    queue = run_json("review", "list", db=db, user="李审核")
    assert [r["id"] for r in queue] == [int(aid)]
    proc = run("review", "send-back", aid, "--comment", "请补充链接", db=db, user="李审核")
    assert proc.returncode == 0, proc.stderr
    run("task", "submit", aid, "--summary", "已补充", db=db, user="张三")
    assert run("review", "approve", aid, db=db, user="李审核").returncode == 0
    events = run_json("task", "history", aid, db=db, user="张三")
    assert [e["trigger"] for e in events] == ["distribute", "start", "submit", "send_back", "submit", "approve"]
    for key in ("trigger", "from", "to", "actor", "comment", "at"):
        assert key in events[-1]
    rows = run_json("task", "list", "--state", "done", db=db, user="周督查")
    assert [r["id"] for r in rows] == [int(aid)]


@pytest.mark.parametrize("args,user,code,words", [
    (["task", "submit", "{aid}", "--summary", "x"], "张三", 1, "不能报送"),
    (["task", "start", "{aid}"], "孙科监", 1, "不存在"),  # another department: it "does not exist"
    (["task", "start", "99999"], "张三", 1, "不存在"),
    (["task", "start", "{aid}"], "无名氏", 1, "duban login"),  # a name without a token is nobody
    (["task", "start", "{aid}"], None, 1, "duban login"),
    (["delay", "request", "{aid}", "--reason", "x", "--until", "2021-02-30"], "张三", 2, "2021-02-30"),
    (["delay", "request", "{aid}", "--until", "2021-12-30"], "张三", 2, "理由"),
    (["task", "list", "--state", "flying"], "张三", 2, "flying"),
    (["task", "start", "abc"], "张三", 2, ""),
    (["review", "approve"], "李审核", 2, "--all"),
])
def test_refusals_are_one_sentence_and_change_nothing(cli_world, args, user, code, words):
    aid = str(cli_world.assignment(1, "装财处"))
    before = snapshot(cli_world)
    proc = run(*[a.replace("{aid}", aid) for a in args], db=cli_world.url, user=user)
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    assert words in proc.stderr
    assert snapshot(cli_world) == before


def test_uninitialised_database_is_explained(tmp_path):
    proc = run("task", "list", db=str(tmp_path / "new.db"))
    assert proc.returncode == 1
    assert "duban db init" in proc.stderr


def test_db_init_twice(tmp_path):
    db = str(tmp_path / "x.db")
    first = run("db", "init", db=db)
    second = run("db", "init", db=db)
    assert first.returncode == 0 and second.returncode == 0
    assert "已是最新" in second.stdout


def test_states_table_and_mermaid():
    table = run("states")
    assert table.returncode == 0 and "延期申请中" in table.stdout
    mermaid = run("states", "--mermaid").stdout
    assert mermaid.startswith("stateDiagram-v2")
    assert mermaid.count("-->") == 3 + sum(len(t) for t in [
        ["assigned"], ["in_progress", "returned"], ["submitted"], ["submitted"],
        ["assigned", "in_progress", "returned"], ["delay_requested"], ["delay_requested"],
        ["assigned", "in_progress", "submitted", "returned", "delay_requested"], ["done"],
        ["assigned", "in_progress", "returned"]])  # escalate: an overdue item not yet submitted
