"""What duban says, checked as text: help pages wholly Chinese with token-model examples,
and no half-width punctuation next to Chinese in any sentence duban writes from Python."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

import cli

ROOT = Path(__file__).resolve().parent.parent


def _paths(command, prefix=()):
    yield prefix
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _paths(sub, (*prefix, name))


COMMANDS = list(_paths(get_command(cli.app)))
ENGLISH = re.compile(r"Usage|Options:|Arguments:|Commands:|Show this message|required|default:|"
                     r"<str>|<int|<path>|<list\[|\{\w+\}|x<=|x>=")


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "duban")
def test_help_page_is_chinese_and_examples_use_the_token(path):
    page = CliRunner().invoke(cli.app, [*path, "--help"], prog_name="duban").stdout
    assert page.startswith("用法：duban"), page[:80]
    assert not ENGLISH.search(page), ENGLISH.search(page).group(0)
    assert "显示本帮助并退出。" in page
    examples = page.split("示例:", 1)[1] if "示例:" in page else ""
    assert "--as " not in examples  # the token says who acts (README: 安全模型)


def test_help_columns_stay_aligned():
    """Translated words of another width do not push the help text out of its column."""
    page = CliRunner().invoke(cli.app, ["task", "submit", "--help"], prog_name="duban").stdout
    from commands.help_zh import width

    options = page.split("选项：\n", 1)[1].split("\n\n", 1)[0].splitlines()
    starts = {width(line[:re.search(r"\S  +\S", line).end() - 1]) for line in options
              if re.search(r"\S  +\S", line)}
    assert len(starts) == 1, options


def test_an_option_the_command_lacks_is_named_plainly():
    from cli_helpers import run

    proc = run("review", "approve", "1", "--for", "张三")
    assert proc.returncode == 2
    assert proc.stderr == "错误：duban review approve 没有选项 --for；用 duban review approve --help 查看可用的选项。\n"
    negative = run("task", "show", "-3")
    assert negative.returncode == 2 and negative.stderr == "错误：编号应为正整数，-3 不是有效的编号。\n"


def test_a_mistyped_command_is_named_with_the_suggestion():
    from cli_helpers import run

    proc = run("plan", "lst")
    assert proc.returncode == 2
    assert proc.stderr == "错误：没有命令“lst”，是否要用“list”？用 duban --help 查看全部命令。\n"
    far = run("plan", "zzzz")
    assert far.returncode == 2 and far.stderr == "错误：没有命令“zzzz”；用 duban --help 查看全部命令。\n"


def test_submit_reads_the_summary_from_a_file_or_stdin(world, tmp_path):
    from cli_helpers import run, run_json

    aid = str(world.assignment(1, "装财处"))
    assert run("task", "start", aid, db=world.url, user="张三").returncode == 0
    long_text = "一、已在门户网站公开2021年部门预算。\n二、已公开决算说明。\n"
    (tmp_path / "办理情况.txt").write_text(long_text, encoding="utf-8")
    by_file = run("task", "submit", aid, "--summary-file", str(tmp_path / "办理情况.txt"), db=world.url, user="张三")
    assert by_file.returncode == 0, by_file.stderr
    assert run("review", "send-back", aid, "--comment", "请补充链接", db=world.url, user="李审核").returncode == 0
    by_stdin = run("task", "submit", aid, "--summary", "-", db=world.url, user="张三", input="见附件链接\n")
    assert by_stdin.returncode == 0, by_stdin.stderr
    history = run_json("task", "history", aid, db=world.url, user="张三")
    summaries = [e["data"].get("summary") for e in history if e["trigger"] == "submit"]
    assert summaries == [long_text.rstrip("\n"), "见附件链接"]
    both = run("task", "submit", aid, "--summary", "x", "--summary-file", "f.txt", db=world.url, user="张三")
    missing = run("task", "submit", aid, "--summary-file", str(tmp_path / "无.txt"), db=world.url, user="张三")
    assert (both.returncode, missing.returncode) == (2, 2)
    assert "只能二选一" in both.stderr and "找不到文件" in missing.stderr


def test_no_half_width_punctuation_next_to_chinese_in_messages():
    """Every string literal of commands/, workflow/, notifications/*.py, states/ and cli.py
    (in workflow/importers/, which read real documents, those of the expressions that build
    a message): ASCII ,:;() touching a Chinese character is a slip (`python
    tests/punctuation.py --fix` rewrites them)."""
    from punctuation import scope, scan

    found = [f"{path.relative_to(ROOT)}:{line}: {text}" for path in scope() for line, text in scan(path)]
    assert not found, "\n".join(found[:40])


def test_the_scanner_knows_a_slip_from_code():
    from punctuation import fix_source

    source = ('x = f"计划 {plan_id} 不存在;可用 duban plan list 查看(编号 {n:>3})。"\n'
              'y = r"[\\s、,;]+"\n'
              'z = "格式应为 {任务序号: [处室, …]}"\n'
              'w = "第(一)项,见 https://a.cn:8080/x"  # ascii-punct\n')
    fixed = fix_source(source)
    assert fixed.splitlines()[0] == 'x = f"计划 {plan_id} 不存在\uff1b可用 duban plan list 查看\uff08编号 {n:>3}\uff09。"'
    assert fixed.splitlines()[1:] == source.splitlines()[1:]


def test_in_the_importers_only_the_messages_are_checked():
    """What builds a message (a BadInput, a warning, a constant or local it names, what a
    function of the module returns into it) is duban's sentence; separators, patterns and
    the arguments of str methods match documents and stay as written."""
    from punctuation import fix_source

    source = ('import re\n'
              'SEPARATORS = ",，;；"\n'
              'HINT = "请另存为 UTF-8(或 GBK)"\n'
              'def _where(seq):\n'
              '    return f"第 {seq} 行(合并单元格)"\n'
              'def read(text, warnings, seq):\n'
              '    parts = re.split("[,;]+", text)\n'
              '    head = text.strip(" ,，;；")\n'
              '    if head in ("注:", "备注:"):\n'
              '        at = f"{_where(seq)}的备注:"\n'
              '        warnings.append(f"{at}“{head}”不是任务行,已忽略")\n'
              '    raise BadInput(f"无法识别:{HINT}。")\n')
    fixed = fix_source(source, messages_only=True).splitlines()
    original = source.splitlines()
    changed = {n for n, (a, b) in enumerate(zip(original, fixed)) if a != b}
    assert changed == {2, 4, 9, 10, 11}, fixed
    assert fixed[2] == 'HINT = "请另存为 UTF-8（或 GBK）"'
    assert fixed[4] == '    return f"第 {seq} 行（合并单元格）"'
    assert fixed[9] == '        at = f"{_where(seq)}的备注："'
    assert fixed[10] == '        warnings.append(f"{at}“{head}”不是任务行，已忽略")'
    assert fixed[11] == '    raise BadInput(f"无法识别：{HINT}。")'
    assert fix_source(source) != source  # the same text outside the importers: every literal


def test_readme_examples_use_full_width_punctuation():
    """The README's command examples (its code blocks) are duban's text too."""
    from punctuation import fix_text

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:bash|toml|sh)\n(.*?)```", readme, re.S)
    assert blocks
    slips = [line for block in blocks for line in block.splitlines() if fix_text(line) != line]
    assert not slips, "\n".join(slips)
