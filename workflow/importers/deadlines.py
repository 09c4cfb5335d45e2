"""Deadline and recurrence phrases: '7月底前', '年底', '2021年8月前', '每季度', '持续推进'.

Two readings of the same phrases. A deadline *cell* (完成时限) is all deadline, so a bare
'9月' or '长期' counts. Task *text* (具体要求) mentions dates for other reasons
('2021年我局牵头项目', '(2021年印发)'), so there a phrase counts only when it is marked
as a deadline: 前/底/末/内, 年底, 下半年, 持续推进.

'Before month M' (8月前) means the end of month M-1, as offices read it.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from workflow.importers.hanzi import to_simplified

_CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")

_Y = r"(?:(?P<y>\d{4})\s*年)?"
_PATTERNS: tuple[tuple[str, str, bool], ...] = (
    # (name, regex, counts in task text without a marker)
    ("date", _Y + r"(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号](?P<mk>之前|以前|前|止|内|完成)?", False),
    ("iso", r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})", False),
    ("month_end", _Y + r"(?P<m>\d{1,2})\s*月份?\s*(?:底|末)(?:前|之前|以前)?", True),
    ("decade", _Y + r"(?P<m>\d{1,2})\s*月份?\s*(?P<x>上旬|中旬|下旬)", True),
    ("before_month", _Y + r"(?P<m>\d{1,2})\s*月份?\s*(?:之前|以前|前)", True),
    ("month", _Y + r"(?P<m>\d{1,2})\s*月份?(?![\d日号])", False),
    ("year_end", r"(?:(?P<y>\d{4})\s*年)?(?:年底|年末)|(?P<y2>\d{4})\s*年(?:底|末)", True),
    ("year_within", r"年内|全年", False),
    ("half", r"(?P<h>上|下)半年(?P<mk>末|底|前|内)?", True),
    ("quarter", r"第?(?P<q>[一二三四1-4])\s*季度(?P<mk>末|底|前|内)?", False),
)
_DATE_RE = re.compile("|".join(f"(?P<_{name}>{rx.replace('(?P<', f'(?P<{name}_')})" for name, rx, _ in _PATTERNS))
_QUARTERLY_RE = re.compile(r"每季|按季|逐季|季度更新|季度统计")
_HALF_YEARLY_RE = re.compile(r"每半年|按半年|半年一次")
_ONGOING_TEXT_RE = re.compile(r"持续推进|长期推进|长期坚持|常态化推进")
_ONGOING_CELL_RE = re.compile(r"长期|持续|常态化|全年")
_DISTRIBUTE_RE = re.compile(r"分发|下发|印发|分解|部署")
_DELAY_RE = re.compile(r"无法按时|不能按时|未能按时|延期|逾期|书面说明|推迟|顺延")


@dataclass(frozen=True)
class Deadline:
    """What a cell or a text says about when a task is due."""

    due: dt.date | None = None
    recurrence: str | None = None  # None, "quarterly" or "half_yearly"
    ongoing: bool = False

    @property
    def found(self) -> bool:
        return bool(self.due or self.recurrence or self.ongoing)


@dataclass(frozen=True)
class PlanDeadline:
    """The plan-level cell merged across all rows: distribute by, complete by, delay rule."""

    distribute_by: dt.date | None = None
    due: dt.date | None = None
    delay_rule: str | None = None


def normalize_numerals(text: str) -> str:
    """Full-width and Chinese numerals in dates → ASCII: '二〇二一年七月十九日' → '2021年7月19日'."""
    text = to_simplified(text).translate(_FULLWIDTH_DIGITS)
    text = re.sub(r"[〇零一二三四五六七八九]{4}(?=年)", lambda m: "".join(str(_CN_DIGITS[c]) for c in m[0]), text)
    return re.sub(r"(?<![第每])[一二三四五六七八九十]{1,3}(?=月|日)", lambda m: str(chinese_number(m[0]) or m[0]), text)


def chinese_number(text: str) -> int | None:
    """'十九' → 19, '三十一' → 31, '七' → 7; None for anything else."""
    if text == "十":
        return 10
    if "十" in text:
        tens, _, ones = text.partition("十")
        value = (_CN_DIGITS.get(tens, 0) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
        return value if (not tens or tens in _CN_DIGITS) and (not ones or ones in _CN_DIGITS) else None
    return _CN_DIGITS.get(text) if len(text) == 1 else None


def month_end(year: int, month: int) -> dt.date:
    if month == 12:
        return dt.date(year, 12, 31)
    return dt.date(year, month + 1, 1) - dt.timedelta(days=1)


def find_dates(text: str, year: int, *, cell: bool) -> list[tuple[int, dt.date]]:
    """(position, date) of every deadline phrase in the plan year, in text order.

    In task text (cell=False) only phrases marked as deadlines count.
    """
    text = normalize_numerals(text)
    found = []
    for match in _DATE_RE.finditer(text):
        name = next(n for n, _, _ in _PATTERNS if match[f"_{n}"])
        marked = next(m for n, _, m in _PATTERNS if n == name)
        groups = {k.removeprefix(f"{name}_"): v for k, v in match.groupdict().items() if k.startswith(f"{name}_")}
        if not (cell or marked or groups.get("mk")):
            continue
        date = _resolve(name, groups, year)
        if date and date.year == year:
            found.append((match.start(), date))
    return found


def _resolve(name: str, g: dict[str, str | None], year: int) -> dt.date | None:
    """One matched phrase → a date, or None if it names no valid day."""
    y = int(g.get("y") or g.get("y2") or year)
    try:
        if name in ("date", "iso"):
            return dt.date(y, int(g["m"]), int(g["d"]))
        if name in ("month_end", "month"):
            return month_end(y, int(g["m"]))
        if name == "decade":
            return {"上旬": dt.date(y, int(g["m"]), 10), "中旬": dt.date(y, int(g["m"]), 20)}.get(
                g["x"]) or month_end(y, int(g["m"]))
        if name == "before_month":
            month = int(g["m"])
            return month_end(y, month - 1) if month > 1 else dt.date(y - 1, 12, 31)
        if name in ("year_end", "year_within"):
            return dt.date(y, 12, 31)
        if name == "half":
            return dt.date(y, 6, 30) if g["h"] == "上" else dt.date(y, 12, 31)
        if name == "quarter":
            quarter = int(g["q"]) if g["q"].isdigit() else _CN_DIGITS[g["q"]]
            if g.get("mk") == "前":
                quarter -= 1
            return month_end(y, quarter * 3) if quarter else None
    except ValueError:
        return None
    return None


def parse_deadline(text: str | None, year: int, *, cell: bool = False) -> Deadline:
    """Due date (the latest one named), recurrence and 'ongoing' from a cell or task text."""
    if not text:
        return Deadline()
    plain = to_simplified(text)
    dates = [d for _, d in find_dates(text, year, cell=cell)]
    ongoing = bool((_ONGOING_CELL_RE if cell else _ONGOING_TEXT_RE).search(plain))
    due = max(dates) if dates else (dt.date(year, 12, 31) if ongoing else None)
    return Deadline(due=due, recurrence=recurrence_of(plain), ongoing=ongoing)


def recurrence_of(text: str) -> str | None:
    if _HALF_YEARLY_RE.search(text):
        return "half_yearly"
    if _QUARTERLY_RE.search(text):
        return "quarterly"
    return None


def parse_plan_cell(text: str, year: int) -> PlanDeadline:
    """The merged 完成时限 cell: a date near 分发/下发 is the distribution date, the others
    the completion date; the sentence about failing to finish on time is the delay rule."""
    distribute: list[dt.date] = []
    due: list[dt.date] = []
    for clause in re.split(r"[,，;；。\n]", text):
        for _, date in find_dates(clause, year, cell=True):
            (distribute if _DISTRIBUTE_RE.search(to_simplified(clause)) else due).append(date)
    return PlanDeadline(
        distribute_by=min(distribute) if distribute else None,
        due=max(due) if due else None,
        delay_rule=delay_rule_of(text),
    )


def delay_rule_of(text: str) -> str | None:
    """'若无法按时完成请向局政务公开办书面说明': from the clause that mentions the delay to the sentence end."""
    match = _DELAY_RE.search(to_simplified(text))
    if not match:
        return None
    start = max(text.rfind(sep, 0, match.start()) for sep in ",，;；。\n") + 1
    ends = [i for i in (text.find(sep, match.end()) for sep in "。\n") if i >= 0]
    return text[start: min(ends) if ends else len(text)].strip(" ,，;；") or None


def parse_date_line(line: str) -> dt.date | None:
    """A line that is only a date ('2021年7月19日', '二〇二一年七月十九日') → the date."""
    match = re.fullmatch(r"\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*", normalize_numerals(line))
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def has_deadline_phrase(text: str) -> bool:
    """Whether a short text reads like a 完成时限 cell (any year, any phrase)."""
    plain = normalize_numerals(text)
    return bool(_DATE_RE.search(plain) or _ONGOING_CELL_RE.search(plain) or recurrence_of(plain))


def has_date(text: str) -> bool:
    """Whether a text names a date or period ('7月底前', '年底', '三季度'), not just '持续'."""
    return bool(_DATE_RE.search(normalize_numerals(text)))
