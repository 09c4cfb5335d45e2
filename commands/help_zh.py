"""Help pages entirely in Chinese: click's own words (Usage, Options, required, the
type names of metavars, "Show this message and exit.") translated as the page is made.

Typer builds help with its vendored click, which has no translation catalogue for these
words. `install()` wraps `Context.get_help`, which every help page passes through
(`--help`, `-h`, and a bare group's page), and rewrites the page line by line. A word
whose width changes moves the column after it, so the run of spaces that follows is
made shorter or longer by the same amount and the columns stay aligned.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

ARGUMENT_NAMES = {  # {argument} metavars, by parameter name
    "assignment_id": "事项编号", "plan": "计划", "name": "姓名", "file": "文件", "path": "文件",
    "delegation_id": "授权编号", "address": "收件地址", "ids": "邮件编号", "target": "文件",
}
_WORDS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"^(\s*)Usage: "), r"\1用法："),
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
            new = m.expand(replacement) if isinstance(replacement, str) else replacement(m)
            delta = width(new) - width(m.group(0))
            end = m.start() + len(new)
            line = line[:m.start()] + new + line[m.end():]
            if delta:
                line = _realign(line, end, delta)
            pos = end if end > m.start() else m.start() + 1
    return line.rstrip() if line.strip() else line.strip()


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
