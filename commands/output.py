"""Plain-text tables that line up with Chinese text (full-width characters count twice)."""
from __future__ import annotations

import unicodedata
from typing import Any, Iterable, TextIO


from workflow.ledger.lights import ORDER, icon_label

LIGHTS = {light: icon_label(light) for light in ORDER}  # "🔴逾期", …; "—" when closed


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def clip(text: Any, limit: int) -> str:
    """One line of at most `limit` display columns, with … when cut."""
    text = " ".join(str("" if text is None else text).split())
    if width(text) <= limit:
        return text
    out, used = [], 0
    for ch in text:
        w = width(ch)
        if used + w > limit - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def print_table(out: TextIO, headers: list[str], rows: Iterable[list[Any]]) -> None:
    rows = [[str("" if c is None else c) for c in r] for r in rows]
    widths = [max([width(h)] + [width(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c + " " * (w - width(c)) for c, w in zip(cells, widths)).rstrip()

    print(line(headers), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for r in rows:
        print(line(r), file=out)
