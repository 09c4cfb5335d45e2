"""Issue 14, findings 1 and 2: tampering with the database behind duban's back, then
`duban audit verify` through the real CLI, on SQLite and PostgreSQL. Each kind must be
found and named by its record (event, assignment or user), in one sentence that does
not repeat itself. Before this issue, renaming users and editing an assignment's state
passed verify, and an event inserted with id 0 or a deleted last event were reported as
"计划 1 的链尾…" / "链尾计划的链尾…"."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import text

from cli_helpers import run
from workflow.lifecycle.service import transition
from workflow.lifecycle.engine import Fields


def _busy(world) -> int:
    aid = world.assignment(1, "装财处")
    transition(world.app("张三"), aid, "start")
    transition(world.app("张三"), aid, "submit", Fields(summary="完成"))
    transition(world.app("李审核"), aid, "approve")
    # Two moves that send no mail, so their rows can be swapped or deleted freely.
    transition(world.app("孙科监"), world.assignment(1, "科监处"), "start")
    transition(world.app("孙科监"), world.assignment(3, "科监处"), "start")
    return aid


def _sql(world, *statements: str, **params) -> None:
    with world.app().engine().begin() as conn:
        for statement in statements:
            conn.execute(text(statement), params)


def _ids(world) -> list[int]:
    with world.app().engine().connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT id FROM event ORDER BY id"))]


def _verify(world, *args: str) -> str:
    """The refusal `audit verify` prints (exit 1, one line); fails if it says intact."""
    proc = run("audit", "verify", *args, db=world.url, user="周督查")
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误：办理记录校验失败："), proc.stderr
    assert "Traceback" not in proc.stderr and "内部错误" not in proc.stderr
    _no_repetition(lines[0])
    return lines[0]


def _no_repetition(line: str) -> None:
    """No phrase of four or more characters said twice in a row ("链尾计划的链尾")."""
    assert "链尾计划" not in line
    assert not re.search(r"(.{4,})\1", line), line


def test_intact_database_verifies(world):
    _busy(world)
    proc = run("audit", "verify", db=world.url, user="周督查")
    assert proc.returncode == 0, proc.stderr
    assert "哈希链完整" in proc.stdout and "一致" in proc.stdout


def test_swapped_user_names_are_reported(world):
    _busy(world)
    zhang, li = world.ids["张三"], world.ids["李审核"]
    _sql(world, "UPDATE app_user SET name = '临时' WHERE id = :a",
         "UPDATE app_user SET name = '张三' WHERE id = :b",
         "UPDATE app_user SET name = '李审核' WHERE id = :a", a=zhang, b=li)
    line = _verify(world)
    assert f"用户 #{zhang} 现名“李审核”，办理记录中为“张三”" in line
    assert f"用户 #{li} 现名“张三”，办理记录中为“李审核”" in line


def test_a_users_department_and_roles_changed_are_reported(world):
    _busy(world)
    zhang = world.ids["张三"]
    _sql(world, "UPDATE app_user SET department_id = (SELECT id FROM department WHERE name = '科监处'), "
                "roles = '[\"reviewer\"]' WHERE id = :a", a=zhang)
    line = _verify(world)
    assert f"用户 #{zhang}“张三”现在的角色为 reviewer，办理记录中为 staff" in line
    assert f"用户 #{zhang}“张三”现属“科监处”，办理记录中属“装财处”" in line


def test_assignment_state_set_directly_is_reported(world):
    aid = world.assignment(1, "办公室")
    _busy(world)
    _sql(world, "UPDATE assignment SET state = 'done' WHERE id = :a", a=aid)
    line = _verify(world)
    assert f"事项 {aid} 与它的办理记录不符：状态为“已办结”（记录为“已下发”）" in line


def test_assignment_due_date_and_version_set_directly_are_reported(world):
    aid = _busy(world)
    _sql(world, "UPDATE assignment SET due_date = '2022-06-30', version = version + 5 WHERE id = :a", a=aid)
    line = _verify(world)
    assert f"事项 {aid} 与它的办理记录不符：版本为 9（记录为 4），完成时限为 2022-06-30（记录为 2021-11-30）" in line


def test_event_inserted_with_id_zero_is_named(world):
    _busy(world)
    first = _ids(world)[0]
    _sql(world, "INSERT INTO event (id, assignment_id, plan_id, trigger, from_state, to_state, actor_id, data, at, "
                "recorded_at, prev_hash, hash) SELECT 0, assignment_id, plan_id, 'approve', 'submitted', 'done', "
                "actor_id, data, at, recorded_at, prev_hash, hash FROM event WHERE id = :i", i=first)
    line = _verify(world)
    assert "第 0 号记录" in line and "链尾" not in line


def test_deleted_last_event_is_named(world):
    _busy(world)
    ids = _ids(world)
    _sql(world, "DELETE FROM notification WHERE event_id = :i", "DELETE FROM event WHERE id = :i", i=ids[-1])
    line = _verify(world)
    assert f"第 {ids[-1]} 号记录被删除" in line or f"第 {ids[-2]} 号记录之后的记录被删除" in line


def test_deleted_event_mid_chain_is_named(world):
    _busy(world)
    ids = _ids(world)
    _sql(world, "DELETE FROM notification WHERE event_id = :i", "DELETE FROM event WHERE id = :i", i=ids[-2])
    line = _verify(world)
    assert f"第 {ids[-2]} 号记录被删除" in line


def test_swapped_events_are_named(world):
    _busy(world)
    ids = _ids(world)
    a, b = ids[-2], ids[-1]
    _sql(world, "UPDATE event SET id = -1 WHERE id = :a", "UPDATE event SET id = :a WHERE id = :b",
         "UPDATE event SET id = :b WHERE id = -1", a=a, b=b)
    line = _verify(world)
    assert f"第 {a} 号与第 {b} 号记录的顺序被调换" in line


def test_edited_event_is_named(world):
    _busy(world)
    target = _ids(world)[-3]
    _sql(world, "UPDATE event SET comment = '改过的意见' WHERE id = :i", i=target)
    line = _verify(world)
    assert f"第 {target} 号记录的内容与它的哈希不符" in line


def test_event_inserted_mid_chain_is_named(world):
    """A copy of a middle record, given a new id: its content hashes, its place does not."""
    _busy(world)
    middle = _ids(world)[-3]
    _sql(world, "INSERT INTO event (assignment_id, plan_id, trigger, from_state, to_state, actor_id, "
                "on_behalf_of_id, comment, data, at, recorded_at, prev_hash, hash, hash_form, actor_info, "
                "principal_info, changes) SELECT assignment_id, plan_id, trigger, from_state, to_state, actor_id, "
                "on_behalf_of_id, comment, data, at, recorded_at, prev_hash, hash, hash_form, actor_info, "
                "principal_info, changes FROM event WHERE id = :i", i=middle)
    line = _verify(world)
    assert f"第 {max(_ids(world))} 号记录是插入的" in line


def test_swapped_actor_is_named(world):
    _busy(world)
    ids = _ids(world)
    approve = ids[-3]  # 李审核's approval
    _sql(world, "UPDATE event SET actor_id = :u WHERE id = :i", u=world.ids["王审核"], i=approve)
    line = _verify(world)
    assert f"第 {approve} 号记录的内容与它的哈希不符" in line
    assert f"办理人编号现为 #{world.ids['王审核']}，记录中的办理人是 #{world.ids['李审核']}“李审核”" in line


def test_export_carries_who_and_what_changed(world):
    aid = _busy(world)
    proc = run("audit", "export", db=world.url, user="周督查")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    approve = [r for r in rows if r["assignment_id"] == aid and r["trigger"] == "approve"][0]
    assert approve["hash_form"] == 2
    assert approve["actor_info"] == {"id": world.ids["李审核"], "name": "李审核", "roles": ["reviewer"],
                                     "department_id": approve["actor_info"]["department_id"],
                                     "department": "局政务公开办"}
    assert approve["changes"]["state"] == ["submitted", "done"] and approve["changes"]["version"] == [3, 4]


def test_recorded_names_cannot_be_edited_either(world):
    """Rewriting both the user and the recorded name breaks the record's hash."""
    _busy(world)
    zhang = world.ids["张三"]
    _sql(world, "UPDATE app_user SET name = '张四' WHERE id = :a", a=zhang)
    with world.app().engine().begin() as conn:
        for eid, info in conn.execute(text("SELECT id, actor_info FROM event WHERE actor_id = :a"), {"a": zhang}).all():
            info = json.loads(info) if isinstance(info, str) else info
            info["name"] = "张四"
            conn.execute(text("UPDATE event SET actor_info = :v WHERE id = :i"), {"v": json.dumps(info, ensure_ascii=False), "i": eid})
    line = _verify(world)
    assert "的内容与它的哈希不符" in line


@pytest.mark.parametrize("kind", ["edit_before", "delete_before", "rechain"])
def test_anchor_proves_nothing_before_it_was_rewritten(world, kind):
    from workflow.lifecycle.audit import event_hash

    _busy(world)
    proc = run("audit", "anchor", db=world.url, user="周督查")
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip()
    assert line.startswith("duban-anchor:v1:") and len(line.splitlines()) == 1
    ok = run("audit", "verify", "--anchor", line, db=world.url, user="周督查")
    assert ok.returncode == 0 and "锚点" in ok.stdout and "未被改写" in ok.stdout, ok.stderr
    transition(world.app("张三"), world.assignment(3, "装财处"), "start")  # after the anchor: fine
    ok = run("audit", "verify", "--anchor", line, db=world.url, user="周督查")
    assert ok.returncode == 0, ok.stderr
    ids = _ids(world)
    if kind == "edit_before":
        _sql(world, "UPDATE event SET comment = '改过' WHERE id = :i", i=ids[2])
    elif kind == "delete_before":
        _sql(world, "DELETE FROM notification WHERE event_id = :i", "DELETE FROM event WHERE id = :i", i=ids[2])
    if kind != "edit_before":
        # Whoever holds the database rewrites the whole chain so that it verifies again.
        with world.app().engine().begin() as conn:
            if kind == "rechain":
                conn.execute(text("UPDATE event SET comment = '改过' WHERE id = :i"), {"i": ids[2]})
            heads: dict[int, str | None] = {}
            for row in conn.execute(text("SELECT * FROM event ORDER BY id")).mappings().all():
                row = dict(row)
                for key in ("data", "actor_info", "principal_info", "changes"):
                    if isinstance(row.get(key), str):
                        row[key] = json.loads(row[key])
                for key in ("at", "recorded_at"):
                    if isinstance(row[key], str):
                        import datetime as dt
                        row[key] = dt.datetime.fromisoformat(row[key])
                prev = heads.get(row["plan_id"])
                digest = event_hash(row, prev)
                conn.execute(text("UPDATE event SET prev_hash = :p, hash = :h WHERE id = :i"),
                             {"p": prev, "h": digest, "i": row["id"]})
                heads[row["plan_id"]] = digest
            for pid, head in heads.items():
                conn.execute(text("UPDATE chain_head SET last_hash = :h WHERE plan_id = :p"), {"h": head, "p": pid})
        plain = run("audit", "verify", db=world.url, user="周督查")
        if kind == "rechain":
            assert plain.returncode == 0, plain.stderr  # without the anchor, nothing shows
    line_out = _verify(world, "--anchor", line)
    assert "锚点" in line_out and f"计划 {world.plan_id}" in line_out


def test_anchor_from_a_file_and_a_mistyped_anchor(world, tmp_path):
    _busy(world)
    line = run("audit", "anchor", db=world.url, user="周督查").stdout.strip()
    saved = tmp_path / "anchors.txt"
    saved.write_text(f"2021 年 8 月的锚点：\n{line}\n", encoding="utf-8")
    proc = run("audit", "verify", "--anchor", str(saved), db=world.url, user="周督查")
    assert proc.returncode == 0, proc.stderr
    broken = line[:-1] + ("0" if line[-1] != "0" else "1")
    proc = run("audit", "verify", "--anchor", broken, db=world.url, user="周督查")
    assert proc.returncode == 2 and "校验码不符" in proc.stderr
    proc = run("audit", "verify", "--anchor", str(tmp_path / "none.txt"), db=world.url, user="周督查")
    assert proc.returncode == 2 and "不是存在的文件" in proc.stderr


def test_supervisors_digest_carries_the_anchor(world, tmp_path):
    """The daily digest to supervisors ends with the anchor line; verify accepts the mail text."""
    proc = run("remind", "run", db=world.url, user="李审核", today="2021-12-20")
    assert proc.returncode == 0, proc.stderr
    from sqlmodel import select

    from db.models import Notification
    from notifications.outbox import rendered_row

    with world.session() as s:  # a digest row holds its context; the dispatcher renders it
        rows = s.exec(select(Notification).where(Notification.key.startswith("remind:"))).all()
        mails = {row.recipient: rendered_row(row).text for row in rows}
    supervisor = [body for to, body in mails.items() if "周督查" in to]
    others = [body for to, body in mails.items() if "周督查" not in to]
    assert supervisor and "duban-anchor:v1:2021-12-20:" in supervisor[0]
    assert others and not any("duban-anchor" in body for body in others)
    saved = tmp_path / "digest.txt"
    saved.write_text(supervisor[0], encoding="utf-8")
    proc = run("audit", "verify", "--anchor", str(saved), db=world.url, user="周督查")
    assert proc.returncode == 0 and "未被改写" in proc.stdout, proc.stderr
