"""The formats offices attach (issue 12, item 5): a PDF printed from the seed's Word file, a
scanned copy of it, and old .doc/.wps/.xls made from the seed by LibreOffice.

The PDFs are committed (tests/fixtures/office/, made by build.py there from the seed); the
old-format files are made here by LibreOffice, so those tests need `soffice`."""
from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

import cli_helpers
from workflow.errors import BadInput
from workflow.importers import load_plan
from workflow.importers.legacy import ole2_kind

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "gz-sfj-2021.txt"
OFFICE = ROOT / "tests" / "fixtures" / "office"
SOFFICE = shutil.which("soffice")
needs_soffice = pytest.mark.skipif(SOFFICE is None, reason="没有安装 LibreOffice(soffice),无法生成和转换旧版 Office 文件")


def test_pdf_printed_from_word_reads_as_the_seed() -> None:
    """28 tasks over 9 pages: the table's header once, rows broken across page breaks, cells
    wrapped over many lines, 落实处室 and 完成时限 merged down: the same plan as the notice."""
    plan = load_plan(OFFICE / "gz-sfj-2021.pdf")
    text = load_plan(SEED)
    assert plan.to_dict() == text.to_dict()
    assert plan.warnings == text.warnings


def test_fixtures_are_small() -> None:
    for path in OFFICE.glob("*.pdf"):
        assert path.stat().st_size < 200 * 1024, path


def test_scanned_pdf_is_refused_as_a_scan(tmp_path: Path) -> None:
    with pytest.raises(BadInput) as info:
        load_plan(OFFICE / "gz-sfj-2021-scan.pdf")
    message = info.value.message
    assert "是扫描件（没有文字层）" in message and message.count("。") == 1


def test_broken_pdf_is_one_sentence(tmp_path: Path) -> None:
    data = (OFFICE / "gz-sfj-2021.pdf").read_bytes()
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(BadInput) as info:
        load_plan(path)
    assert info.value.message.endswith("。") and "\n" not in info.value.message


def test_pdf_through_the_cli(tmp_path: Path) -> None:
    done = cli_helpers.run_json("plan", "import", str(OFFICE / "gz-sfj-2021.pdf"), "--dry-run")
    assert len(done["tasks"]) == 28 and done["due"] == "2021-11-30"
    scan = cli_helpers.run("plan", "import", str(OFFICE / "gz-sfj-2021-scan.pdf"), "--dry-run", cwd=tmp_path)
    assert scan.returncode == 2 and scan.stderr.startswith("错误：") and "扫描件" in scan.stderr
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- .doc / .wps / .xls


@pytest.fixture(scope="module")
def old_formats(tmp_path_factory) -> dict[str, Path]:
    """The seed's .docx and .xlsx saved by LibreOffice as Word 97 and Excel 97 files. The
    .doc goes through .odt: LibreOffice 7.4 writing .docx straight to .doc drops the table."""
    if SOFFICE is None:
        pytest.skip("没有安装 LibreOffice(soffice),无法生成旧版 Office 文件")
    folder = tmp_path_factory.mktemp("old")
    profile = f"-env:UserInstallation={(folder / 'profile').as_uri()}"

    def convert(source: Path, target: str) -> Path:
        subprocess.run([SOFFICE, "--headless", profile, "--convert-to", target, "--outdir", str(folder), str(source)],
                       check=True, capture_output=True, timeout=180)
        return folder / f"{source.stem}.{target.split(':')[0]}"

    odt = convert(OFFICE / "gz-sfj-2021.docx", "odt")
    doc = convert(odt, "doc:MS Word 97")
    xls = convert(OFFICE / "gz-sfj-2021.xlsx", "xls:MS Excel 97")
    wps = folder / "分工方案.wps"  # WPS saves its .wps in the Word 97 format
    shutil.copy(doc, wps)
    return {"doc": doc, "xls": xls, "wps": wps}


@needs_soffice
@pytest.mark.parametrize("kind", ["doc", "wps", "xls"])
def test_old_office_files_are_converted_and_read(old_formats: dict[str, Path], kind: str) -> None:
    path = old_formats[kind]
    assert path.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    plan, text = load_plan(path), load_plan(SEED)
    assert len(plan.tasks) == 28
    assert [t.requirement for t in plan.tasks] == [t.requirement for t in text.tasks]
    assert [t.responsibilities for t in plan.tasks] == [t.responsibilities for t in text.tasks]
    assert (plan.due, plan.distribute_by) == (text.due, text.distribute_by)


@needs_soffice
def test_old_word_file_through_the_cli_leaves_nothing_behind(old_formats: dict[str, Path], tmp_path: Path) -> None:
    done = cli_helpers.run("plan", "import", str(old_formats["doc"]), "--dry-run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "共 28 项任务" in done.stdout
    assert list(tmp_path.iterdir()) == []


def test_without_libreoffice_the_office_is_told_how_to_convert(tmp_path: Path) -> None:
    """The OLE2 directory says what the file is; with no soffice on PATH, one sentence."""
    word = _ole2_with_stream("WordDocument")
    excel = _ole2_with_stream("Workbook")
    assert ole2_kind(word)[1] == "docx" and ole2_kind(excel)[1] == "xlsx"
    for data, name, needle in ((word, "方案.doc", "另存为 .docx"), (excel, "方案.xls", "另存为 .xlsx")):
        path = tmp_path / name
        path.write_bytes(data)
        done = cli_helpers.run("plan", "import", str(path), "--dry-run", cwd=tmp_path,
                               env={"PATH": str(Path(cli_helpers.duban_cmd()[0]).parent)})
        assert done.returncode == 2, done.stderr
        assert needle in done.stderr and "LibreOffice" in done.stderr and done.stderr.count("\n") == 1


def test_an_ole2_file_that_is_neither_word_nor_excel(tmp_path: Path) -> None:
    path = tmp_path / "slides.ppt"
    path.write_bytes(_ole2_with_stream("PowerPoint Document"))
    with pytest.raises(BadInput, match="看不出是 Word 文档还是 Excel 工作簿"):
        load_plan(path)


def _ole2_with_stream(name: str) -> bytes:
    """An OLE2 header followed by a directory entry naming `name` (all duban looks at)."""
    entry = name.encode("utf-16-le") + b"\x00\x00"
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + entry.ljust(128, b"\x00") + b"\x00" * 384


def test_a_zip_that_is_neither_docx_nor_xlsx_offers_nothing_wrong(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
    path = tmp_path / "plan.odt"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(BadInput, match="既不是 Word"):
        load_plan(path)
