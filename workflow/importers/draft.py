"""Never a dead end: what may be imported as read, and the draft the office corrects when not.

The parsers return everything they understood: tasks may lack departments, and
`plan.doubts` names each place they were unsure of. This module is the one policy:

- a plan whose every task has departments, with no blocking doubt, imports (its doubts
  become warnings);
- otherwise it is refused in one sentence naming `duban plan import FILE --draft 草稿.xlsx`;
- `--draft OUT.yaml|OUT.xlsx` writes the plan with each doubtful cell marked (a
  `# 请核对:…` comment on the field's line; a yellow, commented cell), and imports nothing.

A doubt blocks when it concerns a whole row: a task the importer could not align or
renumbered (`seq` set, no field), or a row of the document it dropped or did not take for a
task (no `seq`: a page cut off mid-row, junk after the table). Importing then would lose
work without anyone noticing. A doubt about one field of a task that has departments (an
inherited merged cell, a list ending in 等, a due date read from words) is a warning: the
task is there, and the office can correct the field after import. A task without
departments always blocks: nobody would be assigned it.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workflow.errors import BadInput
from workflow.plans.model import RECURRENCES, RESPONSIBILITY_ROLES, Doubt, Plan

BLOCKING_FIELDS = (None,)  # see the module's docstring
DRAFT_SUFFIXES = (".yaml", ".yml", ".xlsx")
NO_DEPARTMENT = "未识别出落实处室"


@dataclass
class DraftReport:
    path: Path
    tasks: int
    marked: int  # cells marked for checking


def doubts_of(plan: Plan) -> list[Doubt]:
    """The plan's doubts, plus one for each task without departments the parser did not mark."""
    doubts = list(plan.doubts)
    marked = {d.seq for d in doubts if d.field in (None, "responsibilities")}
    doubts += [Doubt(NO_DEPARTMENT, t.seq, "responsibilities")
               for t in plan.tasks if not t.responsibilities and t.seq not in marked]
    return doubts


def blocking(plan: Plan) -> list[Doubt]:
    """Doubts that stop an import: a task without departments, a whole row in doubt."""
    empty = {t.seq for t in plan.tasks if not t.responsibilities}
    return [d for d in doubts_of(plan)
            if d.field in BLOCKING_FIELDS or (d.field == "responsibilities" and d.seq in empty)]


def check_importable(plan: Plan, path: Path | str) -> Plan:
    """The plan, ready to store (soft doubts added to its warnings), or one refusal sentence
    that names the --draft command."""
    hard = blocking(plan)
    if not hard:
        plan.warnings += [_warning(d) for d in plan.doubts
                          if d.message not in plan.warnings and _warning(d) not in plan.warnings]
        return plan
    name = Path(path).name
    empty = [t.seq for t in plan.tasks if not t.responsibilities]
    others = [d for d in hard if not (d.field == "responsibilities" and d.seq in empty)]
    parts = []
    if empty:
        parts.append(f"第 {_seqs(empty)} 项任务没有识别出落实处室")
    if others:
        first = others[0]
        task = f"第 {first.seq} 项任务" if first.seq is not None else ""
        if len(others) == 1:
            parts.append(f"{task or '有一处'}需要核对（{_clip(first.message)}）")
        else:
            parts.append(f"有 {len(others)} 处需要核对（如{task + '：' if task else ''}{_clip(first.message)}）")
    command = f"duban plan import {_shell_word(str(path))} --draft 草稿.xlsx"
    raise BadInput(f"{name} 中{'，'.join(parts)}，未导入：请运行 {command} 生成草稿"
                   f"（或 --draft 草稿.yaml），在标黄的单元格中改正后导入草稿。")


def _shell_word(text: str) -> str:
    """The path as typed in a shell: quoted only when the shell would split or expand it
    (shlex.quote also quotes every Chinese name)."""
    return shlex.quote(text) if re.search(r"[\s'\"$`\\!*?&;|<>(){}\[\]#~]", text) else text


def _warning(doubt: Doubt) -> str:
    return f"第 {doubt.seq} 项任务：{doubt.message}" if doubt.seq is not None else doubt.message


def _seqs(seqs: list[int], limit: int = 8) -> str:
    shown = "、".join(map(str, seqs[:limit]))
    return shown + (f" 等 {len(seqs)} " if len(seqs) > limit else "")


def _clip(text: str, limit: int = 40) -> str:
    text = " ".join(text.split()).rstrip("。")
    return text if len(text) <= limit else text[:limit] + "…"


def check_draft_path(out: Path, source: Path) -> None:
    """Refuse a draft name duban cannot write, before reading anything."""
    if out.suffix.lower() not in DRAFT_SUFFIXES:
        raise BadInput(f"--draft {out.name} 的扩展名应为 .xlsx 或 .yaml，如 --draft 草稿.xlsx。")
    if out.exists() and source.exists() and out.resolve() == source.resolve():
        raise BadInput(f"--draft 不能覆盖要导入的文件 {source.name}：请另起一个文件名，如 --draft 草稿.xlsx。")
    if out.is_dir():
        raise BadInput(f"--draft {out} 是目录：请给出文件名，如 --draft 草稿.xlsx。")
    if not out.parent.exists():
        raise BadInput(f"--draft {out} 所在的目录不存在：请先建立目录，或换一个位置。")


def write_draft(plan: Plan, out: Path, source: Path | str) -> DraftReport:
    """Write the draft (by the name's suffix) atomically; nothing is imported."""
    from workflow.reports import atomic_path

    doubts = doubts_of(plan)
    if out.suffix.lower() == ".xlsx":
        from workflow.importers.workbook import draft_bytes

        data = draft_bytes(plan, doubts, plan.warnings)
    else:
        data = draft_yaml(plan, doubts, Path(source).name).encode("utf-8")
    with atomic_path(out) as part:
        part.write_bytes(data)
    return DraftReport(out, len(plan.tasks), len(doubts))


# --------------------------------------------------------------------------- YAML


def draft_yaml(plan: Plan, doubts: list[Doubt], source: str) -> str:
    """The canonical YAML, one field per line, `# 请核对:…` on the line of each doubtful field."""
    notes: dict[tuple[int | None, str | None], list[str]] = {}
    for doubt in doubts:
        notes.setdefault((doubt.seq, doubt.field), []).append(" ".join(doubt.message.split()))
    roles = "、".join(f"{k}（{v}）" for k, v in RESPONSIBILITY_ROLES.items())
    lines = [
        f"# duban 导入草稿，来自 {source}。",
        "# 标有“# 请核对”的行是导入时没有把握的地方：改正后（注释可留可删）用 duban plan import 本文件 导入。",
        f"# role 可为：{roles}；recurrence 可为："
        + "、".join(f"{k}（{v}）" for k, v in RECURRENCES.items()) + "；due 写成 YYYY-MM-DD。",
    ]
    marked = {d.message for d in doubts}
    hints = [w for w in plan.warnings if w not in marked]
    if hints:
        lines.append("# 导入时的提示：")
        lines += [f"#   - {' '.join(w.split())}" for w in hints]
    for note in notes.pop((None, None), []) + [m for (s, f), ms in list(notes.items()) if s is None for m in ms]:
        lines.append(f"# 请核对：{note}")
    data = plan.to_dict()
    for key in ("title", "year", "issuer", "issued_on", "distribute_by", "due", "delay_rule"):
        lines.append(_field(key, data[key], notes.get((None, key))))
    lines.append("tasks:")
    for task in data["tasks"]:
        seq = task["seq"]
        lines.append("- " + _field("seq", seq, notes.get((seq, None))))
        for key in ("requirement", "responsibilities", "chapter", "section", "note", "due", "recurrence", "ongoing"):
            comment = notes.get((seq, key))
            if key == "responsibilities":
                lines += _responsibilities(task[key], comment)
            else:
                lines.append("  " + _field(key, task[key], comment))
    return "\n".join(lines) + "\n"


def _field(key: str, value: Any, comment: list[str] | None) -> str:
    return f"{key}: {_scalar(value)}" + _comment(comment)


def _comment(comment: list[str] | None) -> str:
    return f"  # 请核对：{'；'.join(comment)}" if comment else ""


def _responsibilities(items: list[dict[str, Any]], comment: list[str] | None) -> list[str]:
    if not items:
        example = "[{department: 办公室, role: lead}]"
        return [f"  responsibilities: []{_comment(comment)}，请填写处室，如 {example}"]
    lines = ["  responsibilities:" + _comment(comment)]
    for item in items:
        pairs = {"department": item["department"], "role": item["role"]}
        if item.get("group"):
            pairs["group"] = True
        lines.append("  - {" + ", ".join(f"{k}: {_scalar(v)}" for k, v in pairs.items()) + "}")
    return lines


def _scalar(value: Any) -> str:
    """One YAML scalar on one line: plain when safe, else double-quoted (JSON escapes are YAML's)."""
    import json

    import yaml

    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    dumped = yaml.safe_dump([text], allow_unicode=True, width=10**9, default_flow_style=True).strip()
    inner = dumped[1:-1]  # a one-element flow list: [scalar]
    if "\n" not in inner and not inner.startswith(("'", '"')) and "#" not in text and "{" not in text \
            and "}" not in text and "," not in text:
        return inner
    return json.dumps(text, ensure_ascii=False)
