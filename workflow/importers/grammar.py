"""The responsibility-cell grammar: '装财处牵头,办公室配合,科监处技术保障。' → roles.

A cell is a list of clauses (split on , ; 。 and newlines outside brackets). A clause is
a department list followed by a role word (`X、Y按职责牵头`), a role word with a colon
(`牵头:X`), or a bare department list (the column's default role: 落实 for a 落实处室
column, 牵头 for a 牵头单位 column). Clauses that are not department lists are the
instruction that often closes a cell (`结合实际,采取有效措施抓好落实`): kept as the
task's note, never turned into a department.

Department names are kept as written minus the role words, with traditional characters
simplified and brackets in one form (`OPEN`/`CLOSE`), so the same department always
compares equal whichever way a document (or the directory) typed it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from workflow.importers.hanzi import to_simplified
from workflow.plans.model import Responsibility

# Role phrases (longest first where one is a prefix or suffix of another) → roles.
ROLE_PHRASES: dict[str, tuple[str, ...]] = {
    "牵头督办": ("lead", "supervise"),
    "牵头负责": ("lead",),
    "牵头落实": ("lead",),
    "牵头实施": ("lead",),
    "牵头": ("lead",),
    "主办": ("lead",),
    "配合落实": ("cooperate",),
    "配合实施": ("cooperate",),
    "协助落实": ("cooperate",),
    "协助": ("cooperate",),
    "协办": ("cooperate",),
    "配合": ("cooperate",),
    "提供技术保障": ("tech_support",),
    "技术保障": ("tech_support",),
    "技术支持": ("tech_support",),
    "督促落实": ("supervise",),
    "督办": ("supervise",),
    "督促": ("supervise",),
    "统筹协调": ("coordinate",),
    "统筹推进": ("coordinate",),
    "统筹": ("coordinate",),
    "参照落实": ("implement",),
    "参照执行": ("implement",),
    "负责落实": ("implement",),
    "具体落实": ("implement",),
    "组织落实": ("implement",),
    "组织实施": ("implement",),
    "负责实施": ("implement",),
    "落实": ("implement",),
    "负责": ("implement",),
    "实施": ("implement",),
    "执行": ("implement",),
}
# Words between the departments and the role that do not change it (按职责牵头, 分别牵头).
MODIFIERS = ("按职责分工", "按职能分工", "按照职责", "按照职能", "根据职责", "按职责", "按职能", "分别", "共同", "各自")

_ROLE_ALT = "|".join(sorted(map(re.escape, ROLE_PHRASES), key=len, reverse=True))
_MOD_ALT = "|".join(map(re.escape, MODIFIERS))
_CLAUSE_RE = re.compile(rf"^(?P<depts>.*?)(?:{_MOD_ALT})*(?P<role>{_ROLE_ALT})$")
# Labels before a colon ('责任单位:X、Y', '牵头股室:Z'): the role words plus the words of a
# responsibility column heading.
COLON_LABELS: dict[str, tuple[str, ...]] = {
    "责任": ("implement",), "主责": ("implement",), "承办": ("implement",), "主办": ("implement",),
    "参与": ("cooperate",), "协同": ("cooperate",),
}
_COLON_RE = re.compile(r"^(?P<role>[^:：,，;；()（）]{1,8}?)(?:单位|处室|部门|科室|股室|处|科|股)?[:：](?P<depts>.+)$")
_ROLE_THEN_LIST_RE = re.compile(rf"({_ROLE_ALT})、")
# Rarely needed patterns stay strings: `re` compiles (and caches) them on first use, so the
# usual plan does not pay for them at import.
_REFERENCE = r"[(（][^()（）]*(?:见附件|详见|下同|附后)[^()（）]*[)）]"
_PAREN_ROLE_RE = re.compile(rf"^(?P<name>.+?)[(（](?P<role>{_ROLE_ALT})[)）]$")

DEPT_SUFFIXES = (
    "处室", "处", "室", "办", "组", "科", "局", "中心", "单位", "部门", "大厅", "队", "所",
    "站", "委", "院", "厅", "部", "股", "庭", "司", "馆", "校", "窗口", "专班", "机构",
    "公司", "会", "团", "社", "办公室", "银行", "支行", "分行", "政府", "镇", "乡", "街道", "县(市、区)",
    "县(市区)", "县市区", "开发区", "经开区", "高新区", "新区", "园区", "法院", "检察院", "残联", "妇联", "工商联", "科协", "文联", "侨联",
)
# 'X、Y等有关部门': the named ones, the list flagged as perhaps incomplete.
_ETC_GROUP = r"^(?P<names>.+?)等(?P<group>[^、]{0,6}(?:有关|相关|其他|其它)\S+)$"
_GROUP_RE = re.compile(r"各|相关|有关|所有|全体|其他|其它|主办(?:科室|处室|单位|部门)|的(?:部门|单位|科室|处室)$|县[(（]市、?区[)）]|县市区|功能区")
_NEEDS_NAMING_RE = re.compile(r"相关|有关")
_NOT_A_NAME_RE = re.compile(r"\d+月|[于前底]$|按要求|年度|[,，;；。:：]")
_JOINERS_RE = re.compile(r"会同|以及|会|及|和|与")
_LEADING_JOINER_RE = re.compile(r"^(?:以及|及|和|与|并|会同|由|请)")
_CLAUSE_SEPARATORS = ",，;；。\n"
MAX_NAME = 30

# The one bracket form names are stored in. The brief asked for full-width, but every name
# the rest of duban compares against (the seed, examples/departments.csv, resolve.yaml,
# workflow.directory) is written with ASCII brackets, so ASCII is what makes them match.
OPEN, CLOSE = "(", ")"
_NAME_TABLE = str.maketrans({"(": OPEN, ")": CLOSE, "（": OPEN, "）": CLOSE, "【": OPEN, "】": CLOSE})
TRAILING_SUBUNIT_RE = re.compile(r"[(（][^()（）]*[)）]$")


@dataclass
class CellParse:
    """The responsibilities of one cell, plus what was not a department."""

    responsibilities: list[Responsibility] = field(default_factory=list)
    note: str | None = None
    warnings: list[str] = field(default_factory=list)
    has_role_word: bool = False
    clean: bool = False  # every clause parsed; only a trailing instruction is left over


def normalize_name(name: str) -> str:
    """The canonical spelling of a department name: simplified, one bracket form, no spaces."""
    name = to_simplified(name).translate(_NAME_TABLE)
    return re.sub(r"\s+", "", name).strip("“”\"'‘’")


def is_group_name(name: str) -> bool:
    """A group ('各业务处室', '局属各单位', '相关处室(单位)') rather than one department."""
    return bool(_GROUP_RE.search(name))


def needs_naming(name: str) -> bool:
    """A '相关…' group: the office must say which departments it means before publishing."""
    return is_group_name(name) and bool(_NEEDS_NAMING_RE.search(name))


def is_department_name(name: str) -> bool:
    """Whether text reads as a department or group name rather than a sentence."""
    if not 2 <= len(name) <= MAX_NAME or _NOT_A_NAME_RE.search(name):
        return False
    if any(phrase in name for phrase in ("牵头", "配合", "督办")):
        return False
    base = TRAILING_SUBUNIT_RE.sub("", name) or name
    return base.endswith(DEPT_SUFFIXES) or name.endswith(DEPT_SUFFIXES)


def parse_cell(text: str, default_role: str = "implement") -> CellParse:
    """Parse a responsibility cell into fresh objects the caller may keep and change."""
    cached = _parse_cell(text, default_role)
    return CellParse(
        responsibilities=[Responsibility(r.department, r.role, r.group) for r in cached.responsibilities],
        note=cached.note,
        warnings=list(cached.warnings),
        has_role_word=cached.has_role_word,
        clean=cached.clean,
    )


@lru_cache(maxsize=4096)
def _parse_cell(text: str, default_role: str) -> CellParse:
    """Cached: a plan repeats the same few cells many times (never hand this object out)."""
    result = CellParse()
    clauses = _split_clauses(to_simplified(text))
    valid_seen = invalid_seen = False
    order_ok = True
    note_parts: list[str] = []
    for clause in clauses:
        parsed = _parse_clause(clause, default_role)
        if parsed is None:
            note_parts.append(clause)
            invalid_seen = True
            continue
        responsibilities, has_role, warnings = parsed
        order_ok = order_ok and not invalid_seen
        valid_seen = True
        result.has_role_word = result.has_role_word or has_role
        result.warnings.extend(warnings)
        for resp in responsibilities:
            if resp not in result.responsibilities:
                result.responsibilities.append(resp)
    result.clean = valid_seen and order_ok
    result.note = _note(text, note_parts) if note_parts else None
    return result


def _split_clauses(text: str) -> list[str]:
    """Split on clause separators outside brackets; also after a role word followed by 、.
    A bracketed reference ('(见附件1,下同)') is not part of any name."""
    if any(word in text for word in ("见附件", "详见", "下同", "附后")):
        text = re.sub(_REFERENCE, "", text)
    text = _ROLE_THEN_LIST_RE.sub(r"\1,", text)
    return [c.strip() for c in split_outside_brackets(text, _CLAUSE_SEPARATORS) if c.strip()]


def split_outside_brackets(text: str, separators: str) -> list[str]:
    """Split on any of `separators` except inside () [] 【】, where names keep their 、."""
    parts, depth, current = [], 0, []
    for ch in text:
        if ch in "(（[【":
            depth += 1
        elif ch in ")）]】":
            depth = max(0, depth - 1)
        if ch in separators and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _parse_clause(clause: str, default_role: str) -> tuple[list[Responsibility], bool, list[str]] | None:
    """One clause → responsibilities, whether a role word was present, warnings; None if not a clause."""
    clause = re.sub(r"\s+", "", clause)
    match = _COLON_RE.match(clause)
    if match and match["role"] not in ROLE_PHRASES and match["role"] not in COLON_LABELS:
        match = None  # '备注:…' is no label of a role
    match = match or _CLAUSE_RE.match(clause)
    if match:
        roles = ROLE_PHRASES.get(match["role"]) or COLON_LABELS[match["role"]]
        has_role, depts_text = True, match["depts"]
    else:
        roles, has_role, depts_text = (default_role,), False, clause
    names = split_departments(depts_text)
    if names is None:
        return None
    if not has_role and any(own == "lead" for _, own, _ in names):
        roles = ("cooperate",)  # 'X(牵头)、Y': the unmarked ones cooperate
    warnings: list[str] = []
    responsibilities: list[Responsibility] = []
    for name, own_role, truncated in names:
        if truncated:
            warnings.append(f"“{depts_text}”以“等”结尾，名单可能未列全，请核对")
        for role in (own_role,) if own_role else roles:
            responsibilities.append(Responsibility(name, role, is_group_name(name)))
    return responsibilities, has_role or any(own for _, own, _ in names), warnings


def split_departments(text: str) -> list[tuple[str, str | None, bool]] | None:
    """'X、及Y(牵头)等' → [(X, None, False), (Y, 'lead', True)]; None unless all are names.

    `及`, `和`, `与` and `会(同)` split only where both sides are department names, so
    '委员会办公室' and '人事和组织处' stay whole.
    """
    items: list[tuple[str, str | None, bool]] = []
    pieces = split_outside_brackets(text, "、/")
    while pieces:
        piece = _LEADING_JOINER_RE.sub("", pieces.pop(0).strip())
        # '各市、县(市、区)教育局': a piece that is no name joins the next while that makes one
        while pieces and not _name_like(piece) and _name_like(f"{piece}、{pieces[0].strip()}"):
            piece = f"{piece}、{pieces.pop(0).strip()}"
        etc = (re.match(_ETC_GROUP, piece) if "等" in piece and any(w in piece for w in ("有关", "相关", "其他", "其它"))
               else None)
        if etc and is_department_name(normalize_name(etc["group"])):
            piece = f"{etc['names']}等"
        truncated = piece.endswith("等") and len(piece) > 1
        piece = piece.removesuffix("等") if truncated else piece
        own_role = None
        paren = _PAREN_ROLE_RE.match(piece)
        if paren:
            piece, own_role = paren["name"], ROLE_PHRASES[paren["role"]][0]
        names = _split_joined(normalize_name(piece))
        if names is None:
            return None
        items.extend((name, own_role, truncated and name == names[-1]) for name in names)
    return items or None


def _name_like(piece: str) -> bool:
    name = normalize_name(_PAREN_ROLE_RE.sub(r"\g<name>", piece).removesuffix("等"))
    return is_department_name(name)


def _split_joined(piece: str) -> list[str] | None:
    """Split 'A会B', 'A及B', 'A和B' into names when both halves are names; else keep whole."""
    for match in _JOINERS_RE.finditer(piece):
        left, right = piece[: match.start()], piece[match.end():]
        if is_department_name(left):
            rest = _split_joined(right)
            if rest:
                return [left, *rest]
    return [piece] if is_department_name(piece) else None


def _note(original: str, parts: list[str]) -> str:
    """The instruction text as written: from its first clause to the end when it trails."""
    start = original.find(parts[0])
    if start >= 0 and all(p in original[start:] for p in parts):
        tail = original[start:]
        last = tail.rfind(parts[-1]) + len(parts[-1])
        return tail[:last].strip()
    return ",".join(parts)
