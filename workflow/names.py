"""Names people tell apart by looking: users, departments, plan titles (issue 14).

Two names that look the same must be the same name. A user name or department name is
stored in Unicode NFKC form (full-width letters and digits become ordinary ones,
compatibility forms their plain character), and refused if it holds a character that
shows nothing or changes how the text around it is shown: zero-width characters
(U+200B–U+200D, U+2060, U+FEFF), bidirectional controls (U+202A–U+202E, U+2066–U+2069)
and every other format (Cf) or control (Cc) character. A name whose NFKC form equals an
existing name's is the existing name.

A plan title is a published document's title and stays as written (full-width
punctuation included, which NFKC would turn into ASCII); it is only made one line
(line breaks and tabs become one space) and refused for the same invisible characters.
Titles are compared in NFKC form.
"""
from __future__ import annotations

import re
import unicodedata

from workflow.errors import BadInput

_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\x1c-\x1e\x85\u2028\u2029]+")
# Shown with their names in the refusal; any other Cf/Cc is refused by its category.
_KNOWN = {
    "\u200b": "零宽空格", "\u200c": "零宽非连接符", "\u200d": "零宽连接符", "\u2060": "零宽不换行符",
    "\ufeff": "零宽不换行空格（BOM）", "\u00ad": "软连字符",
    **{chr(c): "双向文字控制符" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)},
}


def hidden_character(text: str) -> str | None:
    """The first character of `text` that shows nothing or reorders the text, if any."""
    for ch in text:
        if ch in _KNOWN or unicodedata.category(ch) in ("Cf", "Cc", "Zl", "Zp", "Co", "Cs"):
            return ch
    return None


def describe(ch: str) -> str:
    """U+200B(零宽空格) — the code point a user can search for, and what it is."""
    label = _KNOWN.get(ch) or {"Cc": "控制字符", "Cf": "格式字符", "Co": "私用区字符",
                               "Cs": "代理字符"}.get(unicodedata.category(ch), "分隔符")
    return f"U+{ord(ch):04X}（{label}）"


def visible(text: str, limit: int = 40) -> str:
    """`text` with every hidden character removed, for quoting back in a refusal."""
    shown = "".join(ch for ch in text if hidden_character(ch) is None and ch not in "\r\n\t")
    return shown if len(shown) <= limit else shown[:limit - 1] + "…"


def clean_name(name: str, what: str) -> str:
    """A user or department name (or alias) as stored: NFKC, stripped, nothing hidden."""
    text = unicodedata.normalize("NFKC", name or "").strip()
    ch = hidden_character(text)
    if ch is not None:
        raise BadInput(f"{what}“{visible(text)}”含有看不见的字符 {describe(ch)}，请删除后重试："
                       f"名称只能含可见的文字。")
    return text


def clean_title(title: str, what: str = "计划标题") -> str:
    """A plan title on one line: line breaks become one space; nothing hidden."""
    text = _LINE_BREAKS.sub(" ", title or "").strip()
    ch = hidden_character(text)
    if ch is not None:
        raise BadInput(f"{what}“{visible(text)}”含有看不见的字符 {describe(ch)}，请删除后重试。")
    return text


def same(a: str, b: str) -> bool:
    """Whether two names are the same once normalised (NFKC, case-folded)."""
    return key(a) == key(b)


def key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold().strip()
