"""Asking the office, on a terminal, which departments each "relevant" group means.

Publishing never guesses what 各相关业务处室 covers (DESIGN §5): without `--resolve`,
a terminal session asks, group by group, showing the numbered directory. Questions and
answers go through a `Prompt` (two streams) passed in by the caller, so a test drives
the whole dialogue with StringIO and nothing here touches sys.stdin itself.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from commands.output import clip, width
from workflow.errors import BadInput
from workflow.plans.model import RESPONSIBILITY_ROLES

if TYPE_CHECKING:  # pragma: no cover
    from commands.common import App
    from workflow.plans.publish import PendingGroup, Resolution

EACH = "逐项"  # the answer that asks for every task separately


@dataclass
class Prompt:
    """Where questions go (`write`) and answers come from (`read`)."""
    read: TextIO
    write: TextIO

    @classmethod
    def terminal(cls, app: "App") -> "Prompt | None":
        """The terminal when someone can answer there; None when piped or scripted.

        Questions go to stderr, so `--json > file` on a terminal still asks."""
        if _isatty(sys.stdin) and _isatty(app.err):
            return cls(sys.stdin, app.err)
        return None

    def tell(self, text: str = "") -> None:
        print(text, file=self.write, flush=True)

    def ask(self, question: str) -> str:
        """One answer line; end of input cancels (nothing has been written yet)."""
        self.write.write(question)
        self.write.flush()
        line = self.read.readline()
        if not line:
            self.tell()
            raise BadInput("输入已结束，已取消下发，未创建任何事项。")
        return line.strip()


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def ask_resolution(prompt: Prompt, pending: list["PendingGroup"], departments: list) -> "Resolution":
    """Ask for every pending group; the answer for a group applies to all its tasks unless
    the office answers 逐项 and names departments task by task."""
    prompt.tell(f"本计划有 {len(pending)} 个“相关”处室群组需要明确具体处室（下发前必须指定，系统不会猜测）。")
    show_directory(prompt, departments)
    resolution: Resolution = {}
    for group in pending:
        prompt.tell()
        _ask_group(prompt, group, departments, resolution)
    return resolution


def show_directory(prompt: Prompt, departments: list, columns: int = 3) -> None:
    """The directory numbered from 1, in columns: answers may use these numbers."""
    cells = [f"{i:>3}. {d.name}" for i, d in enumerate(departments, 1)]
    cell_width = max((width(c) for c in cells), default=0) + 2
    prompt.tell("处室名录：")
    for start in range(0, len(cells), columns):
        row = cells[start:start + columns]
        prompt.tell("".join(c + " " * (cell_width - width(c)) for c in row).rstrip())


def _ask_group(prompt: Prompt, group: "PendingGroup", departments: list, resolution: "Resolution") -> None:
    seqs = "、".join(str(seq) for seq, _, _ in group.tasks)
    prompt.tell(f"“{group.name}”出现在第 {seqs} 项：")
    for seq, requirement, role in group.tasks:
        prompt.tell(f"  第 {seq} 项（{RESPONSIBILITY_ROLES.get(role, role)}）：{clip(requirement, 60)}")
    several = len(group.tasks) > 1
    hint = f"；输入“{EACH}”则每项分别指定" if several else ""
    names = _ask_departments(prompt, f"“{group.name}”指哪些处室？请输入编号或名称，用空格、顿号或逗号分隔{hint}：\n> ",
                             departments, allow_each=several)
    if names is not None:
        resolution.setdefault("*", {})[group.name] = names
        return
    for seq, requirement, _ in group.tasks:
        answer = _ask_departments(prompt, f"第 {seq} 项（{clip(requirement, 30)}）的“{group.name}”指哪些处室？\n> ",
                                  departments, allow_each=False)
        resolution.setdefault(str(seq), {})[group.name] = answer or []


def _ask_departments(prompt: Prompt, question: str, departments: list, allow_each: bool) -> list[str] | None:
    """Department names for one question, asking again until the answer is valid.

    None means the office answered 逐项 (only offered when `allow_each`)."""
    from workflow.plans.groups import parse_selection

    while True:
        answer = prompt.ask(question)
        if allow_each and answer == EACH:
            return None
        chosen, bad = parse_selection(answer, departments)
        if bad:
            prompt.tell(_not_understood(bad, departments))
        elif not chosen:
            prompt.tell("请至少选择一个处室。")
        else:
            names = [d.name for d in chosen]
            prompt.tell(f"  → {'、'.join(names)}")
            return names


def _not_understood(bad: list[str], departments: list) -> str:
    """Which tokens were not understood, with the closest names, and what is accepted."""
    from workflow.directory.names import closest_names

    parts = []
    for token in bad:
        close = closest_names(token, departments)
        parts.append(f"“{token}”" + (f"（相近：{'、'.join(close)}）" if close else ""))
    return (f"{'、'.join(parts)}不是名录中的处室，也不是 1–{len(departments)} 的编号；"
            f"请重新输入（可用处室名称、别名或上面的编号）。")


def offer_to_save(prompt: Prompt, resolution: "Resolution") -> Path | None:
    """Offer to write the answers as a --resolve file; returns the file written, if any."""
    from workflow.plans.publish import save_resolution

    while True:
        answer = prompt.ask("\n保存以上指定，供下次用 --resolve 使用？请输入文件名（如 resolve.yaml），直接回车不保存：\n> ")
        if not answer:
            return None
        path = Path(answer).expanduser()
        if path.suffix.lower() not in (".yaml", ".yml"):
            prompt.tell(f"“{answer}”不是 YAML 文件名：请以 .yaml 或 .yml 结尾，或直接回车不保存。")
            continue
        if path.is_dir():
            prompt.tell(f"{path} 是目录，请输入文件名。")
            continue
        if path.exists() and prompt.ask(f"文件 {path} 已存在，覆盖吗？（y/N）：").lower() not in ("y", "yes", "是"):
            continue
        try:
            save_resolution(resolution, path)
        except OSError as exc:
            prompt.tell(f"无法写入 {path}：{exc.strerror or exc}；请换一个文件名。")
            continue
        prompt.tell(f"已保存到 {path}；下次可用：duban plan publish … --resolve {path}")
        return path
