"""Which column a cell belongs to: header words → typed columns, cell shapes, alignment.

Columns are found from the header cells' words, never from positions, so any column
order works. When a row's cells are not in known positions (a flattened web page, a pipe
row with fewer cells than the header because of merged cells), `align` assigns them to
columns in order by their shape: a bare number is a 序号, '一、…' a chapter, a line that
parses as departments with role words a 落实处室 cell, '7月底前' a 完成时限 cell.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from workflow.importers import deadlines, grammar
from workflow.importers.hanzi import to_simplified

# --------------------------------------------------------------------------- columns

# (kind, default role, header words). Exact matches are tried first, then containment in
# this order, so '牵头单位' is a lead column before '单位' could make it a 责任单位 one.
HEADER_WORDS: tuple[tuple[str, str | None, tuple[str, ...]], ...] = (
    ("seq", None, ("序号", "编号", "序")),
    ("resp", "lead", ("牵头单位", "牵头处室", "牵头部门", "牵头科室", "牵头")),
    ("resp", "cooperate", ("配合单位", "配合处室", "配合部门", "配合科室", "协办单位", "配合")),
    ("resp", "supervise", ("督办单位", "督办处室", "督办部门", "督办")),
    ("resp", "implement", ("落实处室", "落实单位", "落实部门", "责任单位", "责任处室", "责任科室",
                           "责任部门", "责任主体", "承办单位", "实施单位", "负责单位", "负责处室",
                           "负责科室", "负责部门", "责任股室", "负责股室", "责任分工", "分工")),
    ("deadline", None, ("完成时限", "时限要求", "完成时间", "时间节点", "完成期限", "时间要求",
                        "进度安排", "时限")),
    ("note", None, ("备注", "说明")),
    ("requirement", None, ("细化分工", "具体要求", "工作要求", "任务要求", "具体内容", "工作内容", "主要内容",
                           "任务内容", "具体措施", "工作措施", "具体任务", "工作目标", "公开内容", "要求", "内容")),
    ("task", None, ("工作任务", "重点任务", "主要任务", "工作事项", "任务名称", "任务", "事项", "项目", "类别",
                    "一级要点", "二级要点", "一级指标", "二级指标", "三级指标", "四级指标", "五级指标")),
)
# Other spellings of the same columns ('协办部门', '主责单位', '截止时间'), tried last.
_UNIT = r"(?:单位|处室|科室|部门|股室|主体|处|科|股)"
_HEADER_PATTERNS: tuple[tuple[str, str | None, str], ...] = (  # compiled on first use
    ("resp", "lead", rf"(?:牵头|主责|主办){_UNIT}"),
    ("resp", "cooperate", rf"(?:配合|协办|协同|协作|参与|协助){_UNIT}"),
    ("resp", "implement", rf"(?:责任|负责|落实|承办|实施|执行){_UNIT}"),
    ("deadline", None, r"(?:完成|截止|办结)(?:时间|日期|时限)|时间安排|进度要求|时间进度"),
)
_PATTERN_UNITS = ("单位", "处室", "科室", "部门", "股室", "主体", "处", "科", "股")
_PATTERN_WORDS = ("时间", "日期", "时限", "进度")
MAX_HEADER_CELL = 16
_PERSON_WORDS = ("领导", "负责人", "责任人", "联系人", "经办人", "分管")
# a title line or a numbered heading, not a column name
_TITLE_LIKE_RE = re.compile(r"\d{4}|(?:分解表|方案|清单|台账|一览表|通知)$|^[一二三四五六七八九十]{1,3}[、.．]|^[(（][一二三四五六七八九十]")


@dataclass(frozen=True)
class Column:
    kind: str  # seq | task | requirement | resp | deadline | note | other
    title: str
    role: str | None = None  # resp columns: the role of a bare department list
    synthetic: bool = False  # added by the importer, not in the document


def column_of(cell: str) -> Column | None:
    """The column a header cell names, or None if it is not a header word."""
    text = re.sub(r"\s+", "", to_simplified(cell or ""))
    key = re.sub(r"[(（][^()（）]*[)）]", "", text)
    if not key or len(text) > MAX_HEADER_CELL or _TITLE_LIKE_RE.search(key):
        return None
    if key.endswith(_PERSON_WORDS):
        return None  # '牵头领导', '责任人': a person, not a department column
    for kind, role, words in HEADER_WORDS:
        if key in words:
            return Column(kind, cell.strip(), role)
    for kind, role, words in HEADER_WORDS:
        if any(word in key for word in words if len(word) > 1):
            return Column(kind, cell.strip(), role)
    if key.endswith(_PATTERN_UNITS) or any(word in key for word in _PATTERN_WORDS):
        for kind, role, pattern in _HEADER_PATTERNS:
            if re.search(pattern, key):
                return Column(kind, cell.strip(), role)
    return None


def header_columns(cells: list[str], min_known: int = 2) -> list[Column] | None:
    """Columns for a header row, or None unless it names departments and a requirement."""
    columns = [column_of(c) or Column("other", (c or "").strip()) for c in cells]
    known = [c for c in columns if c.kind != "other"]
    non_empty = [c for c in cells if (c or "").strip()]
    if len(known) < min_known or len(known) < 0.6 * len(non_empty):
        return None
    kinds = {c.kind for c in known}
    unknown = [i for i, c in enumerate(columns) if c.kind == "other" and c.title]
    if "resp" in kinds and not kinds & {"requirement", "task"} and len(unknown) == 1 and len(known) >= 2:
        # '序号 | 民生实事 | 责任单位 | 完成时限': the one column of unknown name holds the tasks
        columns[unknown[0]] = Column("requirement", columns[unknown[0]].title)
        kinds.add("requirement")
    if "resp" not in kinds or not kinds & {"requirement", "task"}:
        return None
    return with_task_column(columns)


def with_task_column(columns: list[Column]) -> list[Column]:
    """Make sure there is a requirement column and a task column before it.

    A table whose only text column is 工作任务 has its requirements there; a table
    without a 工作任务 column still has chapter/section lines to put somewhere.
    """
    kinds = [c.kind for c in columns]
    levels = [i for i, c in enumerate(columns) if c.kind == "task" and "级" in c.title
              and re.search(r"[一二三四五六]级", to_simplified(c.title))]
    if levels and "requirement" in kinds and kinds.index("requirement") < levels[-1]:
        # '工作要求 | 一级要点 | 二级要点': the most detailed level is the requirement
        at = kinds.index("requirement")
        columns = [Column("task", c.title) if i == at else Column("requirement", c.title) if i == levels[-1] else c
                   for i, c in enumerate(columns)]
        kinds = [c.kind for c in columns]
    while kinds.count("requirement") > 1:  # '工作要求 | 工作任务 | 具体要求': the last is the detail
        at = kinds.index("requirement")
        columns = [*columns[:at], Column("task", columns[at].title, columns[at].role), *columns[at + 1:]]
        kinds[at] = "task"
    if "requirement" not in kinds:
        at = len(kinds) - 1 - kinds[::-1].index("task")  # the most detailed of several levels
        columns = [*columns[:at], Column("requirement", columns[at].title), *columns[at + 1:]]
        kinds[at] = "requirement"
    if "task" not in kinds:
        at = kinds.index("requirement")
        columns = [*columns[:at], Column("task", "工作任务", synthetic=True), *columns[at:]]
    return columns


# --------------------------------------------------------------------------- shapes

CHAPTER_RE = re.compile(r"^[一二三四五六七八九十]{1,3}[、.．]")
SECTION_RE = re.compile(r"^[(（][一二三四五六七八九十]{1,3}[)）]")
SEQ_RE = re.compile(r"^\d{1,4}[.、．]?$")
TERMINAL = tuple("。.!！?？;；)）」』”\"")
MAX_HEADING = 40
MAX_TITLE = 25
MAX_DEADLINE_CELL = 60
MAX_ONGOING_CELL = 16


def is_heading(text: str) -> bool:
    """A chapter ('一、…') or section ('(一)…') line: short, numbered, not a sentence."""
    text = text.strip()
    return (len(text) <= MAX_HEADING and "。" not in text[:-1]
            and bool(CHAPTER_RE.match(text) or SECTION_RE.match(text)))


@lru_cache(maxsize=8192)
def shape_of(text: str) -> str:
    """What a cell looks like: empty, seq, heading, resp, depts, deadline, title or plain."""
    text = text.strip()
    if not text:
        return "empty"
    if SEQ_RE.match(text):
        return "seq"
    if is_heading(text):
        return "heading"
    parsed = grammar.parse_cell(text)
    if parsed.clean and parsed.responsibilities:
        if parsed.has_role_word and len(parsed.note or "") * 2 <= len(text):
            return "resp"
        if not parsed.has_role_word and not parsed.note and not _sentence_like(text, parsed.responsibilities):
            return "depts"  # a bare list of names ('县住建局')
    if _cut_department_list(text):
        return "cut_depts"
    if len(text) <= MAX_DEADLINE_CELL and deadlines.has_deadline_phrase(text) and (
            len(text) <= MAX_ONGOING_CELL or deadlines.has_date(text)):
        return "deadline"  # '持续推进' is a deadline cell, '持续推进反垄断…执法信息公开' a task
    if len(text) <= MAX_TITLE and (not text.endswith(TERMINAL) or text.endswith((")", "）"))):
        return "title"  # '重点领域信息(基层政务公开标准化规范化)': a bracket closes a name, not a sentence
    return "plain"


def _cut_department_list(text: str) -> bool:
    """'市发改委、市财政局、市人社局、人民银': a department list the page cut off mid-name."""
    if text.count("、") < 2:
        return False
    pieces = [p.strip() for p in grammar.split_outside_brackets(text, "、")]
    return (len(pieces) >= 3 and not pieces[-1].endswith(TERMINAL)
            and all(grammar.is_department_name(grammar.normalize_name(p)) for p in pieces[:-1]))


def _sentence_like(text: str, names: list) -> bool:
    """'建成县残疾人综合服务中心。': one long name closed by a full stop reads as a sentence."""
    return text.endswith(("。", ".")) and len(names) == 1 and not names[0].group and len(names[0].department) >= 8


NEG = float("-inf")
# shape → column key → (score as the column's first item, score as a continuation line)
_SCORES: dict[str, dict[str, tuple[float, float]]] = {
    "seq": {"seq": (10, NEG), "requirement": (0, NEG)},
    "heading": {"task": (10, 10), "requirement": (-20, -20)},
    "resp": {"resp": (8, 6), "lead": (8, 6), "cooperate": (8, 6), "note": (1, 1), "requirement": (-5, -5)},
    "depts": {"lead": (7, 3.5), "resp": (6.5, 4), "cooperate": (6, 4), "note": (0, 0),
              "requirement": (-2, -2), "task": (-5, -5)},
    "cut_depts": {"lead": (7, 4), "resp": (6.5, 4), "cooperate": (6, 4), "note": (0, 0),
                  "requirement": (-2, -2), "task": (-5, -5)},
    "deadline": {"deadline": (8, 8), "requirement": (11, 0.5), "note": (1, 1), "task": (-5, -5)},
    "title": {"task": (3, 3), "requirement": (14, 1), "note": (2, 1), "deadline": (-5, -5)},
    "plain": {"requirement": (15, 1), "note": (2, 1), "task": (-5, -5), "deadline": (-5, -5)},
}


def _key(column: Column) -> str:
    if column.kind == "resp":
        return column.role if column.role in ("lead", "cooperate") else "resp"
    return column.kind


def _score(shape: str, column: Column, first: bool) -> float:
    if column.kind == "other" or shape == "empty":
        return 0 if first else NEG
    pair = _SCORES[shape].get(_key(column))
    if pair is None:
        return NEG
    return pair[0] if first else pair[1]


def align(items: list[str], columns: list[Column], *, multi: bool) -> list[list[str]] | None:
    """Assign items (lines or cells, in order) to columns in order, maximising shape fit.

    Columns may be skipped (merged or absent cells); with `multi`, a column may take
    several consecutive items (a cell that was several paragraphs). None if impossible.
    """
    shapes = [shape_of(item) for item in items]
    n, m = len(items), len(columns)
    best = [[NEG] * m for _ in range(n)]
    back: list[list[int]] = [[-1] * m for _ in range(n)]
    for i in range(n):
        prefix, prefix_at = (0.0, -1) if i == 0 else (NEG, -1)
        for j in range(m):
            if i > 0 and j > 0 and best[i - 1][j - 1] > prefix:
                prefix, prefix_at = best[i - 1][j - 1], j - 1
            first = prefix + _score(shapes[i], columns[j], True)
            cont = best[i - 1][j] + _score(shapes[i], columns[j], False) if i > 0 and multi else NEG
            best[i][j], back[i][j] = (first, prefix_at) if first >= cont else (cont, j)
    end = max(range(m), key=lambda j: best[n - 1][j]) if n else -1
    if n == 0 or best[n - 1][end] == NEG:
        return None
    placed: list[list[str]] = [[] for _ in range(m)]
    j = end
    for i in range(n - 1, -1, -1):  # walked back from the end: each column's items come reversed
        placed[j].append(items[i])
        j = back[i][j]
    for column in placed:
        column.reverse()
    return placed
