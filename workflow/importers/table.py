"""The row model every importer reduces to, and the one function that builds a Plan from it.

Text, docx and xlsx documents all become a header (typed `Column`s, see layout.py) and
rows of cells, where a cell is text, "" (present but empty) or None (missing: merged
with the cell above, or absent from a flattened web page). `build_plan` then applies the
rules once: inherited cells, chapter and section carry-over, the plan-level deadline
cell (merged across all rows), task-level deadlines.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from workflow.errors import BadInput
from workflow.importers import deadlines, grammar
from workflow.importers.hanzi import has_traditional
from workflow.importers.layout import (
    CHAPTER_RE,
    SECTION_RE,
    SEQ_RE,
    Column,
    column_of,
    header_columns,
    is_heading,
)
from workflow.importers.preamble import PlanMeta, read_meta
from workflow.plans.model import Doubt, Plan, Responsibility, Task


# --------------------------------------------------------------------------- rows


@dataclass
class RawRow:
    """One table row: a cell per column; None = missing (merged with the row above)."""

    cells: list[str | None]
    remarks: list[str] = field(default_factory=list)  # what the reader was unsure of, said with the row's number


def row_from_placed(placed: list[list[str]]) -> RawRow:
    return RawRow(["\n".join(items) if items else None for items in placed])


@dataclass
class _State:
    """What carries from row to row: headings, and the last task for merged cells."""

    chapter: str | None = None
    section: str | None = None
    last_seq: int = 0
    prev: Task | None = None
    prev_deadline: str | None = None
    tasks: list[Task] = field(default_factory=list)


def build_plan(meta: PlanMeta, columns: list[Column], rows: list[RawRow], *, year: int | None,
               fallback_title: str | None = None, warnings: list[str] | None = None) -> Plan:
    """The Plan a header and its rows describe; `warnings` collects what the user should check."""
    warnings = list(warnings or [])
    plan_year = resolve_year(meta, year, warnings)
    title = meta.title or fallback_title
    if not title:
        title = "分工方案"
        warnings.append("未找到方案标题，已暂用“分工方案”，请在导出的 YAML 中更正")
    plan = Plan(title=title, year=plan_year, tasks=[], issuer=meta.issuer, issued_on=meta.issued_on)
    if meta.issued_on and meta.issued_on.year not in (plan_year, plan_year - 1):
        warnings.append(f"成文日期 {meta.issued_on} 与计划年度 {plan_year} 不符，请核对")
    plan_cell = _plan_level_deadline(columns, rows)
    if plan_cell is not None:
        _apply_plan_cell(plan, plan_cell, warnings)
    state = _State()
    for row in rows:
        task = _task(plan, columns, row, state, warnings, per_row_deadline=plan_cell is None)
        if task:
            state.tasks.append(task)
            state.prev, state.last_seq = task, task.seq
    if not state.tasks:
        raise BadInput("表格只有表头，没有任务行：请在表头下方至少填写一行任务。")
    plan.tasks = state.tasks
    if any(has_traditional(c or "") for r in rows for c in r.cells):
        warnings.append(TRADITIONAL_WARNING)
    plan.warnings = warnings
    plan.doubts = doubts_from_warnings(warnings, {t.seq for t in plan.tasks})
    return plan


TRADITIONAL_WARNING = "文件含繁体字，处室名称和角色词已按简体识别"

_WARNING_FIELDS = (
    ("responsibilities", ("落实处室", "责任单位", "处室名称", "“等”", "责任", "牵头")),
    ("due", ("完成时限",)),
    ("requirement", ("具体要求", "不是任务行")),
    ("recurrence", ("周期",)),
)


def doubts_from_warnings(warnings: list[str], seqs: set[int]) -> list[Doubt]:
    """One doubt per warning: the task it names (when that task is in the plan) and the
    field the warning is about, so a draft can mark that very cell."""
    doubts = []
    for warning in warnings:
        if warning == TRADITIONAL_WARNING:
            continue
        number = warning[2:].split(" ", 1)[0] if warning.startswith("第 ") else ""
        seq = int(number) if number.isdigit() and int(number) in seqs else None
        field_name = next((f for f, words in _WARNING_FIELDS if any(w in warning for w in words)), None)
        doubts.append(Doubt(warning, seq, field_name if seq is not None else None))
    return doubts


def plan_from_paragraphs(meta: PlanMeta, result, *, year: int | None, fallback_title: str | None = None,
                         warnings: list[str] | None = None) -> Plan:
    """The Plan of a paragraph-form document (paragraphs.ParaResult): same title, year and
    deadline rules as a table's."""
    warnings = list(warnings or []) + list(result.warnings)
    plan_year = resolve_year(meta, year, warnings)
    title = meta.title or fallback_title
    if not title:
        title = "分工方案"
        warnings.append("未找到方案标题，已暂用“分工方案”，请在导出的 YAML 中更正")
    plan = Plan(title=title, year=plan_year, tasks=[], issuer=meta.issuer, issued_on=meta.issued_on)
    for found in result.tasks:
        task = Task(seq=found.seq, requirement=found.requirement, responsibilities=found.responsibilities,
                    chapter=found.chapter, section=found.section)
        warnings.extend(f"第 {task.seq} 项：{w}" for w in found.warnings)
        notes: list[str] = []
        _set_deadline(plan, task, None, notes, warnings)
        task.note = "；".join(notes) or None
        plan.tasks.append(task)
    if any(has_traditional(t.requirement) for t in plan.tasks):
        warnings.append(TRADITIONAL_WARNING)
    plan.warnings = warnings
    plan.doubts = doubts_from_warnings(warnings, {t.seq for t in plan.tasks})
    return plan


def resolve_year(meta: PlanMeta, year: int | None, warnings: list[str]) -> int:
    """The document's year (title), else its issue date's, else the caller's --year."""
    found = meta.year or (meta.issued_on.year if meta.issued_on else None)
    if found and year and found != year:
        warnings.append(f"文件写明的年度为 {found}，与 --year {year} 不一致，已以文件为准")
    if not (found or year):
        raise BadInput("文件没有写明计划年度，也没有成文日期：请用 --year 指定年度，如 --year 2021。")
    chosen: int = found or year  # type: ignore[assignment]
    if not 2000 <= chosen <= 2100:
        raise BadInput(f"计划年度 {chosen} 无效：应为 2000 到 2100 之间的年份，如 --year 2021。")
    return chosen


def _index(columns: list[Column], kind: str) -> int | None:
    return next((i for i, c in enumerate(columns) if c.kind == kind), None)


def _plan_level_deadline(columns: list[Column], rows: list[RawRow]) -> str | None:
    """The 完成时限 text when it is one cell merged across all rows (written once, in row 1)."""
    at = _index(columns, "deadline")
    if at is None or len(rows) < 2:
        return None
    values = [row.cells[at] for row in rows if _has_requirement(columns, row)]
    if len(values) < 2 or not values[0]:
        return None
    if all(v in (None, "", values[0]) for v in values[1:]) and any(v in (None, "") for v in values[1:]):
        return values[0]  # written once (merged down); the same phrase on every row is per row
    return None


def _has_requirement(columns: list[Column], row: RawRow) -> bool:
    at = _index(columns, "requirement")
    return at is not None and bool(row.cells[at])


def _apply_plan_cell(plan: Plan, text: str, warnings: list[str]) -> None:
    cell = deadlines.parse_plan_cell(text, plan.year)
    plan.distribute_by, plan.due, plan.delay_rule = cell.distribute_by, cell.due, cell.delay_rule
    if not (cell.due or cell.distribute_by):
        warnings.append(f"完成时限“{_short(text)}”中没有可识别的日期，请核对")


def _task(plan: Plan, columns: list[Column], row: RawRow, state: _State, warnings: list[str],
          *, per_row_deadline: bool) -> Task | None:
    """One row → a Task, or None for a heading row (which only updates chapter/section)."""
    cells = {kind: _cell(columns, row, kind) for kind in ("seq", "task", "requirement", "deadline", "note")}
    if _is_heading_row(columns, row):
        _update_headings(state, [line for c in row.cells if c for line in c.splitlines()])
        return None
    if _is_stray_row(columns, row, cells):
        text = next(c for c in row.cells if c)
        warnings.append(f"表格中的“{_short(text)}”不是任务行（没有具体要求和落实处室），已忽略")
        return None
    numbered = _numbered_requirement(cells)
    seq = _seq(numbered[0] if numbered else cells["seq"], state, warnings)
    warnings.extend(f"第 {seq} 行{remark}" for remark in row.remarks)
    title = _update_headings(state, (cells["task"] or "").splitlines())
    requirement = numbered[1] if numbered else _requirement(cells, seq, state, warnings)
    if requirement is None:
        return None
    section = f"{state.section} / {title}" if title and state.section and state.section != title else state.section
    responsibilities, notes = _responsibilities(columns, row, seq, state, warnings)
    task = Task(seq=seq, requirement=requirement, responsibilities=responsibilities,
                chapter=state.chapter, section=section)
    if cells["note"]:
        notes.insert(0, cells["note"].strip())
    deadline_text = _row_deadline(cells["deadline"], seq, state, warnings) if per_row_deadline else None
    if not deadline_text and per_row_deadline and cells["note"] and _dated_note(cells["note"], plan.year):
        deadline_text = cells["note"]  # '11月底前完成' in 备注: the table has no deadline of its own
        warnings.append(f"第 {seq} 行的完成时限取自备注“{_short(cells['note'])}”，请核对")
    _set_deadline(plan, task, deadline_text, notes, warnings)
    task.note = "；".join(n for n in notes if n) or None
    return task


_NUMBERED = r"^\s*(\d{1,3})\s*[.、．](?!\d)\s*(?P<text>\S.*)$"  # compiled on first use


def _numbered_requirement(cells: dict[str, str | None]) -> tuple[str, str] | None:
    """(number, text) when the row has no 序号 of its own and its requirement starts with one."""
    if (cells["seq"] or "").strip() or not cells["requirement"]:
        return None
    match = re.match(_NUMBERED, cells["requirement"].strip(), re.S)
    if match:
        return match[1], "\n".join(line.strip() for line in match["text"].splitlines()).strip()
    # '2.归集整理和主动公开历史规划' in the 工作任务 column: the task's numbered title leads its requirement
    task_lines = (cells["task"] or "").strip().splitlines()
    match = re.match(_NUMBERED, task_lines[-1].strip(), re.S) if task_lines else None
    if not match:
        return None
    cells["task"] = "\n".join(task_lines[:-1]) or None
    return match[1], f"{match['text'].strip()}\n{cells['requirement'].strip()}"


def _is_stray_row(columns: list[Column], row: RawRow, cells: dict[str, str | None]) -> bool:
    """A footnote ('注:…') or a signature row under a grid table: no requirement, no departments."""
    if cells["requirement"] != "" or (cells["seq"] and SEQ_RE.match(cells["seq"].strip())):
        return False
    return any(row.cells) and not any(text for c, text in zip(columns, row.cells) if c.kind == "resp")


def _cell(columns: list[Column], row: RawRow, kind: str) -> str | None:
    """The row's cell of that kind; several 工作任务-like columns (chapter, section) join."""
    if kind == "task":
        texts = [c for column, c in zip(columns, row.cells) if column.kind == "task" and c]
        return "\n".join(texts) if texts else None
    at = _index(columns, kind)
    return None if at is None else row.cells[at]


def _is_heading_row(columns: list[Column], row: RawRow) -> bool:
    """A row holding only chapter/section lines (a full-width heading row of the table)."""
    texts = [line for c in row.cells if c for line in c.splitlines() if line.strip()]
    return bool(texts) and all(is_heading(t) for t in texts) and not _has_requirement_text(columns, row)


def _has_requirement_text(columns: list[Column], row: RawRow) -> bool:
    text = _cell(columns, row, "requirement")
    return bool(text) and not all(is_heading(t) for t in text.splitlines() if t.strip())


def _update_headings(state: _State, lines: list[str]) -> str | None:
    """Chapter/section lines update the carried headings; an unnumbered line is the row's title.

    The title becomes the section when the row has no numbered section of its own
    (row 1 of the seed: '做好财政信息公开').
    """
    title = None
    new_section = False
    for line in (line.strip() for line in lines):
        if not line:
            continue
        if CHAPTER_RE.match(line) and is_heading(line):
            state.chapter, state.section = line, None
        elif SECTION_RE.match(line) and is_heading(line):
            state.section, new_section = line, True
        else:
            title = f"{title}{line}" if title else line
    if title and not new_section:
        state.section, title = title, None
    return title


def _seq(text: str | None, state: _State, warnings: list[str]) -> int:
    expected = state.last_seq + 1
    match = re.match(r"\s*(\d{1,5})", text or "")
    if not match:
        return expected
    seq = int(match[1])
    if seq <= state.last_seq:
        warnings.append(f"第 {seq} 行序号重复或倒序，已改为 {expected}")
        return expected
    if seq > expected:
        missing = f"{expected}" if seq == expected + 1 else f"{expected}-{seq - 1}"
        warnings.append(f"序号不连续，缺少第 {missing} 行，请核对是否漏行")
    return seq


def _requirement(cells: dict[str, str | None], seq: int, state: _State, warnings: list[str]) -> str | None:
    """The row's 具体要求; leading heading lines in it (a docx cell) go to chapter/section."""
    text = cells["requirement"]
    if text:
        lines = text.splitlines()
        while len(lines) > 1 and is_heading(lines[0]):
            _update_headings(state, [lines.pop(0)])
        return "\n".join(line.strip() for line in lines).strip()
    if text is None and state.prev:
        warnings.append(f"第 {seq} 行未写具体要求，沿用第 {state.prev.seq} 行（合并单元格）")
        return state.prev.requirement
    warnings.append(f"第 {seq} 行没有具体要求，已跳过")
    return None


def _responsibilities(columns: list[Column], row: RawRow, seq: int, state: _State,
                      warnings: list[str]) -> tuple[list[Responsibility], list[str]]:
    """Responsibilities from every department column; a row with none inherits the row above."""
    found: list[Responsibility] = []
    notes: list[str] = []
    unreadable = False
    for column, text in zip(columns, row.cells):
        if column.kind != "resp" or not text or not text.strip():
            continue
        parsed = grammar.parse_cell(text.strip(), column.role or "implement")
        if not parsed.responsibilities:
            unreadable = True
            warnings.append(f"第 {seq} 行的{column.title}“{_short(text)}”无法识别，已留空："
                            f"应写成“X处牵头，Y处配合”或列出处室名称，请核对")
            continue
        if not parsed.clean:
            warnings.append(f"第 {seq} 行的{column.title}中“{parsed.note}”不是处室名称，已作为备注保留，请核对")
        warnings.extend(f"第 {seq} 行：{w}" for w in parsed.warnings)
        found.extend(r for r in parsed.responsibilities if r not in found)
        if parsed.note:
            notes.append(parsed.note)
    if found or unreadable:
        return found, notes
    if state.prev is None:
        warnings.append(f"第 {seq} 行没有落实处室，上方也没有可沿用的行，已留空：请填写落实处室")
        return [], notes
    warnings.append(f"第 {seq} 行未写落实处室，沿用第 {state.prev.seq} 行（合并单元格）")
    return [Responsibility(r.department, r.role, r.group) for r in state.prev.responsibilities], notes


def _row_deadline(text: str | None, seq: int, state: _State, warnings: list[str]) -> str | None:
    """A per-row 完成时限; a missing (merged) cell repeats the one above."""
    if text is None and state.prev_deadline:
        warnings.append(f"第 {seq} 行未写完成时限，沿用第 {state.prev.seq if state.prev else seq - 1} 行（合并单元格）")
        return state.prev_deadline
    state.prev_deadline = text or None
    return text or None


def _dated_note(note: str, year: int) -> bool:
    """A 备注 that is a deadline: short and naming a date phrase."""
    return len(note.strip()) <= 20 and deadlines.parse_deadline(note, year).due is not None


def _set_deadline(plan: Plan, task: Task, cell: str | None, notes: list[str], warnings: list[str]) -> None:
    """Task due/recurrence/ongoing from its 完成时限 cell, then from its requirement text.

    `due` is set only when it differs from the plan's default.
    """
    from_cell = deadlines.parse_deadline(cell, plan.year, cell=True)
    if cell and not from_cell.found:
        warnings.append(f"第 {task.seq} 行的完成时限“{_short(cell)}”无法识别，已按计划完成时限处理并记入备注")
        notes.append(f"完成时限：{cell.strip()}")
    from_text = deadlines.parse_deadline(task.requirement, plan.year)
    task.recurrence = from_cell.recurrence or from_text.recurrence
    if from_cell.found:  # the row's own 完成时限 rules; dates in the requirement are its content
        task.ongoing, due = from_cell.ongoing, from_cell.due
        dates = sorted({d for _, d in deadlines.find_dates(cell or "", plan.year, cell=True)})
        if len(dates) > 1:
            warnings.append(f"第 {task.seq} 行的完成时限“{_short(cell or '')}”含多个日期，已取最晚的 {dates[-1]}，请核对")
    else:
        task.ongoing = from_text.ongoing
        due = from_text.due
    task.due = None if due == plan.due else due


def _short(text: str, limit: int = 30) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


# --------------------------------------------------------------------------- grids (docx, xlsx)


@dataclass
class Grid:
    """A table as laid out: None = continuation of a vertical merge; `spans` are the
    (row, column) positions covered by a horizontal merge (their text repeats the left)."""

    rows: list[list[str | None]]
    spans: set[tuple[int, int]] = field(default_factory=set)

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)


MAX_HEADER_SEARCH = 20


def find_grid_header(grid: Grid) -> tuple[list[Column], list[int | None], int, int] | None:
    """(columns, grid position of each column, first header row, first data row) or None.

    A two-level header ('落实处室' over '牵头单位' | '配合单位') is read as one.
    """
    for r, row in enumerate(grid.rows[:MAX_HEADER_SEARCH]):
        cells = [c or "" for c in row]
        columns = header_columns(cells)
        if not columns:
            continue
        if r + 1 < len(grid.rows) and _is_sub_header(grid.rows[r + 1]):
            below = grid.rows[r + 1]
            combined = [a + (b if b and b != a else "") for a, b in zip(cells, [*below, *[None] * len(cells)])]
            two_level = header_columns(combined)
            if two_level:
                return two_level, _positions(two_level), r, r + 2
        return columns, _positions(columns), r, r + 1
    return None


def _is_sub_header(row: list[str | None]) -> bool:
    texts = [c for c in row if c]
    return bool(texts) and all(column_of(c) for c in texts) and not any(SEQ_RE.match(c) for c in texts)


def _positions(columns: list[Column]) -> list[int | None]:
    """Grid column of each Column: the real ones are in grid order, synthetic ones have none."""
    positions: list[int | None] = []
    at = 0
    for column in columns:
        positions.append(None if column.synthetic else at)
        at += 0 if column.synthetic else 1
    return positions


def rows_from_grid(grid: Grid, columns: list[Column], positions: list[int | None], start: int) -> list[RawRow]:
    """Data rows: merged-down cells stay None (inherited later), merged-across cells are ""."""
    rows = []
    for r in range(start, len(grid.rows)):
        source = grid.rows[r]
        cells: list[str | None] = []
        for position in positions:
            if position is None:
                cells.append(None)
            elif position >= len(source) or (r, position) in grid.spans:
                cells.append("")
            else:
                value = source[position]
                cells.append(None if value is None else value.strip())
        if not any(cells) or header_columns([c or "" for c in source]):
            continue
        rows.append(RawRow(cells))
    return rows


def plan_from_grids(grids: list[Grid], before: list[str], after: list[str], *, year: int | None,
                    name: str | None) -> Plan:
    """The Plan of the first table with a header; later tables as wide continue it."""
    for index, grid in enumerate(grids):
        found = find_grid_header(grid)
        if not found:
            continue
        columns, positions, header_row, data_row = found
        rows = rows_from_grid(grid, columns, positions, data_row)
        for more in grids[index + 1:]:
            if more.width == grid.width:
                rows += rows_from_grid(more, columns, positions, 0)
        title_rows = [" ".join(c for k, c in enumerate(row) if c and (r, k) not in grid.spans)
                      for r, row in enumerate(grid.rows[:header_row])]
        meta = read_meta(before + title_rows, after)
        return build_plan(meta, columns, rows, year=year, fallback_title=name)
    raise BadInput("没有找到分工表的表头：表格应有“序号”“工作任务/具体要求”“落实处室/责任单位”“完成时限”等列名。")
