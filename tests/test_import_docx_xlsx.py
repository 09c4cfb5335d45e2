"""Word and Excel plans, generated here with python-docx/openpyxl (merged cells included)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import docx
import openpyxl
import pytest

from workflow.importers import load_plan

HEADER = ["序号", "工作任务", "具体要求", "落实处室(部门)", "完成时限"]
PLAN_CELL = ("局政务公开办7月底前完善我局政务公开各项制度并分发2021年度工作任务。\n"
             "各处室(部门)于11月底前按要求落实,若无法按时完成请向局政务公开办书面说明。")
ROWS = [
    ["1", "一、紧扣“十四五”开好局起好步深化政务公开\n做好财政信息公开", "积极配合、推进单位预算、决算及相关报表公开。",
     "装财处牵头,办公室配合,科监处技术保障。", PLAN_CELL],
    ["2", "二、紧扣宏观政策落地见效深化政务公开\n(三)加强回应工作,关切回应效果", "紧紧围绕政务舆情背后的实际问题。",
     "办公室(宣传组)牵头,各业务处室配合。", ""],
    ["3", "", "建立舆情回应台账管理,按季度核查已作出的承诺落实及公开情况。", "", ""],
    ["4", "", "年底本单位门户网站实现支持互联网协议第6版", "办公室会科监处牵头落实。", ""],
]


def _seed_like_docx(path: Path, line_breaks: bool) -> Path:
    """A notice with the table: 完成时限 merged down all rows, 工作任务 and 落实处室 merged rows 2-3."""
    document = docx.Document()
    for text in ("广州市司法局关于印发2021年政务公开工作要点分工方案的通知", "机关各处室、局属各单位:",
                 "广州市司法局", "2021年7月19日", "广州市司法局2021年政务公开工作要点分工方案"):
        document.add_paragraph(text)
    table = document.add_table(rows=len(ROWS) + 1, cols=len(HEADER))
    for c, text in enumerate(HEADER):
        table.cell(0, c).text = text
    for r, row in enumerate(ROWS, 1):
        for c, text in enumerate(row):
            _set(table.cell(r, c), text, line_breaks)
    _set(table.cell(1, 4).merge(table.cell(4, 4)), PLAN_CELL, line_breaks)
    _set(table.cell(2, 1).merge(table.cell(4, 1)), ROWS[1][1], line_breaks)
    _set(table.cell(2, 3).merge(table.cell(3, 3)), ROWS[1][3], line_breaks)
    document.save(path)
    return path


def _set(cell, text: str, line_breaks: bool) -> None:
    """Write text as Word does: lines as paragraphs, or as manual line breaks in one paragraph."""
    if line_breaks:
        cell.text = text  # python-docx turns "\n" into <w:br/>
        return
    cell.text = ""
    first, *rest = text.split("\n")
    cell.paragraphs[0].text = first
    for line in rest:
        cell.add_paragraph(line)


@pytest.mark.parametrize("line_breaks", [False, True])
def test_docx_with_merged_cells(tmp_path: Path, line_breaks: bool) -> None:
    plan = load_plan(_seed_like_docx(tmp_path / "plan.docx", line_breaks))
    assert plan.title == "广州市司法局2021年政务公开工作要点分工方案"
    assert (plan.issuer, plan.issued_on, plan.year) == ("广州市司法局", dt.date(2021, 7, 19), 2021)
    assert (plan.distribute_by, plan.due) == (dt.date(2021, 7, 31), dt.date(2021, 11, 30))
    assert plan.delay_rule == "若无法按时完成请向局政务公开办书面说明"
    t1, t2, t3, t4 = plan.tasks
    assert t1.requirement == "积极配合、推进单位预算、决算及相关报表公开。"
    assert (t1.chapter, t1.section) == ("一、紧扣“十四五”开好局起好步深化政务公开", "做好财政信息公开")
    assert [(r.department, r.role) for r in t1.responsibilities] == [
        ("装财处", "lead"), ("办公室", "cooperate"), ("科监处", "tech_support")]
    assert t3.responsibilities == t2.responsibilities
    assert (t3.chapter, t3.section) == (t2.chapter, "(三)加强回应工作,关切回应效果")
    assert t3.recurrence == "quarterly"
    assert t4.due == dt.date(2021, 12, 31)
    assert [(r.department, r.role) for r in t4.responsibilities] == [("办公室", "lead"), ("科监处", "lead")]
    assert plan.warnings == ["第 3 行未写落实处室，沿用第 2 行（合并单元格）"]


def test_docx_two_level_header_and_heading_rows(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("某市司法局2022年政务公开工作任务分解表")
    table = document.add_table(rows=6, cols=4)
    table.cell(0, 0).merge(table.cell(1, 0)).text = "序号"
    table.cell(0, 1).merge(table.cell(1, 1)).text = "具体要求"
    table.cell(0, 2).merge(table.cell(0, 3)).text = "责任单位"
    table.cell(1, 2).text, table.cell(1, 3).text = "牵头单位", "配合单位"
    table.cell(2, 0).merge(table.cell(2, 3)).text = "一、加强决策公开"
    for r, (seq, req, lead, coop) in enumerate(
            [("1", "公开重大行政决策事项目录。", "办公室", "法规处、装财处"),
             ("2", "做好决策草案意见征集。", "法规处", "")], 3):
        for c, text in enumerate((seq, req, lead, coop)):
            table.cell(r, c).text = text
    table.cell(5, 0).merge(table.cell(5, 3)).text = "二、加强执行公开"
    path = tmp_path / "two-level.docx"
    document.save(path)
    plan = load_plan(path)
    assert plan.year == 2022 and [t.seq for t in plan.tasks] == [1, 2]
    assert plan.tasks[0].chapter == "一、加强决策公开"
    assert [(r.department, r.role) for r in plan.tasks[0].responsibilities] == [
        ("办公室", "lead"), ("法规处", "cooperate"), ("装财处", "cooperate")]
    assert [(r.department, r.role) for r in plan.tasks[1].responsibilities] == [("法规处", "lead")]


def _xlsx(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["说明"])  # an unrelated first sheet must not stop the search
    data = workbook.create_sheet("分工表")
    data.append(["某市司法局2022年政务公开工作要点分工方案"])
    data.merge_cells("A1:F1")
    data.append(["序号", "工作任务", "具体要求", "牵头处室", "配合处室", "完成时限"])
    data.append([1, "一、深化决策公开", "公开重大行政决策事项目录。", "办公室", "法规处、装财处", dt.datetime(2022, 9, 30)])
    data.append([2, None, "开展政策解读。", "法规处", "办公室", "每季度"])
    data.append([3, None, "完成年度报告。", None, None, "持续推进"])
    data.append([4.0, "二、加强平台建设", "建设政务公开专区。", "科监处", None, "年底前"])
    data.append(["注:牵头处室对任务完成情况负总责。"])
    data.merge_cells("A7:F7")
    data.merge_cells("B3:B5")
    data.merge_cells("D4:D5")
    data.merge_cells("E4:E5")
    workbook.save(path)
    return path


def test_xlsx_with_merged_ranges_and_typed_cells(tmp_path: Path) -> None:
    plan = load_plan(_xlsx(tmp_path / "plan.xlsx"))
    assert plan.title == "某市司法局2022年政务公开工作要点分工方案" and plan.year == 2022
    assert plan.issuer == "某市司法局"
    assert [t.seq for t in plan.tasks] == [1, 2, 3, 4]
    t1, t2, t3, t4 = plan.tasks
    assert t1.due == dt.date(2022, 9, 30)
    assert [(r.department, r.role) for r in t1.responsibilities] == [
        ("办公室", "lead"), ("法规处", "cooperate"), ("装财处", "cooperate")]
    assert t2.recurrence == "quarterly" and t2.chapter == "一、深化决策公开"
    assert t3.responsibilities == t2.responsibilities and t3.ongoing
    assert t4.chapter == "二、加强平台建设" and t4.due == dt.date(2022, 12, 31)
    assert [(r.department, r.role) for r in t4.responsibilities] == [("科监处", "lead")]
    assert plan.warnings == [
        "第 3 行未写落实处室，沿用第 2 行（合并单元格）",
        "表格中的“注:牵头处室对任务完成情况负总责。”不是任务行（没有具体要求和落实处室），已忽略",
    ]


def test_xlsx_detected_by_content_not_name(tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "plan.xlsx").rename(tmp_path / "plan.txt")
    assert len(load_plan(path).tasks) == 4


def test_docx_detected_by_content_not_name(tmp_path: Path) -> None:
    path = _seed_like_docx(tmp_path / "plan.docx", False).rename(tmp_path / "下载")
    assert len(load_plan(path).tasks) == 4


# ---------------------------------------------------------------- the whole seed as Word and Excel

MERGED_DOWN = ("resp", "deadline")  # the cells the published table merges vertically


def _seed_table():
    """The seed's preamble lines, columns and 28 rows as the text importer reads them
    (None = a cell merged with the one above: 落实处室 of rows 9, 11, 28; 完成时限 of 2-28)."""
    from workflow.importers.text import _line_rows, _split_body, clean_lines, find_header

    lines = clean_lines((Path(__file__).resolve().parents[1] / "examples" / "gz-sfj-2021.txt").read_text("utf-8"))
    header = find_header(lines)
    body, _ = _split_body(lines[header.end:])
    return lines[:header.start], header.columns, _line_rows(body, header, [])


def _merge_spans(rows, c: int) -> list[tuple[int, int]]:
    """(first, last) row indexes of each vertical merge in column c."""
    spans: list[list[int]] = []
    for i, row in enumerate(rows):
        if row.cells[c] is not None:
            spans.append([i, i])
        elif spans:
            spans[-1][1] = i
    return [(first, last) for first, last in spans if last > first]


def _seed_docx(path: Path) -> Path:
    preamble, columns, rows = _seed_table()
    document = docx.Document()
    for text in preamble:
        document.add_paragraph(text)
    table = document.add_table(rows=len(rows) + 1, cols=len(columns))
    for c, column in enumerate(columns):
        table.cell(0, c).text = column.title
        for r, row in enumerate(rows, 1):
            table.cell(r, c).text = row.cells[c] or ""
        if column.kind in MERGED_DOWN:
            for first, last in _merge_spans(rows, c):
                table.cell(first + 1, c).merge(table.cell(last + 1, c))
    document.save(path)
    return path


def _seed_xlsx(path: Path) -> Path:
    from openpyxl.utils import get_column_letter

    preamble, columns, rows = _seed_table()
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for text in preamble:
        sheet.append([text])
    sheet.append([c.title for c in columns])
    top = sheet.max_row + 1
    for row in rows:
        sheet.append(row.cells)
    for c, column in enumerate(columns):
        if column.kind in MERGED_DOWN:
            letter = get_column_letter(c + 1)
            for first, last in _merge_spans(rows, c):
                sheet.merge_cells(f"{letter}{top + first}:{letter}{top + last}")
    workbook.save(path)
    return path


@pytest.mark.parametrize("build", [_seed_docx, _seed_xlsx], ids=["docx", "xlsx"])
def test_the_seed_as_word_or_excel_is_the_same_plan_as_the_text(tmp_path: Path, build) -> None:
    text = load_plan(Path(__file__).resolve().parents[1] / "examples" / "gz-sfj-2021.txt")
    plan = load_plan(build(tmp_path / "seed.bin"))  # detected by content, not name
    assert plan.to_dict() == text.to_dict() and len(plan.tasks) == 28
    assert plan.warnings == text.warnings
