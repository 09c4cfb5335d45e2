"""The plan workbook: the Excel form offices fill in, that `plan export --format xlsx` and
`plan import --draft 草稿.xlsx` write, and that the Excel importer reads cell by cell.

One sheet “分工方案”: the plan's own cells above (方案标题, 年度, 发文单位, 成文日期,
下发时限, 方案完成时限, 延期规则, label in column A and value in B), then the header
序号 | 工作任务 | 具体要求 | 牵头单位 | 配合单位 | 其他职责 | 完成时限 | 周期 | 备注 and one row
per task. A row holding only a heading (in 序号 or 工作任务, nothing else) starts a chapter;
工作任务 is the task's section. A second sheet “填写说明” explains each column.

The form is read exactly (no guessing): a cell that does not say what its column asks for
is refused with its sheet, row and column, so the office knows which cell to change. The
rules of what a plan may hold stay in `plan_from_dict`: this module only maps cells to the
canonical dict and back.

openpyxl is imported only when a workbook is read or written.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from workflow.errors import BadInput
from workflow.plans.model import RECURRENCES, RESPONSIBILITY_ROLES, Doubt, Plan, plan_from_dict

SHEET = "分工方案"
NOTES_SHEET = "填写说明"
CHECK_SHEET = "核对清单"
COLUMNS = ("序号", "工作任务", "具体要求", "牵头单位", "配合单位", "其他职责", "完成时限", "周期", "备注")
WIDTHS = (7, 20, 52, 18, 18, 18, 13, 8, 18)
META = (  # (label, canonical key)
    ("方案标题", "title"),
    ("年度", "year"),
    ("发文单位", "issuer"),
    ("成文日期", "issued_on"),
    ("下发时限", "distribute_by"),
    ("方案完成时限", "due"),
    ("延期规则", "delay_rule"),
)
HEADER_ROW = len(META) + 2  # one blank row between the plan's cells and the table
FIRST_ROW = HEADER_ROW + 1
TEMPLATE_ROWS = 200  # rows formatted (borders, wrap, validation) in a blank template
ONGOING = "持续推进"
OTHER_ROLES = {label: role for role, label in RESPONSIBILITY_ROLES.items()}
RECURRENCE_WORDS = {"按季度": "quarterly", "每季度": "quarterly", "每半年": "half_yearly", "按半年": "half_yearly"}
# Which column a doubt about a canonical field marks (None: the whole task → its 序号 cell).
FIELD_COLUMN = {"requirement": "具体要求", "responsibilities": "牵头单位", "due": "完成时限",
                "chapter": "工作任务", "section": "工作任务", "note": "备注", "recurrence": "周期", None: "序号"}
YELLOW = "FFFF00"
_SPLIT_RE = re.compile("[\u3001,\uff0c;\uff1b\n]+")
_ENTRY_RE = re.compile("[;\uff1b\n]+")
_ISO_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_CHAPTER_LINE_RE = re.compile(r"^[一二三四五六七八九十]{1,3}[、.．]")
_SEQ_RE = re.compile(r"^\d{1,5}$")

NOTES = (
    ("序号", "任务序号，从 1 起的整数，不可重复；留空则接上一行的序号加 1。"),
    ("工作任务", "任务所属的工作事项（小标题），如“做好财政信息公开”；可留空。"
     "要开始新的一章，可另起一行，只在“序号”或“工作任务”中写章标题（如“一、深化决策公开”），其余单元格留空。"),
    ("具体要求", "任务的具体内容，必填。单元格内可以换行。"),
    ("牵头单位", "牵头的处室（部门），多个用顿号“、”分隔，如“办公室、装财处”。"
     "也可写群组，如“各业务处室”“相关处室”（下发前由政务公开办指定具体处室）。"),
    ("配合单位", "配合的处室，写法同“牵头单位”。"),
    ("其他职责", "牵头、配合以外的职责，写成“职责：处室”，多项用分号“；”分隔，"
     "如“技术保障：科监处；督办：局政务公开办”。可用的职责：技术保障、督办、统筹、落实"
     "（“落实”即责任单位、负责落实）。"),
    ("完成时限", "本任务的完成日期，如 2021-06-30（日期格式或文字均可），"
     "或“6月底前”“年底前”“持续推进”；留空则按方案完成时限（未写则为年底）。"),
    ("周期", "需要定期报送的任务选“按季度”或“每半年”，否则留空（单元格有下拉列表）。"),
    ("备注", "其他说明，可留空。"),
    ("方案标题、年度", "表格上方的方案信息：方案标题必填；年度为 2000 到 2100 之间的年份，未填时从标题中的年份推断。"),
    ("成文日期、下发时限、方案完成时限", "日期，如 2021-07-19；可留空。方案完成时限是未写完成时限的任务的默认时限。"),
    ("标黄的单元格", "导入草稿中需要核对的单元格标为黄色，并附批注说明原因；改正后不必去掉黄色，直接导入即可。"),
)


@dataclass
class Mark:
    """A cell the office must check in a draft: task `seq` (None: the plan), column, reason."""

    seq: int | None
    column: str
    message: str


# --------------------------------------------------------------------------- writing


def template_bytes() -> bytes:
    """A blank plan workbook: the plan's cells, the header, formatted empty rows, notes."""
    return _workbook(None, [], [])


def export_bytes(plan: Plan) -> bytes:
    """The plan in workbook form; importing it gives the same plan."""
    return _workbook(plan, [], [])


def draft_bytes(plan: Plan, doubts: Iterable[Doubt], warnings: Iterable[str]) -> bytes:
    """The plan in workbook form with each doubtful cell yellow and commented."""
    doubts = list(doubts)
    marks = [Mark(d.seq, FIELD_COLUMN.get(d.field, "序号"),
                  d.message + ("，请填写牵头单位或配合单位" if d.field == "responsibilities" else ""))
             for d in doubts]
    marked = {mark.message for mark in marks} | {d.message for d in doubts}
    return _workbook(plan, marks, [w for w in warnings if w not in marked])


def write_template(out: Path) -> None:
    _write(out, template_bytes())


def write_export(plan: Plan, out: Path) -> None:
    _write(out, export_bytes(plan))


def _write(out: Path, data: bytes) -> None:
    """Write atomically (a half-written workbook never replaces a good one)."""
    from workflow.reports import atomic_path

    if out.suffix.lower() != ".xlsx":
        raise BadInput(f"{out.name} 的扩展名应为 .xlsx，如 分工方案模板.xlsx。")
    if out.is_dir() or not out.parent.exists():
        raise BadInput(f"无法写入 {out}：请给出已存在的目录中的文件名，如 分工方案模板.xlsx。")
    with atomic_path(out) as part:
        part.write_bytes(data)


def _workbook(plan: Plan | None, marks: list[Mark], warnings: list[str]) -> bytes:
    import io

    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.datavalidation import DataValidation

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = SHEET
    font = Font(name="宋体", size=11)
    bold = Font(name="宋体", size=11, bold=True)
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    yellow = PatternFill("solid", start_color=YELLOW, end_color=YELLOW)
    grey = PatternFill("solid", start_color="D9D9D9", end_color="D9D9D9")
    light = PatternFill("solid", start_color="F2F2F2", end_color="F2F2F2")

    for k, width in enumerate(WIDTHS):
        sheet.column_dimensions[_letter(k + 1)].width = width
    data = plan.to_dict() if plan else {}
    for r, (label, key) in enumerate(META, 1):
        head = sheet.cell(r, 1, label)
        head.font, head.fill = bold, light
        head.alignment = Alignment(vertical="center")
        value = sheet.cell(r, 3, _meta_value(data.get(key), key))
        value.font = Font(name="宋体", size=14, bold=True) if key == "title" else font
        value.alignment = Alignment(wrap_text=True, vertical="center", horizontal="left")
        if key in ("issued_on", "distribute_by", "due"):
            value.number_format = "yyyy-mm-dd"
        sheet.merge_cells(start_row=r, start_column=1, end_row=r, end_column=2)
        sheet.merge_cells(start_row=r, start_column=3, end_row=r, end_column=len(COLUMNS))
        for c in range(1, len(COLUMNS) + 1):
            sheet.cell(r, c).border = border
        sheet.row_dimensions[r].height = 24 if key == "title" else 16
    for c, name in enumerate(COLUMNS, 1):
        cell = sheet.cell(HEADER_ROW, c, name)
        cell.font, cell.fill, cell.border = bold, grey, border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.freeze_panes = sheet.cell(FIRST_ROW, 1)

    rows = _rows(plan) if plan else []
    row_of_seq: dict[int, int] = {}
    for offset, row in enumerate(rows):
        r = FIRST_ROW + offset
        if isinstance(row, str):  # a chapter heading row
            cell = sheet.cell(r, 1, row)
            cell.font, cell.fill, cell.alignment = bold, light, Alignment(vertical="center")
            sheet.merge_cells(start_row=r, start_column=1, end_row=r, end_column=len(COLUMNS))
            for c in range(1, len(COLUMNS) + 1):
                sheet.cell(r, c).border = border
            continue
        row_of_seq[row[0]] = r
        for c, value in enumerate(row, 1):
            cell = sheet.cell(r, c, value)
            cell.font, cell.border, cell.alignment = font, border, wrap
            if isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
        sheet.row_dimensions[r].height = 15 * _lines(row)
    last = FIRST_ROW + max(len(rows), TEMPLATE_ROWS) - 1
    for r in range(FIRST_ROW + len(rows), last + 1):
        for c in range(1, len(COLUMNS) + 1):
            cell = sheet.cell(r, c)
            cell.font, cell.border, cell.alignment = font, border, wrap
    period = _letter(COLUMNS.index("周期") + 1)
    validation = DataValidation(type="list", formula1='"按季度,每半年"', allow_blank=True,
                                showErrorMessage=True, errorTitle="周期",
                                error="周期只能选“按季度”或“每半年”，不定期的任务请留空。")
    validation.add(f"{period}{FIRST_ROW}:{period}{last}")
    sheet.add_data_validation(validation)
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    _fit_width(sheet)

    check_rows = []
    for mark in marks:
        if mark.seq is None:
            r, c = 1, 3
        elif mark.seq in row_of_seq:
            r, c = row_of_seq[mark.seq], COLUMNS.index(mark.column) + 1
        else:
            continue
        cell = sheet.cell(r, c)
        cell.fill = yellow
        text = f"请核对：{mark.message}"
        cell.comment = Comment(f"{cell.comment.text}\n{text}" if cell.comment else text, "duban", width=320, height=120)
        check_rows.append((f"{_letter(c)}{r}", "方案" if mark.seq is None else f"第 {mark.seq} 项",
                           "方案标题" if mark.seq is None else mark.column, mark.message))

    _notes_sheet(book.create_sheet(NOTES_SHEET), bold, font, border, wrap, grey)
    if marks or warnings:
        _check_sheet(book.create_sheet(CHECK_SHEET), check_rows, warnings, bold, font, border, wrap, grey)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _notes_sheet(sheet: Any, bold: Any, font: Any, border: Any, wrap: Any, grey: Any) -> None:
    sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width = 22, 90
    sheet.cell(1, 1, "分工方案填写说明").font = bold
    sheet.cell(2, 1, "在“分工方案”工作表中每行填写一项任务，填好后用 duban plan import 文件名.xlsx 导入。").font = font
    for c, text in enumerate(("列", "填写说明"), 1):
        cell = sheet.cell(4, c, text)
        cell.font, cell.fill, cell.border = bold, grey, border
    for r, (name, text) in enumerate(NOTES, 5):
        head, body = sheet.cell(r, 1, name), sheet.cell(r, 2, text)
        head.font, body.font = bold, font
        head.border = body.border = border
        head.alignment = body.alignment = wrap
        sheet.row_dimensions[r].height = 15 * _lines([name, text], (22, 90))
    _fit_width(sheet)


def _fit_width(sheet: Any) -> None:
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def _check_sheet(sheet: Any, rows: list[tuple[str, str, str, str]], warnings: list[str],
                 bold: Any, font: Any, border: Any, wrap: Any, grey: Any) -> None:
    for k, width in enumerate((10, 10, 12, 80)):
        sheet.column_dimensions[_letter(k + 1)].width = width
    sheet.cell(1, 1, "导入时需要核对的单元格（在“分工方案”中标为黄色）").font = bold
    for c, text in enumerate(("单元格", "任务", "列", "原因"), 1):
        cell = sheet.cell(2, c, text)
        cell.font, cell.fill, cell.border = bold, grey, border
    r = 3
    for row in rows:
        for c, value in enumerate(row, 1):
            cell = sheet.cell(r, c, value)
            cell.font, cell.border, cell.alignment = font, border, wrap
        sheet.row_dimensions[r].height = 15 * _lines(list(row), (10, 10, 12, 80))
        r += 1
    if warnings:
        r += 1
        sheet.cell(r, 1, "导入时的提示").font = bold
        for text in warnings:
            r += 1
            cell = sheet.cell(r, 1, text)
            cell.font = font
    _fit_width(sheet)


def _meta_value(value: Any, key: str) -> Any:
    if value is None:
        return None
    if key in ("issued_on", "distribute_by", "due"):
        return dt.date.fromisoformat(value)
    return value


def _rows(plan: Plan) -> list[Any]:
    """Table rows: a chapter heading (str) where the chapter changes, else a task's cells."""
    rows: list[Any] = []
    chapter: str | None = None
    for task in plan.tasks:
        if task.chapter != chapter and task.chapter:
            rows.append(task.chapter)
        chapter = task.chapter
        names = {role: "、".join(r.department for r in task.responsibilities if r.role == role)
                 for role in RESPONSIBILITY_ROLES}
        others = "；".join(f"{RESPONSIBILITY_ROLES[role]}：{names[role]}" for role in RESPONSIBILITY_ROLES
                          if role not in ("lead", "cooperate") and names[role])
        if task.due and task.ongoing:
            due: Any = f"{task.due.isoformat()}({ONGOING})"
        elif task.ongoing:
            due = ONGOING
        else:
            due = task.due
        rows.append([task.seq, task.section, task.requirement, names["lead"] or None, names["cooperate"] or None,
                     others or None, due, RECURRENCES.get(task.recurrence or "") or None, task.note])
    return rows


def _lines(row: list[Any], widths: tuple[int, ...] = WIDTHS) -> int:
    """Lines the tallest cell of a row wraps to (openpyxl does not size rows; Excel and
    LibreOffice keep a row one line high unless told)."""
    most = 1
    for value, width in zip(row, widths):
        if isinstance(value, str):
            # a CJK character is about two width units; 1.1 for the cell's padding
            lines = sum(-(-int(sum(2 if ord(ch) > 0x2E7F else 1 for ch in line) * 1.2) // width) or 1
                        for line in value.splitlines() or [""])
            most = max(most, lines)
    return min(most, 30)


def _letter(column: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(column)


# --------------------------------------------------------------------------- reading


def header_at(rows: list[list[str]]) -> int | None:
    """Index of the row holding this form's header, None when the sheet is another table.

    Every heading in the row is one of the form's column names, with 具体要求 and 牵头单位
    among them (an office may delete or reorder columns it does not use)."""
    for index, row in enumerate(rows[:30]):
        names = [c.strip() for c in row if c and c.strip()]
        if "具体要求" in names and "牵头单位" in names and all(n in COLUMNS for n in names) \
                and len(set(names)) == len(names):
            return index
    return None


def read_sheet(rows: list[list[str | None]], header: int, *, sheet: str, year: int | None,
               name: str | None) -> Plan:
    """The Plan in a sheet of this form. `rows` are the cells as text ("" empty), merged cells
    already holding the text of their top-left cell; `header` is the header row's index."""
    where = f"工作表“{sheet}”"
    if not any(c and c.strip() for row in rows[header + 1:] for c in row):
        raise BadInput(f"{where}的表头下没有任务：请在第 {header + 2} 行起每行填写一项任务（至少填写具体要求和牵头单位）。")
    data: dict[str, Any] = {}
    for r in range(header):
        row = rows[r]
        label = (row[0] or "").strip().rstrip(":\uff1a") if row else ""
        key = dict(META).get(label)
        if key:  # the value: the first cell right of the label (merged cells repeat the label)
            data[key] = next((c.strip() for c in row[1:] if c and c.strip() and c.strip() != row[0].strip()), None)
    columns = {(c or "").strip(): k for k, c in enumerate(rows[header]) if c and c.strip()}
    meta_year = data.get("year")
    if meta_year:
        if not re.fullmatch(r"\d{4}", meta_year):
            raise BadInput(f"{where}的“年度”（{meta_year}）应为四位数字年份，如 2021。")
        data["year"] = int(meta_year)
    else:
        found = re.search(r"(20\d\d)\s*年", data.get("title") or "")
        data["year"] = int(found[1]) if found else year
    if not data.get("title"):
        if not name:
            raise BadInput(f"{where}的“方案标题”（C1 单元格）未填写：请填写方案标题后再导入。")
        data["title"] = name
    if data["year"] is None and not data.get("issued_on"):
        raise BadInput(f"{where}的“年度”（C2 单元格）未填写，标题中也没有年份：请填写年度，或用 --year 指定。")
    for key in ("issued_on", "distribute_by", "due"):
        if data.get(key):
            data[key] = _date_cell(data[key], f"{where}的“{dict((k, l) for l, k in META)[key]}”")
    plan_year = data["year"] or int(str(data["issued_on"])[:4])
    tasks: list[dict[str, Any]] = []
    chapter: str | None = None
    last_seq = 0
    for r in range(header + 1, len(rows)):
        cells = {col: (rows[r][k] if k < len(rows[r]) else None) or "" for col, k in columns.items()}
        cells = {col: text.strip() for col, text in cells.items()}
        at = f"{where}第 {r + 1} 行"
        if not any(cells.values()):
            continue
        heading = _heading(cells)
        if heading is not None:
            chapter = heading
            continue
        if not cells.get("具体要求"):
            raise BadInput(f"{at}没有填写“具体要求”：请填写该任务的具体要求，或删除这一行。")
        seq_text = cells.get("序号", "")
        if seq_text:
            if not _SEQ_RE.match(seq_text):
                raise BadInput(f"{at}的“序号”“{_short(seq_text)}”应为正整数，如 {last_seq + 1}。")
            seq = int(seq_text)
        else:
            seq = last_seq + 1
        last_seq = seq
        at = f"{where}第 {r + 1} 行（序号 {seq}）"
        task: dict[str, Any] = {"seq": seq, "requirement": cells["具体要求"], "chapter": chapter, "section": None}
        section = cells.get("工作任务") or None
        if section:
            lines = [line.strip() for line in section.splitlines() if line.strip()]
            if len(lines) > 1 and _CHAPTER_LINE_RE.match(lines[0]):
                task["chapter"], section = lines[0], "\n".join(lines[1:])
            task["section"] = section
        task["responsibilities"] = _responsibilities(cells, at)
        _deadline(task, cells.get("完成时限", ""), plan_year, data.get("due"), at)
        period = cells.get("周期", "")
        if period:
            if period not in RECURRENCE_WORDS:
                raise BadInput(f"{at}的“周期”“{_short(period)}”无效：应为“按季度”“每半年”或留空。")
            task["recurrence"] = RECURRENCE_WORDS[period]
        task["note"] = cells.get("备注") or None
        tasks.append(task)
    if not tasks:
        raise BadInput(f"{where}的表头下没有任务：请在第 {header + 2} 行起每行填写一项任务（至少填写具体要求和牵头单位）。")
    data["tasks"] = tasks
    return plan_from_dict(data, where)


def _heading(cells: dict[str, str]) -> str | None:
    """A chapter heading row: one text, in 序号 or 工作任务 only, or merged across the row."""
    filled = {col: text for col, text in cells.items() if text}
    texts = set(filled.values())
    if len(texts) != 1 or _SEQ_RE.match(next(iter(texts))):
        return None
    if set(filled) <= {"序号", "工作任务"} or len(filled) == len(cells):
        return next(iter(texts))
    return None


def _names(text: str) -> list[str]:
    return [n.strip() for n in _SPLIT_RE.split(text) if n.strip()]


def _responsibilities(cells: dict[str, str], at: str) -> list[dict[str, Any]]:
    from workflow.importers.grammar import is_group_name

    found: list[tuple[str, str]] = []
    for column, role in (("牵头单位", "lead"), ("配合单位", "cooperate")):
        found += [(n, role) for n in _names(cells.get(column, ""))]
    for entry in _ENTRY_RE.split(cells.get("其他职责", "")):
        entry = entry.strip()
        if not entry:
            continue
        label, _, names = re.sub("[:\uff1a]", ":", entry).partition(":")
        role = OTHER_ROLES.get(label.strip())
        if role is None or not _names(names):
            allowed = "、".join(v for k, v in RESPONSIBILITY_ROLES.items() if k not in ("lead", "cooperate"))
            raise BadInput(f"{at}的“其他职责”“{_short(entry)}”应写成“职责：处室”，如“技术保障：科监处”；可用的职责：{allowed}。")
        found += [(n, role) for n in _names(names)]
    if not found:
        raise BadInput(f"{at}没有填写处室：请在“牵头单位”“配合单位”或“其他职责”中至少填写一个处室。")
    seen: list[tuple[str, str]] = []
    for pair in found:
        if pair not in seen:
            seen.append(pair)
    return [{"department": n, "role": role, "group": is_group_name(n)} for n, role in seen]


def _deadline(task: dict[str, Any], text: str, year: int, plan_due: Any, at: str) -> None:
    """完成时限: a date (cell or ISO text), optionally (持续推进); or a phrase the deadline
    reader knows (6月底前, 年底前, 持续推进); empty = the plan's."""
    if not text:
        return
    if text == ONGOING:  # what export writes for an ongoing task due with the plan
        task["ongoing"] = True
        return
    iso = _ISO_RE.search(text)
    if iso:
        rest = (text[:iso.start()] + text[iso.end():]).strip().strip("()\uff08\uff09")
        if rest not in ("", ONGOING, "00:00:00"):
            raise BadInput(f"{at}的“完成时限”“{_short(text)}”无法识别：应为日期（如 {year}-06-30）、“6月底前”“年底前”“持续推进”或留空。")
        task["due"] = _date_cell(iso[0], f"{at}的“完成时限”")
        task["ongoing"] = rest == ONGOING
    else:
        from workflow.importers.deadlines import parse_deadline

        found = parse_deadline(text, year, cell=True)
        if not found.found:
            raise BadInput(f"{at}的“完成时限”“{_short(text)}”无法识别：应为日期（如 {year}-06-30）、“6月底前”“年底前”“持续推进”或留空。")
        task["due"] = found.due.isoformat() if found.due else None
        task["ongoing"] = found.ongoing
        if found.recurrence:
            task["recurrence"] = found.recurrence
    if task.get("due") and plan_due and str(task["due"]) == str(plan_due):
        task["due"] = None  # the plan's own deadline: stored once, on the plan


def _date_cell(text: str, where: str) -> str:
    found = _ISO_RE.fullmatch(text.split(" ")[0].strip()) or _ISO_RE.fullmatch(text.strip())
    if not found:
        raise BadInput(f"{where}“{_short(text)}”不是日期：应写成 YYYY-MM-DD，如 2021-11-30。")
    try:
        return dt.date(int(found[1]), int(found[2]), int(found[3])).isoformat()
    except ValueError:
        raise BadInput(f"{where}“{_short(text)}”不是有效日期：应写成 YYYY-MM-DD，如 2021-11-30。") from None


def _short(text: str, limit: int = 30) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "…"
