"""The canonical plan structure every importer produces and `plan export` writes.

A plan is what the office published: title, issuer, dates, and a numbered list of
tasks with their responsibilities. It is plain data (dataclasses), independent of
the database, so importers (text, docx, xlsx, yaml) can be tested on their own and
a user can correct a parse by hand in YAML and import it again.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from workflow.errors import BadInput
from workflow.names import clean_title

RESPONSIBILITY_ROLES: dict[str, str] = {
    "lead": "牵头",
    "cooperate": "配合",
    "tech_support": "技术保障",
    "supervise": "督办",
    "coordinate": "统筹",
    "implement": "落实",
}

RECURRENCES: dict[str, str] = {
    "quarterly": "按季度",
    "half_yearly": "每半年",
}

MAX_TEXT = 20_000  # longest accepted free text in a plan field (characters)
MAX_SEQ = 99_999  # task numbers beyond this are a typo or garbage (and overflow the database)


def clip_repr(value: Any, limit: int = 40) -> str:
    """repr() for a message: short, and safe for ints too long to print."""
    try:
        text = repr(value)
    except ValueError:  # an int beyond sys.get_int_max_str_digits()
        return "（位数过多的数字）"
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass
class Responsibility:
    department: str
    role: str
    group: bool = False  # a group name (各业务处室) expanded from the directory at publish


@dataclass
class Task:
    seq: int
    requirement: str
    responsibilities: list[Responsibility]
    chapter: str | None = None
    section: str | None = None
    note: str | None = None
    due: dt.date | None = None  # None: the plan's default due date
    recurrence: str | None = None  # None, "quarterly" or "half_yearly"
    ongoing: bool = False


@dataclass
class Doubt:
    """A place the importer was unsure of, so a draft can mark that very cell for checking.

    `seq` is the task it concerns (None: the plan as a whole), `field` the canonical field
    (requirement, responsibilities, due, chapter, note, recurrence; None: the whole task).
    """
    message: str
    seq: int | None = None
    field: str | None = None


@dataclass
class Plan:
    title: str
    year: int
    tasks: list[Task]
    issuer: str | None = None
    issued_on: dt.date | None = None
    distribute_by: dt.date | None = None
    due: dt.date | None = None
    delay_rule: str | None = None
    warnings: list[str] = field(default_factory=list)  # importer's report, not exported
    doubts: list[Doubt] = field(default_factory=list)  # cells to check in a draft, not exported

    def due_of(self, task: Task) -> dt.date:
        """The due date that applies to a task: its own, else the plan's, else year end."""
        return task.due or self.due or dt.date(self.year, 12, 31)

    def to_dict(self) -> dict[str, Any]:
        """The canonical form (JSON/YAML friendly, dates as ISO strings)."""
        data = asdict(self)
        data.pop("warnings")
        data.pop("doubts")
        for key in ("issued_on", "distribute_by", "due"):
            data[key] = _iso(data[key])
        for task in data["tasks"]:
            task["due"] = _iso(task["due"])
        return data


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def plan_from_dict(data: Any, source: str = "计划文件") -> Plan:
    """Validate a canonical plan dict (from YAML/JSON) and build a Plan.

    Raises BadInput naming the first field that is wrong and what would be right.
    """
    if not isinstance(data, dict):
        raise BadInput(f"{source}不是计划格式：顶层应为包含 title、year、tasks 的映射。")
    title = clean_title(_text(data, "title", source, required=True), f"{source}的 title")
    year = data.get("year")
    issued_on = _date(data.get("issued_on"), f"{source}的 issued_on")
    if year is None and issued_on:
        year = issued_on.year
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise BadInput(f"{source}的 year 应为 2000 到 2100 之间的年份，实际为 {year!r}。")
    tasks_data = data.get("tasks")
    if not isinstance(tasks_data, list) or not tasks_data:
        raise BadInput(f"{source}没有任务：tasks 应为至少包含一项任务的列表。")
    tasks = [_task(t, i, source) for i, t in enumerate(tasks_data, 1)]
    seqs = [t.seq for t in tasks]
    dupes = sorted({s for s in seqs if seqs.count(s) > 1})
    if dupes:
        raise BadInput(f"{source}中任务序号重复：{'、'.join(map(str, dupes))}；每个任务的 seq 应唯一。")
    plan = Plan(
        title=title,
        year=year,
        tasks=tasks,
        issuer=_text(data, "issuer", source),
        issued_on=issued_on,
        distribute_by=_date(data.get("distribute_by"), f"{source}的 distribute_by"),
        due=_date(data.get("due"), f"{source}的 due"),
        delay_rule=_text(data, "delay_rule", source),
    )
    for task in plan.tasks:
        if task.due and task.due.year != plan.year:
            raise BadInput(f"{source}第 {task.seq} 项任务的完成时限 {task.due} 不在计划年度 {plan.year} 内。")
    return plan


def _task(data: Any, index: int, source: str) -> Task:
    where = f"{source}第 {index} 个任务"
    if not isinstance(data, dict):
        raise BadInput(f"{where}应为映射（包含 seq、requirement、responsibilities）。")
    seq = data.get("seq", index)
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise BadInput(f"{where}的 seq 应为正整数，实际为 {clip_repr(seq)}。")
    if seq > MAX_SEQ:
        raise BadInput(f"{where}的 seq 为 {clip_repr(seq)}，超出范围：任务序号应在 1 到 {MAX_SEQ} 之间。")
    where = f"{source}第 {seq} 项任务"
    recurrence = data.get("recurrence")
    if recurrence not in (None, *RECURRENCES):
        raise BadInput(f"{where}的 recurrence 应为 quarterly 或 half_yearly，实际为 {recurrence!r}。")
    resp_data = data.get("responsibilities")
    if not isinstance(resp_data, list) or not resp_data:
        raise BadInput(f"{where}没有落实处室：responsibilities 应为至少一项 {{department, role}} 的列表。")
    return Task(
        seq=seq,
        requirement=_text(data, "requirement", where, required=True),
        responsibilities=[_responsibility(r, where) for r in resp_data],
        chapter=_text(data, "chapter", where),
        section=_text(data, "section", where),
        note=_text(data, "note", where),
        due=_date(data.get("due"), f"{where}的 due"),
        recurrence=recurrence,
        ongoing=bool(data.get("ongoing", False)),
    )


def _responsibility(data: Any, where: str) -> Responsibility:
    if not isinstance(data, dict):
        raise BadInput(f"{where}的落实处室应写成 {{department: 处室名称, role: lead}} 的形式。")
    department = _text(data, "department", where, required=True)
    role = data.get("role")
    if role not in RESPONSIBILITY_ROLES:
        allowed = "、".join(f"{k}（{v}）" for k, v in RESPONSIBILITY_ROLES.items())
        raise BadInput(f"{where}中“{department}”的 role {role!r} 无效，应为：{allowed}。")
    return Responsibility(department=department, role=role, group=bool(data.get("group", False)))


def _text(data: dict, key: str, where: str, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise BadInput(f"{where}缺少 {key}。")
        return None
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise BadInput(f"{where}的 {key} 应为文字。")
    text = str(value).strip()
    if "\x00" in text:
        raise BadInput(f"{where}的 {key} 含有空字符（NUL），请删除后重试。")
    if len(text) > MAX_TEXT:
        raise BadInput(f"{where}的 {key} 过长（{len(text)} 字），最多 {MAX_TEXT} 字。")
    return text


def _date(value: Any, where: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise BadInput(f"{where} 不是有效日期：{value!r}，应为 YYYY-MM-DD，如 2021-11-30。") from None
