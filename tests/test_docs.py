"""Every command has help text, ends its help with real examples, and is documented in
the README (the sqlite-utils habit)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def commands() -> list:
    root = typer.main.get_command(app)
    found = []

    def walk(cmd, path: list[str]) -> None:
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, path + [name])
        else:
            found.append((" ".join(path), cmd))

    walk(root, [])
    return found


COMMANDS = commands()


def test_there_are_commands():
    names = {n for n, _ in COMMANDS}
    assert {"task submit", "review approve", "delay request", "plan publish", "db init", "states"} <= names


@pytest.mark.parametrize("name,cmd", COMMANDS, ids=[n for n, _ in COMMANDS])
def test_command_has_help_and_examples(name, cmd):
    assert cmd.help and cmd.help.strip(), f"duban {name} 没有帮助文字"
    assert cmd.epilog and "示例" in cmd.epilog, f"duban {name} 的帮助没有示例"
    assert f"duban" in cmd.epilog
    for param in cmd.params:
        if param.param_type_name == "option" and param.name != "help":
            assert param.help, f"duban {name} 的选项 {param.opts} 没有说明"


@pytest.mark.parametrize("name", [n for n, _ in COMMANDS])
def test_command_is_in_readme(name):
    assert re.search(rf"duban(?: --\S+(?: \S+)?)* {re.escape(name)}\b", README), f"README 没有提到 duban {name}"
