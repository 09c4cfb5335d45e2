"""Everyday operator commands, run as the real CLI: plan archive, user set and the status
column of user list, delegate list and revoke."""
from __future__ import annotations

import json

import pytest

from cli_helpers import run, run_json
from conftest import build_world


@pytest.fixture
def draft(db_url):
    """The test bureau with its plan imported but not published."""
    return build_world(db_url, publish=False)


def test_archive_frees_the_title_keeps_the_record(draft, tmp_path):
    w = draft
    exported = tmp_path / "plan.yaml"
    assert run("plan", "export", "1", "--out", str(exported), db=w.url, user="李审核").returncode == 0
    again = run("plan", "import", str(exported), db=w.url, user="李审核")
    assert again.returncode == 1
    assert "duban plan archive 1" in again.stderr and "删除" not in again.stderr
    assert run("plan", "archive", "1", db=w.url, user="张三").returncode == 1  # staff may not
    done = run("plan", "archive", "1", db=w.url, user="李审核")
    assert done.returncode == 0 and "已归档计划 1" in done.stdout
    assert run_json("plan", "list", db=w.url, user="李审核") == []
    listed = run_json("plan", "list", "--all", db=w.url, user="李审核")
    assert [(p["id"], p["archived"]) for p in listed] == [(1, True)]
    reimported = run("plan", "import", str(exported), db=w.url, user="李审核")
    assert reimported.returncode == 0, reimported.stderr
    assert [p["id"] for p in run_json("plan", "list", db=w.url, user="李审核")] == [2]
    assert run_json("plan", "show", "1", db=w.url, user="李审核")["id"] == 1  # by number: still there
    twice = run("plan", "archive", "1", db=w.url, user="李审核")
    assert twice.returncode == 1 and "已于" in twice.stderr


def test_a_plan_with_open_assignments_is_not_archived(world):
    refused = run("plan", "archive", "1", db=world.url, user="李审核")
    assert refused.returncode == 1 and "未办结，不能归档" in refused.stderr
    assert [p["id"] for p in run_json("plan", "list", db=world.url, user="李审核")] == [1]


def test_user_set_changes_role_and_department(world):
    moved = run("user", "set", "张三", "--dept", "科监处", "--role", "staff", "--role", "head",
                db=world.url, user="吴管理")
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout == "已修改张三：角色由“staff”改为“head、staff”；处室由“装财处”改为“科监处”。\n"
    users = {u["name"]: u for u in run_json("user", "list", db=world.url, user="吴管理")}
    assert users["张三"]["department"] == "科监处" and users["张三"]["roles"] == ["head", "staff"]
    assert run("user", "set", "张三", "--role", "admin", db=world.url, user="李审核").returncode == 1
    bad = run("user", "set", "张三", "--dept", "不存在的处", db=world.url, user="吴管理")
    assert bad.returncode == 1 and "不存在" in bad.stderr
    empty = run("user", "set", "张三", db=world.url, user="吴管理")
    assert empty.returncode == 2 and "--role" in empty.stderr


def test_user_list_shows_who_is_revoked(world):
    assert run("user", "revoke", "赵六", db=world.url, user="吴管理").returncode == 0
    table = run("user", "list", db=world.url, user="吴管理").stdout
    assert table.splitlines()[0].split()[-1] == "状态"
    lines = {line.split()[1]: line for line in table.splitlines()[2:]}
    assert lines["赵六"].rstrip().endswith("已停用") and lines["张三"].rstrip().endswith("在用")


def test_delegate_list_and_revoke(world):
    add = run("delegate", "add", "--to", "赵六", "--from", "2021-08-01", "--until", "2021-08-31", "--json",
              db=world.url, user="张三", today="2021-08-02")
    assert add.returncode == 0, add.stderr
    grant = json.loads(add.stdout)["id"]
    mine = run_json("delegate", "list", db=world.url, user="张三", today="2021-08-02")
    assert [(d["id"], d["from"], d["to"], d["status"]) for d in mine] == [(grant, "张三", "赵六", "生效中")]
    assert run_json("delegate", "list", db=world.url, user="赵六", today="2021-08-02")[0]["id"] == grant
    assert run_json("delegate", "list", db=world.url, user="孙科监", today="2021-08-02") == []
    assert run("delegate", "list", "--all", db=world.url, user="孙科监").returncode == 1
    aid = str(world.assignment(1, "装财处"))
    stranger = run("delegate", "revoke", str(grant), db=world.url, user="孙科监")
    assert stranger.returncode == 1 and "无权撤销" in stranger.stderr
    revoked = run("delegate", "revoke", str(grant), db=world.url, user="张三", today="2021-08-02")
    assert revoked.returncode == 0 and "赵六自即日起不再代张三办理" in revoked.stdout
    acting = run("task", "start", aid, "--for", "张三", db=world.url, user="赵六", today="2021-08-03")
    assert acting.returncode == 1 and "没有张三的有效代办授权" in acting.stderr
    after = run_json("delegate", "list", db=world.url, user="张三", today="2021-08-03")
    assert after[0]["status"] == "已撤销"  # the record stays
