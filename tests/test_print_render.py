"""The xlsx 打印版 as LibreOffice prints it: A4 landscape, one page wide, body text at
a readable size (≥ 9 pt) even where LibreOffice has no 宋体 and measures the columns
with a fallback font (issue 15). Needs `soffice`; the PDF is read with pdfplumber."""
from __future__ import annotations

import collections
import shutil
import subprocess

import pdfplumber
import pytest

from test_ledger_formats import base_rows, build_ledger
from test_print_layout import grouped_rows
from workflow.reports import xlsx

SOFFICE = shutil.which("soffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="没有安装 LibreOffice（soffice），无法打印 xlsx")


def test_print_sheet_prints_a4_landscape_one_page_wide_at_readable_size(tmp_path):
    path = tmp_path / "台账.xlsx"
    xlsx.write_xlsx(build_ledger(base_rows() + grouped_rows()), path, "task")
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                    "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=180)
    with pdfplumber.open(tmp_path / "台账.pdf") as pdf:
        pages = [(p, (p.extract_text() or "").split("\n")) for p in pdf.pages]
        # the 打印版's pages: below the page header, its column headers (序号 具体要求 …; the
        # detail sheet's pages start 序号 章节, or with a later column)
        printed = [(p, lines) for p, lines in pages if len(lines) > 1 and lines[1].startswith("序号 具体要求")]
        assert printed, "LibreOffice printed no page of the 打印版 sheet"
        for page, lines in printed:
            assert (round(page.width), round(page.height)) == (842, 595)  # A4 landscape, in points
            assert lines[1].endswith("最近报送内容"), f"the sheet is more than one page wide: {lines[1]}"
            assert max(c["x1"] for c in page.chars) <= page.width
        sizes = collections.Counter(round(c["size"], 1) for p, _ in printed for c in p.chars
                                    if "\u4e00" <= c["text"] <= "\u9fff")
    body = sizes.most_common(1)[0][0]
    assert body >= 9.0, f"the 打印版 prints its text at {body} pt: {sizes.most_common(4)}"
