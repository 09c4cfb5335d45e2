"""The canonical form (what `plan export` writes): YAML or JSON, checked by plan_from_dict.

Recognised by content: a JSON object, or YAML with a top-level `tasks:` key. A user
corrects a parse by hand in this form and imports it again, so errors must point at
the line that is wrong.
"""
from __future__ import annotations

import json
import re
from typing import Any

from workflow.errors import BadInput
from workflow.plans.model import Plan, plan_from_dict

_YAML_TASKS_RE = re.compile(r"^tasks\s*:", re.MULTILINE)


def looks_canonical(text: str) -> bool:
    """A JSON object, or YAML whose top level has `tasks:` (a notice never starts a line so)."""
    stripped = text.lstrip("\ufeff \t\r\n")
    return stripped.startswith("{") or bool(_YAML_TASKS_RE.search(text)) or _json_list(stripped)


def _json_list(stripped: str) -> bool:
    """A whole JSON list (a plan wrapped in […]): canonical, refused for its top level."""
    if not stripped.startswith("["):
        return False
    try:
        return isinstance(json.loads(stripped), list)
    except (ValueError, RecursionError):
        return False


def load_canonical(text: str, year: int | None = None, source: str = "计划文件") -> Plan:
    """Parse and validate the canonical form; `year` fills in a missing year."""
    data = _parse(text, source)
    if isinstance(data, list):
        raise BadInput(f"{source}的顶层是列表：计划文件的顶层应为一个包含 title、year、tasks 的映射（JSON 对象），而不是列表。")
    if not isinstance(data, dict) or "tasks" not in data:
        raise BadInput(f"{source}不是计划格式：顶层应为包含 title、year、tasks 的映射。")
    if data.get("year") is None and not data.get("issued_on"):
        if year is None:
            raise BadInput(f"{source}没有写明 year，也没有 issued_on：请在文件中写明 year，或用 --year 指定年度。")
        data = {**data, "year": year}
    try:
        return plan_from_dict(data, source)
    except BadInput as exc:
        line = _line_of_error(text, data, exc.message)
        if line is None:
            raise
        raise BadInput(f"{exc.message.rstrip('。')}（见第 {line} 行）。") from None


def _line_of_error(text: str, data: dict, message: str) -> int | None:
    """The line to fix: of the first task that fails on its own (of the field the message
    names, when it names one), else of the top-level field named. Only on the error path:
    a draft the office edits is refused pointing at the line, not only at the task."""
    import yaml

    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    if not isinstance(root, yaml.MappingNode):
        return None
    fields = {key.value: (key, value) for key, value in root.value if isinstance(key, yaml.ScalarNode)}
    tasks = fields.get("tasks", (None, None))[1]
    if isinstance(tasks, yaml.SequenceNode) and isinstance(data.get("tasks"), list):
        probe = {"title": "-", "year": data.get("year") if isinstance(data.get("year"), int) else None,
                 "issued_on": data.get("issued_on")}
        for node, task in zip(tasks.value, data["tasks"]):
            try:
                plan_from_dict({**probe, "tasks": [task]})
            except BadInput as exc:
                if "year" in exc.message and "任务" not in exc.message:
                    break  # the plan's year, not this task
                return _line_in(node, message)
    return _line_in(root, message, top=True)


def _line_in(node: object, message: str, top: bool = False) -> int | None:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and re.search(rf"\b{re.escape(str(key.value))}\b", message):
                return key.start_mark.line + 1
    return None if top else node.start_mark.line + 1  # type: ignore[attr-defined]


def _parse(text: str, source: str) -> Any:
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise BadInput(f"{source}不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列附近有错误（{exc.msg}）。") from None
        except (ValueError, RecursionError):  # an int of thousands of digits, nesting too deep
            raise BadInput(f"{source}不是可处理的 JSON：含有位数过多的数字或嵌套过深的结构。") from None
    import yaml

    from workflow.importers.yaml_load import load_yaml

    try:
        return load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行附近" if mark else "某处"
        raise BadInput(f"{source}不是有效的 YAML：{where}格式有误，请检查缩进和冒号。") from None
