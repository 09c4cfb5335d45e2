"""No existence or state leaks (issue 14, finding 5): staff of another department learn
nothing about an assignment from any command — not that it exists, not its state.

For every command that names one assignment (reads and moves), 孙科监 (staff of 科监处)
asks about 装财处's assignments in several states and about an id that does not exist:
stderr (with the id written as N) and the exit code must be byte-identical, and nothing
may change. On the old code `task submit` answered "事项 1 当前为“已报送”…" and `delay
request` and `--for` without a delegation leaked the same way.
"""
from __future__ import annotations

import pytest

from cli_helpers import run
from conftest import drive, snapshot

PROBER = "孙科监"  # staff of 科监处
STATES = ("assigned", "in_progress", "submitted", "delay_requested", "done", "cancelled")
MISSING = 987654

COMMANDS = {  # name -> argv with {id}
    "task show": ("task", "show", "{id}"),
    "task history": ("task", "history", "{id}"),
    "task attachment": ("task", "attachment", "{id}"),
    "task start": ("task", "start", "{id}"),
    "task start --for": ("task", "start", "{id}", "--for", "张三"),
    "task submit": ("task", "submit", "{id}", "--summary", "已办理"),
    "task submit --for": ("task", "submit", "{id}", "--summary", "已办理", "--for", "张三"),
    "task cancel": ("task", "cancel", "{id}", "--reason", "计划调整"),
    "task reopen": ("task", "reopen", "{id}", "--reason", "需更新"),
    "task escalate": ("task", "escalate", "{id}", "--comment", "请督促"),
    "review approve": ("review", "approve", "{id}"),
    "review send-back": ("review", "send-back", "{id}", "--comment", "请补充"),
    "delay request": ("delay", "request", "{id}", "--reason", "等待上级平台", "--until", "2021-12-15"),
    "delay request --for": ("delay", "request", "{id}", "--reason", "等待", "--until", "2021-12-15",
                            "--for", "张三"),
    "delay approve": ("delay", "approve", "{id}"),
    "delay reject": ("delay", "reject", "{id}", "--comment", "请按时完成"),
}


@pytest.fixture(scope="module")
def probed(tmp_path_factory):
    from conftest import build_world, many_tasks_plan, migrated_sqlite

    world = build_world(migrated_sqlite(tmp_path_factory.mktemp("leak") / "duban.db"),
                        plan=many_tasks_plan(len(STATES)))
    ids = {}
    for seq, state in enumerate(STATES, start=1):  # one 装财处 assignment in each state
        ids[state] = world.assignment(seq, "装财处")
        drive(world, ids[state], state)
    return world, ids


def _answer(world, argv: tuple[str, ...], aid: int) -> tuple[int, str, str]:
    args = [a.replace("{id}", str(aid)) for a in argv]
    proc = run(*args, db=world.url, user=PROBER, today="2021-08-02")
    return proc.returncode, proc.stderr.replace(str(aid), "N"), proc.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_other_department_learns_nothing(probed, command):
    world, ids = probed
    argv = COMMANDS[command]
    before = snapshot(world)
    missing = _answer(world, argv, MISSING)
    assert missing[0] == 1 and missing[2] == "", missing
    assert missing[1] == "错误：事项 N 不存在；可用 duban task list 查看事项编号。\n", missing
    for state, aid in ids.items():
        assert _answer(world, argv, aid) == missing, f"{command} on an assignment {state} differs"
    assert snapshot(world) == before
