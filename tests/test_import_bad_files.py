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
    assert "目录" in refused(tmp_path)


def test_first_row_without_departments() -> None:
    text = "某局2021年工作方案\n序号\n具体要求\n责任单位\n1\n公开预算。\n"
    with pytest.raises(BadInput, match="第 1 行没有落实处室"):
        parse_plan_text(text)


def test_unreadable_department_cell() -> None:
    text = "某局2021年工作方案\n序号|具体要求|责任单位\n1|公开预算。|详见附件说明\n"
    with pytest.raises(BadInput, match="无法识别"):
        parse_plan_text(text)


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

    db = str(tmp_path / "d.db")
    assert run("db", "init", db=db).returncode == 0
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
            proc = run("plan", "import", str(path), *extra, db=db)
            assert proc.returncode == 2, (name, proc.stderr)
            assert proc.stderr.startswith("错误:") and proc.stderr.count("\n") == 1, (name, proc.stderr)
            assert proc.stdout == ""
    assert run_json("plan", "list", db=db) == []
