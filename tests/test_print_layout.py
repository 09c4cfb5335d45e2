"""What a clerk gets on paper: the xlsx 打印版, the html print stylesheet and the annual
section's .docx, checked in the files themselves (page setup, fonts, row heights,
borders, repeated headers, GB/T 9704 margins). The pictures in the README are the same
files printed by LibreOffice and Chromium."""
from __future__ import annotations

import io
import math
import re
import zipfile

import openpyxl
import pytest

from test_ledger_formats import base_rows, build_ledger, make_row, D
from workflow.reports import annual, xlsx
from workflow.reports import tabular as tab
from workflow.reports.html import render_html


# --- xlsx ------------------------------------------------------------------------------

def grouped_rows():
    """Three departments on one long task, two on a short one, so the task's requirement
    is printed once over several rows."""
    long = "加快形成以国务院政策问答平台为龙头、各部门协同联动、对接共享的政策问答体系。" * 3
    rows = [make_row(100 + i, 7, dept, "in_progress", D(2021, 11, 30), requirement=long)
            for i, dept in enumerate(["局政务公开办", "公共法律服务管理处", "科监处"])]
    rows += [make_row(200 + i, 8, dept, "done", D(2021, 9, 30), requirement="按季度公开执法信息。",
                      submitted_on=D(2021, 9, 1), approved_on=D(2021, 9, 2), latest_summary="已公开。")
             for i, dept in enumerate(["装财处", "办公室"])]
    return rows


@pytest.fixture
def book(tmp_path):
    path = tmp_path / "台账.xlsx"
    ledger = build_ledger(base_rows() + grouped_rows())
    xlsx.write_xlsx(ledger, path, "task")
    return openpyxl.load_workbook(path), ledger


def test_print_sheet_page_setup(book):
    wb, ledger = book
    assert wb.sheetnames == ["台账明细", "打印版", "处室汇总", "状态汇总"]
    ws = wb["打印版"]
    assert wb.active.title == "打印版"  # Ctrl+P on opening prints the page layout
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.print_title_rows in ("1:1", "$1:$1")  # the header row on every page
    last = openpyxl.utils.get_column_letter(len(tab.PRINT_LAYOUT))
    area = ws.print_area if isinstance(ws.print_area, str) else ws.print_area[0]
    assert area.replace("$", "").endswith(f"A1:{last}{len(ledger.rows) + 1}")
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)  # 1 is the default
    assert ws.page_setup.fitToHeight == 0
    assert "第 &P 页 共 &N 页" in ws.oddFooter.center.text
    # Each sheet numbers its own pages from 1: LibreOffice, printing the whole workbook,
    # went on from the last page of 台账明细 ("第 93 页").
    for sheet in wb.worksheets:
        assert sheet.page_setup.useFirstPageNumber and sheet.page_setup.firstPageNumber in (None, 1)  # 1 is the default
    assert ledger.title in ws.oddHeader.center.text
    # The columns fit an A4 landscape page at 100 %, so fit-to-width never shrinks the text.
    assert sum(w for _, w in tab.PRINT_LAYOUT) <= 140
    assert [c.value for c in ws[1]] == [h for h, _ in tab.PRINT_LAYOUT]


def test_print_sheet_fonts_borders_and_row_heights(book):
    wb, ledger = book
    ws = wb["打印版"]
    widths = dict(tab.PRINT_LAYOUT)
    requirement_col = [h for h, _ in tab.PRINT_LAYOUT].index("具体要求") + 1
    for row in ws.iter_rows(min_row=1, max_row=ws.max_row):
        for cell in row:
            if cell.value is None:
                continue
            assert cell.font.name == "宋体" and cell.font.charset == 134
            assert cell.font.sz >= 9
            assert cell.border.left.style == "thin" and cell.border.right.style == "thin"
    for r in range(2, ws.max_row + 1):
        height = ws.row_dimensions[r].height
        assert height and height >= 10 * 1.2  # every row has a height: LibreOffice does not grow one
        text = ws.cell(r, requirement_col).value
        if text:
            # Lower bound found independently: a CJK character of 10 pt is at least 10/11 of two
            # width units wide, so the column holds at most this many per line.
            per_line = widths["具体要求"] / (2 * 10 / 11)
            lines = math.ceil(sum(2 if ord(ch) > 0x2E80 else 1 for ch in text) / 2 / per_line)
            assert height >= lines * 10 * 1.2, (r, lines, height)
    assert ws.cell(2, 2).alignment.wrap_text


def test_task_requirement_printed_once(book):
    wb, ledger = book
    ws = wb["打印版"]
    seqs = [r.task_seq for r in tab.detail_rows(ledger, "task")]
    requirement_col = [h for h, _ in tab.PRINT_LAYOUT].index("具体要求") + 1
    for r, seq in enumerate(seqs, 2):
        first = r == 2 or seqs[r - 3] != seq
        value = ws.cell(r, 1).value
        assert (value == seq) if first else value is None
        assert (ws.cell(r, requirement_col).value is not None) == first
    # The detail sheet keeps every value on every row, for filtering.
    detail = wb["台账明细"]
    assert all(detail.cell(r, 1).value == seq for r, seq in enumerate(seqs, 2))
    assert [c.value for c in detail[1]] == tab.headers(tab.DETAIL_COLUMNS)


def test_a_tasks_later_rows_are_as_high_as_what_they_print(tmp_path):
    """A task's rows after its first print no requirement: their height follows their own
    cells, so a department's row under a long requirement is one line high, also with the
    longest role (技术保障) and a nine-character department."""
    from workflow.plans.model import RESPONSIBILITY_ROLES

    long = "加快形成以国务院政策问答平台为龙头、各部门协同联动、对接共享的政策问答体系。" * 3
    depts = ["局政务公开办", "公共法律服务管理处", "科监处", "规范性文件审查处"]
    rows = [make_row(300 + i, 9, dept, "in_progress", D(2021, 11, 30), requirement=long, role=role)
            for i, (dept, role) in enumerate(zip(depts, ["lead", "assist", "tech", "lead"]))]
    path = tmp_path / "台账.xlsx"
    xlsx.write_xlsx(build_ledger(rows), path, "task")
    ws = openpyxl.load_workbook(path)["打印版"]
    heights = [ws.row_dimensions[r].height for r in range(2, 2 + len(rows))]
    one_line = xlsx.row_height(1, xlsx.PRINT_SIZE)
    assert heights[0] >= xlsx.row_height(4, xlsx.PRINT_SIZE) - 1  # the requirement's own lines
    assert {ws.cell(r, 3).value for r in range(2, 2 + len(rows))} == set(depts)
    assert [ws.cell(r, 2).value is not None for r in range(2, 2 + len(rows))] == [True, False, False, False]
    assert all(abs(h - one_line) < 1 for h in heights[1:]), (heights, one_line)
    widths = dict(tab.PRINT_LAYOUT)
    assert all(xlsx.line_count(label, widths["职责"], xlsx.PRINT_SIZE) == 1 for label in RESPONSIBILITY_ROLES.values())


def test_workbook_declares_its_east_asian_font(book):
    wb, _ = book
    theme = wb.loaded_theme.decode() if isinstance(wb.loaded_theme, bytes) else wb.loaded_theme
    assert '<a:ea typeface="宋体"/>' in theme and '<a:font script="Hans" typeface="宋体"/>' in theme
    detail = wb["台账明细"]
    assert detail.cell(2, 3).font.name == "宋体"


def test_print_sheet_stops_at_its_limit_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx, "PRINT_MAX_ROWS", 3)
    path = tmp_path / "big.xlsx"
    ledger = build_ledger(base_rows())
    xlsx.write_xlsx(ledger, path)
    wb = openpyxl.load_workbook(path)
    ws = wb["打印版"]
    assert ws.max_row == 5 and "打印版只列出前 3 行" in ws.cell(5, 1).value
    assert wb["台账明细"].max_row == len(ledger.rows) + 1


# --- html ------------------------------------------------------------------------------

def test_html_print_stylesheet():
    page = render_html(build_ledger(base_rows() + grouped_rows()))
    assert "@page { size: A4 landscape" in page
    assert "table-layout: fixed" in page and "calc(100% - 2px)" in page  # no clipped right border
    printed = {h for h, _ in tab.PRINT_LAYOUT}
    for i, c in enumerate(tab.DETAIL_COLUMNS, 1):
        rule = re.search(rf"th:nth-child\({i}\), table\.detail td:nth-child\({i}\)\{{([^}}]*)\}}", page)
        assert rule, c.header
        assert ("display:none" in rule.group(1)) == (c.header not in printed)
    shares = {int(i): float(w) for i, w in re.findall(r"td:nth-child\((\d+)\)\{width:([\d.]+)%", page)}
    assert max(shares, key=shares.get) == 3 and shares[3] > 20  # 具体要求 the widest: a row is a few lines
    assert 'class="l-yellow cont"' in page or 'class="l-red cont"' in page


# --- docx ------------------------------------------------------------------------------

def docx_parts(year_ledger) -> dict[str, str]:
    data = annual.render_annual(year_ledger, "docx")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml")}


@pytest.fixture
def docx_xml():
    return docx_parts(build_ledger(base_rows() + grouped_rows(), quarter=None))


def twips(mm: float) -> int:
    return round(mm / 25.4 * 1440)


def test_docx_page_is_a4_with_official_margins(docx_xml):
    body = docx_xml["word/document.xml"]
    size = re.search(r'<w:pgSz w:w="(\d+)" w:h="(\d+)"', body)
    assert abs(int(size.group(1)) - twips(210)) <= 2 and abs(int(size.group(2)) - twips(297)) <= 2
    margins = dict(re.findall(r'w:(top|bottom|left|right)="(\d+)"', re.search(r"<w:pgMar [^>]*>", body).group(0)))
    for side, mm in (("top", 37), ("bottom", 35), ("left", 28), ("right", 26)):
        assert abs(int(margins[side]) - twips(mm)) <= 2, side
    footer = next(v for k, v in docx_xml.items() if k.startswith("word/footer"))
    assert "PAGE" in footer and 'w:fldCharType="begin"' in footer and "— " in footer and " —" in footer


def test_docx_body_style_and_language(docx_xml):
    styles = docx_xml["word/styles.xml"]
    normal = re.search(r'<w:style w:type="paragraph" w:default="1" w:styleId="Normal">.*?</w:style>', styles, re.S).group(0)
    assert 'w:eastAsia="仿宋_GB2312"' in normal and '<w:sz w:val="32"/>' in normal  # 三号
    assert re.search(r'<w:spacing [^>]*w:line="560"', normal) and 'w:lineRule="exact"' in normal
    assert 'w:before="0"' in normal and 'w:after="0"' in normal
    assert 'w:eastAsia="zh-CN"' in normal
    defaults = re.search(r"<w:docDefaults>.*?</w:docDefaults>", styles, re.S).group(0)
    assert 'w:eastAsia="zh-CN"' in defaults and 'w:eastAsia="en-US"' not in defaults
    heading = re.search(r'<w:style [^>]*w:styleId="Heading2">.*?</w:style>', styles, re.S).group(0)
    assert 'w:eastAsia="黑体"' in heading
    body = docx_xml["word/document.xml"]
    assert 'w:eastAsia="楷体_GB2312"' in body  # (一) chapter leads


def test_docx_table_header_repeats_and_rows_stay_whole(docx_xml):
    body = docx_xml["word/document.xml"]
    table = re.search(r"<w:tbl>.*?</w:tbl>", body, re.S).group(0)
    rows = re.findall(r"<w:tr[ >].*?</w:tr>", table, re.S)
    assert "<w:tblHeader/>" in rows[0]
    assert all("<w:cantSplit/>" in r for r in rows)
    grid = [int(w) for w in re.findall(r'<w:gridCol w:w="(\d+)"', table)]
    assert len(grid) == len(annual.TABLE_HEADERS)
    assert sum(grid) <= twips(210 - 28 - 26) + 10  # within the text width
    assert grid[0] > max(grid[1:])  # 章节 gets the room the numbers do not need
    assert grid[0] >= twips(6 * 10.5 * 25.4 / 72)  # at least six characters a line


def test_column_widths_by_content():
    rows = [annual.TABLE_HEADERS, ["（一）紧扣“十四五”开好局起好步深化政务公开", "1", "3", "3", "100.0%", "0", "0"],
            ["合计", "28", "245", "206", "84.1%", "39", "36"]]
    widths = annual.column_widths(rows, 156, 10.5)
    assert abs(sum(widths) - 156) < 0.5
    char = 10.5 * 25.4 / 72
    assert widths[0] >= 10 * char  # a chapter name wraps over two lines, not four
    assert widths[4] >= annual.text_chars("100.0%") * char  # the rate on one line
