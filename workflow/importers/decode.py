"""Bytes → text for plan and directory files, whatever encoding the office saved in.

Offices save notices as UTF-8 (web pages), UTF-8 with BOM (Notepad), UTF-16 (Excel's
"Unicode text"), or GBK/GB18030 (older Windows tools). BOMs decide when present;
otherwise every candidate that decodes strictly is scored by how much of the result is
plausible Chinese/ASCII text, because GB18030 "decodes" almost any byte soup and
BOM-less UTF-16 Chinese has no NUL bytes to give it away.
"""
from __future__ import annotations

import codecs
from collections import Counter

from workflow.errors import BadInput

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
MIN_PLAUSIBLE = 0.85  # share of plausible characters below which the file is "not text"


TEXT_HINT = "请提供 UTF-8、GBK 或 UTF-16 编码的文本文件"


def decode_bytes(data: bytes, source: str = "文件", hint: str = TEXT_HINT) -> str:
    """Decode a text file, or raise BadInput (ending with `hint`) if it is not text."""
    if not data:
        return ""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _strict(data[len(bom):], encoding, source)
    best: tuple[float, str] | None = None
    for encoding in _candidates(data):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        score = plausibility(text)
        if best is None or score > best[0]:
            best = (score, text)
        if encoding == "utf-8" and score >= MIN_PLAUSIBLE:
            break  # valid UTF-8 that reads as text is never a coincidence
    if best is None or best[0] < MIN_PLAUSIBLE:
        raise BadInput(f"{source} 不是可识别的文本:{hint}。")
    return best[1]


def _candidates(data: bytes) -> list[str]:
    """Encodings worth trying, most likely first; UTF-16 only when the length allows it."""
    found = ["utf-8"]
    if len(data) % 2 == 0:
        even_nuls = data[0::2].count(0)
        odd_nuls = data[1::2].count(0)
        found += ["utf-16-be", "utf-16-le"] if even_nuls > odd_nuls else ["utf-16-le", "utf-16-be"]
    found.append("gb18030")
    return found


def _strict(data: bytes, encoding: str, source: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise BadInput(f"{source}开头标明为 {encoding.upper()} 编码,但内容无法按该编码解读:请重新保存为 UTF-8 后再试。") from None


def plausibility(text: str) -> float:
    """Share of characters that plausibly belong in a Chinese office document.

    Each distinct character is judged once (a document uses a few hundred), counting in C:
    a Python call per character made the dry run of the seed slower, and a regex with these
    ranges costs ~10 ms to compile."""
    if not text:
        return 0.0
    bad = sum(n for ch, n in Counter(text).items() if not _plausible(ch))
    return 1 - bad / len(text)


def _plausible(ch: str) -> bool:
    code = ord(ch)
    if code < 0x80:
        return ch.isprintable() or ch in "\t\r\n"
    return (
        0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0x3000 <= code <= 0x303F  # CJK punctuation
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
        or 0x2000 <= code <= 0x206F  # general punctuation (“”…—)
        or 0x2460 <= code <= 0x24FF  # circled numbers ①
        or code in (0xA0, 0xB7, 0xD7, 0x3007, 0xFEFF)
    )
