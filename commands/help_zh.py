"""click's English in Chinese: help pages entirely in Chinese (click's own words: Usage,
Options, required, the type names of metavars, "Show this message and exit.") translated
as the page is made, and a usage error as one Chinese sentence (`usage_sentence`). Both
are tables of (pattern, replacement), applied by `_say`.

Typer builds help with its vendored click, which has no translation catalogue for these
words. `install()` wraps `Context.get_help`, which every help page passes through
(`--help`, `-h`, and a bare group's page), and rewrites the page line by line. A word
whose width changes moves the column after it, so the run of spaces that follows is
made shorter or longer by the same amount and the columns stay aligned.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Callable, Union

ARGUMENT_NAMES = {  # {argument} metavars, by parameter name
    "assignment_id": "事项编号", "plan": "计划", "name": "姓名", "file": "文件", "path": "文件",
    "delegation_id": "授权编号", "address": "收件地址", "ids": "邮件编号", "target": "文件",
}
Replacement = Union[str, Callable[[re.Match[str]], str]]  # a template ({0}: the first group) or a function of the match
_WORDS: list[tuple[re.Pattern[str], Replacement]] = [
    (re.compile(r"^(\s*)Usage: "), "{0}用法："),
    (re.compile(r"^Options:$"), "选项："),
    (re.compile(r"^Arguments:$"), "参数："),
    (re.compile(r"^Commands:$"), "命令："),
    (re.compile(r"\[OPTIONS\]"), "[选项]"),
    (re.compile(r"COMMAND \[ARGS\]\.\.\."), "命令 [参数]..."),
    (re.compile(r"Show this message and exit\."), "显示本帮助并退出。"),
    (re.compile(r"<list\[(?:str|int|Path|path)\]>"), lambda m: {"<list[str]>": "<文字>…", "<list[int]>": "<整数>…"}.get(m.group(0), "<文件>…")),
    (re.compile(r"<int range>|<int>"), "<整数>"),
    (re.compile(r"<float range>|<float>"), "<数>"),
    (re.compile(r"<str>|<text>"), "<文字>"),
    (re.compile(r"<path>|<Path>|<file>|<filename>"), "<文件>"),
    (re.compile(r"\{(\w+)\}"), lambda m: ARGUMENT_NAMES.get(m.group(1), "值")),
    (re.compile(r"^  ([a-z_]+)(?= <)"), lambda m: "  " + ARGUMENT_NAMES.get(m.group(1), m.group(1))),
    (re.compile(r"\[([^\]]*)\]"), lambda m: _bracket(m)),
]


def _bracket(m: re.Match[str]) -> str:
    """[default: 50; x>=1; required] → [默认 50;必填]; ranges are said by the help text."""
    inner = m.group(1)
    if inner in ARGUMENT_NAMES:  # an optional argument in the usage line: [plan]
        return f"[{ARGUMENT_NAMES[inner]}]"
    if not re.search(r"required|default:|x\s*[<>]=|<=\s*x", inner):
        return m.group(0)
    parts = []
    for piece in (p.strip() for p in inner.split(";")):
        if piece == "required":
            parts.append("必填")
        elif piece.startswith("default:"):
            value = piece.split(":", 1)[1].strip()
            parts.append(f"默认 {value}")
    return f"[{'；'.join(parts)}]" if parts else ""


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def translate_line(line: str) -> str:
    for pattern, replacement in _WORDS:
        pos = 0
        while True:
            m = pattern.search(line, pos)
            if m is None:
                break
            new = _say(m, replacement)
            delta = width(new) - width(m.group(0))
            end = m.start() + len(new)
            line = line[:m.start()] + new + line[m.end():]
            if delta:
                line = _realign(line, end, delta)
            pos = end if end > m.start() else m.start() + 1
    return line.rstrip() if line.strip() else line.strip()


def _say(m: re.Match[str], replacement: Replacement) -> str:
    """What a match of a table's pattern becomes."""
    return replacement.format(*m.groups()) if isinstance(replacement, str) else replacement(m)


def _realign(line: str, start: int, delta: int) -> str:
    """Take `delta` columns out of (or add them to) the next gap of two or more spaces."""
    gap = re.compile(r" {2,}").search(line, start)
    if gap is None:
        return line
    size = max(1, len(gap.group(0)) - delta)
    return line[:gap.start()] + " " * size + line[gap.end():]


_WRAPPED_DEFAULT = re.compile(r"\[default:\s*\n\s+([^\]\n]+)\]")


def translate(page: str) -> str:
    page = _WRAPPED_DEFAULT.sub(lambda m: f"[默认 {m.group(1).strip()}]", page)
    return "\n".join(translate_line(line) for line in page.split("\n"))


def install() -> bool:
    """Translate every help page from now on; False if this typer has no such hook."""
    try:
        from typer._click import core
    except ImportError:  # pragma: no cover - another typer
        return False
    context = getattr(core, "Context", None)
    original = getattr(context, "get_help", None)
    if original is None:
        return False
    if getattr(original, "_duban_zh", False):
        return True

    def get_help(self: Any) -> str:
        return translate(original(self))

    get_help._duban_zh = True  # type: ignore[attr-defined]
    context.get_help = get_help
    return True


_USAGE: list[tuple[re.Pattern[str], Replacement]] = [  # click's usage errors, as one Chinese sentence
    (re.compile(r"No such command '([^']+)'\. Did you mean '([^']+)'\?"), "没有命令“{0}”，是否要用“{1}”？用 duban --help 查看全部命令。"),
    (re.compile(r"No such command '([^']+)'"), "没有命令“{0}”；用 duban --help 查看全部命令。"),
    (re.compile(r"Missing argument '(.+)'"), "缺少参数 {0}；用 --help 查看用法。"),
    (re.compile(r"Missing option '(.+)'"), "缺少选项 {0}；用 --help 查看用法。"),
    (re.compile(r"Got unexpected extra argument(?:s|\(s\))? \((.+)\)"), "多余的参数：{0}；用 --help 查看用法。"),
    (re.compile(r"'(.*)' is not a valid integer"), "“{0}”不是有效的整数编号。"),
    (re.compile(r"Option '(.+)' requires an argument"), "选项 {0} 需要一个值。"),
    (re.compile(r"Invalid value for '(.+?)': (.+)"), "参数 {0} 的值无效：{1}"),
]


def usage_sentence(exc: Exception) -> str:
    """One Chinese sentence for a command-line usage error (click's UsageError)."""
    message = " ".join(exc.format_message().split())[:300]
    option = re.search(r"No such option: (\S+?)\.?(?: |$)", message)
    if option:
        return _no_such_option(option.group(1), message, getattr(getattr(exc, "ctx", None), "command_path", ""))
    for pattern, sentence in _USAGE:
        m = pattern.search(message)
        if m:
            return _say(m, sentence)
    return f"命令行用法有误（{message}）；用 --help 查看用法。"


def _no_such_option(option: str, message: str, command: str) -> str:
    """An unknown option: a negative number given as an id, or an option this command lacks."""
    if re.fullmatch(r"-\d+", option):
        return f"编号应为正整数，{option} 不是有效的编号。"
    command = command or "duban"
    guess = re.search(r"Did you mean (--?[\w-]+)", message)
    hint = f"是否指 {guess.group(1)}?" if guess else ""
    return f"{command} 没有选项 {option}；{hint}用 {command} --help 查看可用的选项。"
