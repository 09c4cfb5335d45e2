"""Publishing a plan with "relevant" groups (各相关业务处室): on a terminal the office is
asked which departments each group means (numbered directory, numbers or names, re-asked
on bad input, answers saved for reuse); when piped, publish refuses and names --resolve.

The dialogue is driven through an injected Prompt (StringIO), the terminal wiring through
the real CLI on a pseudo-terminal, and the refusal through the real CLI on pipes.
"""
from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import time

import pytest
from sqlmodel import func, select as sql_select

from cli_helpers import duban_cmd, run
from conftest import DEPARTMENTS, PLAN, build_world
from db.models import Assignment, Department, Task
from commands.plan import run_publish
from commands.resolve_prompt import Prompt
from workflow.errors import BadInput, NotPermitted
from workflow.plans.groups import parse_selection
from workflow.plans.publish import load_resolution

GROUPED = PLAN | {"title": "相关处室测试计划", "tasks": PLAN["tasks"] + [
    {"seq": 4, "requirement": "做好政策解读。", "responsibilities": [
        {"department": "装财处", "role": "lead"},
        {"department": "各相关业务处室", "role": "cooperate", "group": True}]},
    {"seq": 5, "requirement": "做好政策咨询。", "responsibilities": [
        {"department": "各相关业务处室", "role": "implement", "group": True}]},
    {"seq": 6, "requirement": "畅通咨询渠道。", "responsibilities": [
        {"department": "局政务公开办", "role": "lead"},
        {"department": "相关处室(单位)", "role": "cooperate", "group": True}]},
]}


class _Dept:
    def __init__(self, name: str, aliases: list[str]):
        self.name, self.aliases = name, aliases


DIRECTORY = [_Dept(name, aliases) for name, _, aliases in DEPARTMENTS]  # numbered 1..6


def _names(answer: str) -> tuple[list[str], list[str]]:
    chosen, bad = parse_selection(answer, DIRECTORY)
    return [d.name for d in chosen], bad


def test_selection_accepts_numbers_names_aliases_and_separators():
    assert _names("3 5") == (["装财处", "规范性文件审查处"], [])
    assert _names("3、文件审查处,科监处，6;办公室") == (
        ["装财处", "规范性文件审查处", "科监处", "法律援助处", "办公室"], [])
    assert _names("2-4 ３") == (["办公室", "装财处", "科监处"], [])  # ranges, full-width digits, no repeats
    assert _names("装备财务处") == (["装财处"], [])  # an alias


def test_selection_reports_what_it_cannot_use():
    assert _names("0 7 宣传处 4-2") == ([], ["0", "7", "宣传处", "4-2"])
    assert _names("3 外事处") == (["装财处"], ["外事处"])
    assert _names("  ") == ([], [])


def _count(world, **where) -> int:
    with world.session() as s:
        q = sql_select(func.count()).select_from(Assignment).join(Task, Task.id == Assignment.task_id) \
            .join(Department, Department.id == Assignment.department_id)
        for key, value in where.items():
            q = q.where({"seq": Task.seq, "dept": Department.name, "role": Assignment.role}[key] == value)
        return s.exec(q).one()


def _publish(world, answers: str, user: str = "李审核", **kw):
    app = world.app(user, today="2021-07-20")
    prompt = Prompt(io.StringIO(answers), io.StringIO())
    run_publish(app, str(world.plan_id), kw.pop("resolve", None), kw.pop("as_json", False), prompt=prompt)
    return app, prompt.write.getvalue()


def test_dialogue_asks_per_group_reasks_and_saves(db_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    world = build_world(db_url, GROUPED, publish=False)
    answers = "\n".join([
        "9 宣传处",  # 各相关业务处室: neither a number shown nor a department → asked again
        "",  # nothing chosen → asked again
        "逐项",  # task by task
        "4",  # task 4 → 科监处
        "科监处、文件审查处",  # task 5, by name and alias
        "6,2",  # 相关处室(单位) (one task: no 逐项 offered) → 法律援助处, 办公室
        "notes.txt",  # not a YAML name → asked again
        "r.yaml", ""])
    app, dialogue = _publish(world, answers)
    assert "  5. 规范性文件审查处" in dialogue and "  6. 法律援助处" in dialogue
    assert "“各相关业务处室”出现在第 4、5 项" in dialogue and "输入“逐项”" in dialogue
    assert "“9”、“宣传处”" in dialogue and "1–6 的编号" in dialogue and "请重新输入" in dialogue
    assert "请至少选择一个处室" in dialogue
    assert "  → 科监处、规范性文件审查处" in dialogue
    assert "不是 YAML 文件名" in dialogue and "已保存到 r.yaml" in dialogue
    assert load_resolution(tmp_path / "r.yaml") == {
        "4": {"各相关业务处室": ["科监处"]},
        "5": {"各相关业务处室": ["科监处", "规范性文件审查处"]},
        "*": {"相关处室(单位)": ["法律援助处", "办公室"]}}
    assert _count(world, seq=4, dept="科监处", role="cooperate") == 1
    assert _count(world, seq=4, role="cooperate") == 1
    assert _count(world, seq=5, role="implement") == 2
    assert _count(world, seq=6, dept="法律援助处") == 1 and _count(world, seq=6, dept="办公室") == 1
    # The saved file answers every question next time: nothing asked, nothing new.
    app, dialogue = _publish(world, "", resolve=tmp_path / "r.yaml")
    assert dialogue == "" and "新建 0 项事项" in app.out.getvalue()


def test_one_answer_covers_every_task_of_the_group(db_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    world = build_world(db_url, GROUPED, publish=False)
    app, dialogue = _publish(world, "3 4\n法律援助处\n\n")
    assert "本计划有 2 个“相关”处室群组" in dialogue
    assert _count(world, seq=5, dept="装财处") == 1 and _count(world, seq=5, dept="科监处") == 1
    assert _count(world, seq=4, dept="科监处", role="cooperate") == 1
    assert _count(world, seq=4, dept="装财处", role="cooperate") == 0  # named as lead: the group does not add it again
    assert not list(tmp_path.glob("*.y*ml"))  # Enter: nothing saved


def test_end_of_input_cancels_and_creates_nothing(db_url):
    world = build_world(db_url, GROUPED, publish=False)
    with pytest.raises(BadInput, match="已取消下发"):
        _publish(world, "3\n")  # the second group is never answered
    assert _count(world) == 0


def test_staff_is_refused_before_any_question(db_url):
    world = build_world(db_url, GROUPED, publish=False)
    with pytest.raises(NotPermitted):
        _publish(world, "3\n6\n\n", user="张三")
    assert _count(world) == 0


def test_without_a_terminal_publish_names_the_resolve_flag(db_url):
    world = build_world(db_url, GROUPED, publish=False)
    proc = run("plan", "publish", str(world.plan_id), db=world.url, user="李审核", today="2021-07-20")
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("错误：无法下发，未创建任何事项。")
    assert "第 4 项“各相关业务处室”、第 5 项“各相关业务处室”、第 6 项“相关处室(单位)”" in proc.stderr
    assert "--resolve" in proc.stderr and "处室名录" not in proc.stdout + proc.stderr  # nothing asked
    assert _count(world) == 0


class _Terminal:
    """The real `duban` on a pseudo-terminal: answers are typed when the question shows."""

    def __init__(self, *args: str, env: dict[str, str]):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen([*duban_cmd(), *args], stdin=slave, stdout=slave, stderr=slave,
                                     env=env, close_fds=True)
        os.close(slave)
        self.screen = ""

    def expect(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.screen:
            assert time.monotonic() < deadline, f"未出现“{text}”：\n{self.screen}"
            self._read(0.2)

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def finish(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.2)
        while self._read(0.1):
            pass
        os.close(self.master)
        return self.proc.wait(timeout=5)

    def _read(self, wait: float) -> bool:
        if not select.select([self.master], [], [], wait)[0]:
            return False
        try:
            data = os.read(self.master, 65536)
        except OSError:  # the child closed the terminal
            return False
        self.screen += data.decode("utf-8", "replace").replace("\r\n", "\n")
        return bool(data)


def test_on_a_real_terminal_the_cli_asks(db_url, tmp_path):
    world = build_world(db_url, GROUPED, publish=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")} | {
        "DUBAN_DB": world.url, "DUBAN_USER": "李审核", "DUBAN_TODAY": "2021-07-20",
        "DUBAN_TOKEN": world.token("李审核"), "PYTHONIOENCODING": "utf-8", "COLUMNS": "120"}
    term = _Terminal("plan", "publish", str(world.plan_id), env=env)
    term.expect("输入“逐项”则每项分别指定")
    term.type("3 科监处")
    term.expect("“相关处室(单位)”指哪些处室")
    term.type("6")
    term.expect("直接回车不保存")
    term.type(str(tmp_path / "saved.yaml"))
    assert term.finish() == 0, term.screen
    assert "  1. 局政务公开办" in term.screen and "新建" in term.screen
    assert load_resolution(tmp_path / "saved.yaml") == {
        "*": {"各相关业务处室": ["装财处", "科监处"], "相关处室(单位)": ["法律援助处"]}}
    assert _count(world, seq=6, dept="法律援助处") == 1


def test_a_partial_resolve_file_is_completed_by_asking(db_url, tmp_path):
    world = build_world(db_url, GROUPED, publish=False)
    partial = tmp_path / "partial.yaml"
    partial.write_text("'*':\n  相关处室(单位): [法律援助处]\n", encoding="utf-8")
    app, dialogue = _publish(world, "科监处\n" + str(tmp_path / "full.yaml") + "\n", resolve=partial)
    assert "本计划有 1 个“相关”处室群组" in dialogue and "相关处室(单位)”出现" not in dialogue
    assert load_resolution(tmp_path / "full.yaml") == {
        "*": {"相关处室(单位)": ["法律援助处"], "各相关业务处室": ["科监处"]}}
    assert _count(world, seq=6, dept="法律援助处") == 1 and _count(world, seq=5, dept="科监处") == 1
