"""What the text around the table says: the plan's title, issuer, issue date and year.

A published notice reads: page chrome, the notice heading ('X关于印发Y的通知'), the
addressees, the body, the signature (issuer on one line, date on the next), then the
plan's own title right above its table. Any of these may be missing (a bare table, an
attachment without the notice), so each is looked for on its own, with fall-backs.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from workflow.importers.deadlines import parse_date_line
from workflow.importers.hanzi import to_simplified

_TITLE_WORDS = re.compile(r"方案|要点|清单|计划|分解|分工|台账|任务表|安排")
_NOTICE_RE = re.compile(r"^(?P<issuer>.*?)关于印发(?P<title>.+?)的通知$")
_ORG_END = re.compile(r"(?:局|厅|委员会|委|政府|办公室|办|院|中心|部|署|会|公司|所|处)$")
_YEAR_RE = re.compile(r"(20\d{2})\s*年")
_ATTACHMENT_RE = re.compile(r"^附件\s*\d*\s*[:：]?$")
_PUNCT_END = re.compile(r"[。;；:：,，!！?？]$")
MAX_TITLE = 80
_FIELD_TITLE = r"^[•·\-\s]*(?:名\s*称|标\s*题|中文名|文件名称)\s*[:：]\s*(?P<title>.+)$"  # compiled on first use


@dataclass
class PlanMeta:
    """What the document says about itself; any field may be unknown."""

    title: str | None = None
    issuer: str | None = None
    issued_on: dt.date | None = None
    year: int | None = None  # the year the document names (title or notice heading)


def read_meta(lines: list[str], tail: list[str] | None = None) -> PlanMeta:
    """Title, issuer, issue date and year from the lines before the table (and the
    signature in `tail`, the lines after it, when the notice puts it there)."""
    lines = [line.strip().lstrip("#").strip() for line in lines if line.strip()]
    tail = [line.strip() for line in tail or [] if line.strip()]
    notice = next((m for m in map(_NOTICE_RE.match, lines) if m), None)
    meta = PlanMeta()
    meta.issued_on, signer = _signature(lines)
    if meta.issued_on is None:
        meta.issued_on, signer = _signature(tail)
    meta.issuer = signer or (notice["issuer"].strip() if notice and notice["issuer"].strip() else None)
    meta.title = _title(lines, notice, meta.issuer)
    if not meta.issuer and meta.title:
        meta.issuer = issuer_from_title(meta.title)
    meta.year = _year(meta.title) or (_year(notice[0]) if notice else None)
    return meta


def _signature(lines: list[str]) -> tuple[dt.date | None, str | None]:
    """The last line that is only a date, and the organisation name on the line before it."""
    for index in range(len(lines) - 1, -1, -1):
        date = parse_date_line(lines[index])
        if date:
            before = lines[index - 1] if index else ""
            return date, before if is_org_line(before) else None
    return None, None


def is_org_line(line: str) -> bool:
    """A signature line: a short organisation name, no punctuation."""
    return 2 <= len(line) <= 30 and not _PUNCT_END.search(line) and bool(_ORG_END.search(to_simplified(line)))


def _title(lines: list[str], notice: re.Match | None, issuer: str | None) -> str | None:
    """The plan's own title: the last title-like line (joined with the line above when the
    title wraps; a page's 名称/标题 field when it is that line with the issuer before it),
    else the title inside the notice heading."""
    fields = [m["title"].strip().strip("《》") for m in map(_field_title, lines) if m]
    for index in range(len(lines) - 1, -1, -1):
        field = _field_title(lines[index])
        line = (field["title"] if field else lines[index]).strip(" |｜")
        if _ATTACHMENT_RE.match(line) or _NOTICE_RE.match(line):
            continue
        if _is_title_line(line):
            above = lines[index - 1].strip() if index else ""
            if (above and _YEAR_RE.search(above) and not _YEAR_RE.search(line) and not _PUNCT_END.search(above)
                    and not parse_date_line(above) and not is_org_line(above) and len(above + line) <= MAX_TITLE):
                return (above + line).strip("《》")  # '立山区政府2023年重点工作' / '任务分解和责任分工方案'
            bare = re.sub(r"\s+", "", line.strip("《》"))
            return next((f for f in fields if re.sub(r"\s+", "", f).endswith(bare) and f != bare), line.strip("《》"))
    if notice:
        title = notice["title"].strip("《》")
        if issuer and not title.startswith(issuer):
            title = issuer + title
        return title
    return None


def _field_title(line: str) -> re.Match | None:
    """A page's '名称:…' / '标 题:…' / '中文名:…' field."""
    return re.match(_FIELD_TITLE, line) if ("称" in line or "题" in line or "中文名" in line) else None


def _is_title_line(line: str) -> bool:
    return len(line) <= MAX_TITLE and not _PUNCT_END.search(line) and bool(_TITLE_WORDS.search(line))


def issuer_from_title(title: str) -> str | None:
    """'广州市司法局2021年…方案' → '广州市司法局' (the organisation before the year)."""
    match = re.match(r"^(?P<org>.{2,30}?(?:局|厅|委员会|委|政府|办公室|院|中心))(?=\d{4}\s*年|关于)", title)
    return match["org"] if match else None


def _year(text: str | None) -> int | None:
    match = _YEAR_RE.search(text or "")
    return int(match[1]) if match else None
