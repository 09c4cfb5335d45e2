"""Files that are not plans: each is refused with one clear Chinese sentence (BadInput)."""
from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import docx
import pytest

from workflow.errors import BadInput
from workflow.importers import MAX_BYTES, load_plan, parse_plan_text
from workflow.importers.decode import decode_bytes

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "gz-sfj-2021.txt"


def write(tmp_path: Path, data: bytes | str, name: str = "plan.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def refused(path: Path) -> str:
    with pytest.raises(BadInput) as info:
        load_plan(path)
    message = info.value.message
    assert message.endswith("。") and "\n" not in message
    return message


def test_empty_file(tmp_path: Path) -> None:
    assert "空文件" in refused(write(tmp_path, b""))
    assert "空文件" in refused(write(tmp_path, " \n\r\n\t "))


def test_binary_garbage(tmp_path: Path) -> None:
    data = random.Random(7).randbytes(64 * 1024)
    assert "不是可识别的文本" in refused(write(tmp_path, data))


def test_truncated_zip(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("某局2021年工作方案")
    document.save(buffer)
    data = buffer.getvalue()
    assert "损坏或不完整" in refused(write(tmp_path, data[: len(data) // 2], "plan.docx"))


def test_zip_that_is_neither_word_nor_excel(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert "既不是 Word" in refused(write(tmp_path, buffer.getvalue(), "plan.zip"))


def test_docx_without_a_table(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("某局2021年工作方案")
    path = tmp_path / "plan.docx"
    document.save(path)
    assert "没有表格" in refused(path)


def test_table_without_a_recognisable_header(tmp_path: Path) -> None:
    text = "某局2021年工作方案\n编码 | 内容 | 负责人\n1 | 公开预算。 | 张三\n"
    assert "表头" in refused(write(tmp_path, text))
    assert "表头" in refused(write(tmp_path, "这只是一段普通的文字,没有任何表格。\n第二行。\n"))


def test_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)  # sparse: no 20 MB written
    monkeypatch.setattr(Path, "open", lambda *a, **k: pytest.fail("the file was opened"))
    message = refused(path)
    assert "20 MB" in message and "过大" in message


def test_header_only(tmp_path: Path) -> None:
    text = "某局2021年政务公开工作要点分工方案\n序号\n工作任务\n具体要求\n落实处室\n完成时限\n"
    assert "只有表头" in refused(write(tmp_path, text))
    assert "只有表头" in refused(write(tmp_path, "| 序号 | 具体要求 | 责任单位 |\n|---|---|---|\n"))


def test_old_office_and_pdf_formats(tmp_path: Path) -> None:
    assert ".docx" in refused(write(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "plan.doc"))
    assert "PDF" in refused(write(tmp_path, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "plan.pdf"))


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert "找不到文件" in refused(tmp_path / "nope.txt")
    assert "是文件夹" in refused(tmp_path)


def test_first_row_without_departments() -> None:
    """The parser keeps the task with no department and says so (the CLI decides to refuse or draft)."""
    text = "某局2021年工作方案\n序号\n具体要求\n责任单位\n1\n公开预算。\n"
    plan = parse_plan_text(text)
    assert [(t.seq, t.requirement, t.responsibilities) for t in plan.tasks] == [(1, "公开预算。", [])]
    assert any("第 1 行没有落实处室" in w for w in plan.warnings)
    assert [(d.seq, d.field) for d in plan.doubts if "落实处室" in d.message] == [(1, "responsibilities")]


def test_unreadable_department_cell() -> None:
    text = "某局2021年工作方案\n序号|具体要求|责任单位\n1|公开预算。|详见附件说明\n2|公开决算。|办公室\n"
    plan = parse_plan_text(text)
    assert [(t.seq, [r.department for r in t.responsibilities]) for t in plan.tasks] == [(1, []), (2, ["办公室"])]
    assert any("“详见附件说明”无法识别" in w for w in plan.warnings)
    assert [(d.seq, d.field) for d in plan.doubts] == [(1, "responsibilities")]


def test_broken_canonical_yaml_and_json() -> None:
    with pytest.raises(BadInput, match="YAML"):
        parse_plan_text("title: x\ntasks:\n  - seq: 1\n   requirement: [\n")
    with pytest.raises(BadInput, match="JSON"):
        parse_plan_text('{"title": "x", "tasks": [}')
    with pytest.raises(BadInput, match="--year"):
        parse_plan_text("title: 某方案\ntasks:\n  - requirement: 公开。\n    responsibilities:\n"
                        "      - {department: 办公室, role: lead}\n")


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "gb18030", "gbk"])
def test_the_seed_in_every_encoding_offices_use(tmp_path: Path, encoding: str) -> None:
    text = SEED.read_text(encoding="utf-8").replace("\xa0", " ")  # GBK has no no-break space
    plan = load_plan(write(tmp_path, text.encode(encoding)))
    assert plan.title == "广州市司法局2021年政务公开工作要点分工方案" and len(plan.tasks) == 28


def test_decode_rejects_latin1_garbage() -> None:
    with pytest.raises(BadInput):
        decode_bytes(bytes(range(128, 256)) * 20)


def test_canonical_yaml_is_detected_by_content(tmp_path: Path) -> None:
    import yaml

    plan = load_plan(SEED)
    path = write(tmp_path, yaml.safe_dump(plan.to_dict(), allow_unicode=True), "导出")
    assert load_plan(path).tasks == plan.tasks


def test_bad_files_through_the_cli_give_one_line_and_create_nothing(tmp_path: Path) -> None:
    from cli_helpers import run, run_json

    import datetime as dt

    from cli_helpers import init_db

    db = str(tmp_path / "d.db")
    init_db(db)  # an administrator may import
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # 50 MB, sparse
    document = io.BytesIO()
    docx.Document().save(document)
    bad = {"empty.txt": b"", "noise.bin": random.Random(3).randbytes(4096), "big.txt": None,
           "cut.docx": document.getvalue()[:3000], "prose.txt": "一段普通的文字,没有表格。\n".encode()}
    for name, data in bad.items():
        path = big if data is None else write(tmp_path, data, name)
        for extra in ([], ["--dry-run"]):
            proc = run("plan", "import", str(path), *extra, db=db, user="吴管理")
            assert proc.returncode == 2, (name, proc.stderr)
            assert proc.stderr.startswith("错误：") and proc.stderr.count("\n") == 1, (name, proc.stderr)
            assert proc.stdout == ""
    assert run_json("plan", "list", db=db, user="吴管理") == []


NOTICE = ("某局2021年政务公开工作要点分工方案\n序号|工作任务|具体要求|落实处室|完成时限\n"
          "1|一、财政信息公开|推进预算、决算公开。|装财处牵头,办公室配合。|11月底前\n")


@pytest.mark.parametrize("encoding, needle", [("big5", "Big5"), ("shift_jis", "Shift-JIS")])
def test_foreign_encodings_are_named_not_read_as_gbk(encoding: str, needle: str) -> None:
    """GB18030 "decodes" Big5 and Shift-JIS bytes into rare ideographs: refused, named."""
    from workflow.importers.hanzi import to_simplified

    traditional = "某局2021年政務公開工作要點分工方案\n序號|工作任務|具體要求|落實處室|完成時限\n1|一、財政資訊|推進預算、決算公開。|裝財處牽頭。|11月底前\n"
    assert to_simplified(traditional)  # the sample is traditional text
    with pytest.raises(BadInput, match=needle) as info:
        decode_bytes(traditional.encode(encoding), "plan.txt")
    assert "编码" in info.value.message


def test_gbk_text_simplified_or_traditional_is_still_read() -> None:
    assert decode_bytes(NOTICE.encode("gbk")) == NOTICE
    traditional = (ROOT / "tests" / "fixtures" / "plans" / "traditional.txt").read_text(encoding="utf-8")
    assert decode_bytes(traditional.encode("gb18030")) == traditional


def test_utf8_saved_again_through_latin1_is_named() -> None:
    mojibake = NOTICE.encode("utf-8").decode("latin-1").encode("utf-8")
    with pytest.raises(BadInput, match="Latin-1"):
        decode_bytes(mojibake, "plan.txt")


def test_nul_in_a_notice_is_refused(tmp_path: Path) -> None:
    assert "空字符（NUL）" in refused(write(tmp_path, NOTICE.replace("推进", "推\x00进")))


def test_unquoted_impossible_date_and_huge_seq_and_top_level_list() -> None:
    plan = "title: 某局方案\nyear: 2021\ntasks:\n  - seq: {seq}\n    due: {due}\n    requirement: 推进。\n" \
           "    responsibilities:\n      - {{department: 装财处, role: lead}}\n"
    with pytest.raises(BadInput, match="2021-02-30"):
        parse_plan_text(plan.format(seq=1, due="2021-02-30"))
    assert parse_plan_text(plan.format(seq=1, due="2021-11-30")).tasks[0].due.isoformat() == "2021-11-30"
    with pytest.raises(BadInput, match="99999"):
        parse_plan_text(plan.format(seq=10**20, due="2021-11-30"))
    with pytest.raises(BadInput, match="列表"):
        parse_plan_text('[{"title": "某局方案", "year": 2021, "tasks": []}]')


def _zip_with(data: bytes, name: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            content = source.read(item.filename)
            archive.writestr(item, change(content) if item.filename == name else content)
    return out.getvalue()


def test_zip_bomb_refused_by_unpacked_size(tmp_path: Path) -> None:
    from workflow.importers import MAX_UNPACKED

    document = io.BytesIO()
    docx.Document().save(document)
    bomb = _zip_with(document.getvalue(), "word/document.xml",
                     lambda xml: xml.replace(b"<w:body>", b"<w:body>" + b" " * (MAX_UNPACKED + 1), 1))
    assert len(bomb) < MAX_BYTES
    assert "过大" in refused(write(tmp_path, bomb, "bomb.docx"))


def test_xlsx_whole_column_merge_is_clipped_and_wide_sheet_refused(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["某局2021年政务公开工作要点分工方案"])
    sheet.append(["序号", "工作任务", "具体要求", "落实处室", "完成时限"])
    sheet.append([1, "一、财政信息公开", "推进预算公开。", "装财处牵头", "11月底前"])
    buffer = io.BytesIO()
    book.save(buffer)
    data = _zip_with(buffer.getvalue(), "xl/worksheets/sheet1.xml", lambda xml: xml.replace(
        b"</sheetData>", b'</sheetData><mergeCells count="2"><mergeCell ref="G1:G1048576"/>'
        b'<mergeCell ref="A1:XFD1"/></mergeCells>'))
    plan = load_plan(write(tmp_path, data, "column.xlsx"))
    assert [t.seq for t in plan.tasks] == [1]
    for _ in range(300):
        sheet.cell(row=2, column=sheet.max_column + 1, value="多余")
    buffer = io.BytesIO()
    book.save(buffer)
    message = refused(write(tmp_path, buffer.getvalue(), "wide.xlsx"))
    assert "305 列" in message and "200" in message
