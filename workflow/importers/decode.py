"""Bytes → text for plan and directory files, whatever encoding the office saved in.

Offices save notices as UTF-8 (web pages), UTF-8 with BOM (Notepad), UTF-16 (Excel's
"Unicode text"), or GBK/GB18030 (older Windows tools). BOMs decide when present;
otherwise every candidate that decodes strictly is scored by how much of the result is
plausible Chinese/ASCII text, because GB18030 "decodes" almost any byte soup and
BOM-less UTF-16 Chinese has no NUL bytes to give it away.

A plausible GB18030 reading is still checked on common characters: Big5 or Shift-JIS bytes
read as GB18030 give ideographs, but rare ones. Real text uses the 3,755 characters of
GB2312 level 1 (after folding traditional forms) almost exclusively; garbage does not. Such
a file, and UTF-8 text saved again through Latin-1 (“å¹¿…”), is refused naming the encoding.
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
    best_encoding = ""
    for encoding in _candidates(data):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        score = plausibility(text)
        if best is None or score > best[0]:
            best, best_encoding = (score, text), encoding
        if encoding == "utf-8" and score >= MIN_PLAUSIBLE:
            break  # valid UTF-8 that reads as text is never a coincidence
    if best is None or best[0] < MIN_PLAUSIBLE:
        _refuse_known_encoding(data, source)
        raise BadInput(f"{source} 不是可识别的文本：{hint}。")
    if best_encoding == "gb18030" and not _common_enough(best[1]):
        _refuse_known_encoding(data, source)
        raise BadInput(f"{source} 的编码无法识别（按 GBK 解读得到的是乱码）：请另存为 UTF-8 编码后再试。")
    return best[1]


MIN_COMMON = 0.85  # share of ideographs in GB2312 level 1 below which a GBK reading is garbage
MIN_HAN_TO_JUDGE = 8  # fewer ideographs than this say nothing either way
_LEVEL1: frozenset[str] | None = None
# Encodings offices outside the mainland save in, as the sentence names them.
_OTHER_ENCODINGS = (("big5", "Big5（繁体）"), ("shift_jis", "Shift-JIS（日文）"))


def _level1() -> frozenset[str]:
    """The 3,755 characters of GB2312 level 1 (rows 0xB0–0xD7), built once on demand."""
    global _LEVEL1
    if _LEVEL1 is None:
        raw = bytearray()
        for hi in range(0xB0, 0xD8):
            for lo in range(0xA1, 0xFF if hi < 0xD7 else 0xFA):
                raw += bytes((hi, lo))
        _LEVEL1 = frozenset(raw.decode("gb2312"))
    return _LEVEL1


def common_share(text: str) -> tuple[float, int]:
    """(share of ideographs that are common once traditional forms are folded, how many)."""
    from workflow.importers.hanzi import to_simplified

    counts = Counter(ch for ch in to_simplified(text) if 0x4E00 <= ord(ch) <= 0x9FFF)
    total = sum(counts.values())
    if not total:
        return 1.0, 0
    level1 = _level1()
    return sum(n for ch, n in counts.items() if ch in level1) / total, total


def _common_enough(text: str) -> bool:
    share, total = common_share(text)
    return total < MIN_HAN_TO_JUDGE or share >= MIN_COMMON


def _refuse_known_encoding(data: bytes, source: str) -> None:
    """Raise BadInput naming the encoding the file was really saved in, when one fits."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        for latin in ("latin-1", "cp1252"):
            try:
                original = text.encode(latin).decode("utf-8")
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
            if plausibility(original) >= MIN_PLAUSIBLE and _common_enough(original):
                raise BadInput(f"{source} 是被按西文编码（Latin-1/Windows-1252）误读后再次保存的 UTF-8 文本（乱码）："
                               "请找到原始文件，或按 UTF-8 编码重新保存后再试。")
    for encoding, label in _OTHER_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if plausibility(text) >= MIN_PLAUSIBLE and common_share(text)[1] and _common_enough(text):
            raise BadInput(f"{source} 看起来是 {label} 编码，本系统只识别 UTF-8、GBK 或 UTF-16 编码：请另存为 UTF-8 编码后再试。")


def _candidates(data: bytes) -> list[str]:
    """Encodings worth trying, most likely first; UTF-16 only when the length allows it."""
    found = ["utf-8"]
    if len(data) % 2 == 0:
        even_nuls = data[0::2].count(0)
        odd_nuls = data[1::2].count(0)
        found += ["utf-16-be", "utf-16-le"] if even_nuls > odd_nuls else ["utf-16-le", "utf-16-be"]
    found.append("gb18030")
    return found


def refuse_nul(text: str, source: str) -> None:
    """Raise BadInput if decoded text holds a NUL character (a damaged or binary file)."""
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise BadInput(f"{source} 第 {line} 行含有空字符（NUL），文件可能已损坏：请删除该字符或重新保存为纯文本后再试。")


def _strict(data: bytes, encoding: str, source: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        raise BadInput(f"{source}开头标明为 {encoding.upper()} 编码，但内容无法按该编码解读：请重新保存为 UTF-8 后再试。") from None


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
