"""Plan importers: one entry point that reads any supported file into a canonical Plan.

The format is decided by the file's content, never its name (offices rename files,
download pages as .txt, attach .xlsx saved as .xls): a zip holding word/document.xml is a
Word document, a zip holding xl/ an Excel workbook, text that is a mapping with `tasks`
the canonical YAML/JSON form, and any other text a published notice.

python-docx and openpyxl are imported only when such a file arrives, so commands that
never import a plan do not pay for them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from workflow.errors import BadInput
from workflow.importers.decode import decode_bytes, refuse_nul
from workflow.plans.model import Plan

MAX_BYTES = 20 * 1024 * 1024  # refuse larger files before reading them
MAX_UNPACKED = 50 * 1024 * 1024  # a .docx/.xlsx unpacking to more is refused (zip bomb)
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

__all__ = ["MAX_BYTES", "load_plan", "parse_plan_text", "read_limited"]


def load_plan(path: Path, year: int | None = None) -> Plan:
    """Read a plan file (notice text, .docx, .xlsx, .pdf, .doc/.wps/.xls, or canonical
    YAML/JSON) into a Plan. Tasks may lack departments and `plan.doubts` may be set: what
    may be imported is decided by `draft.check_importable`."""
    path = Path(path)
    data = read_limited(path)
    if not data.strip():
        raise BadInput(f"{path.name} 是空文件：请提供分工方案的文本、Word 或 Excel 文件。")
    if data.startswith(b"PK"):
        return _offer_template(lambda: _load_zip(data, path, year), path)
    if data.startswith(_OLE2_MAGIC):
        from workflow.importers.legacy import load_ole2

        return _offer_template(lambda: load_ole2(data, path, year, load_bytes), path)
    if data.startswith(b"%PDF"):
        from workflow.importers.pdf import load_pdf

        return _offer_template(lambda: load_pdf(data, path, year), path)
    text = decode_bytes(data, path.name, "请提供分工方案的文本（UTF-8、GBK 或 UTF-16 编码）、Word（.docx）或 Excel（.xlsx）文件")
    refuse_nul(text, path.name)
    from workflow.importers import canonical

    if canonical.looks_canonical(text):  # messages name the file the office edits
        return canonical.load_canonical(text, year, f"{path.name} ")
    return _offer_template(lambda: parse_plan_text(text, year, name=path.stem), path)


def load_bytes(data: bytes, path: Path, year: int | None) -> Plan:
    """A .docx/.xlsx converted from an old format: read as if it were the file itself."""
    if not data.startswith(b"PK"):
        raise BadInput(f"{path.name} 转换后不是 Word/Excel 文件：请用 Word/WPS 另存为 .docx 或 .xlsx 后再导入。")
    return _load_zip(data, path, year)


TEMPLATE_OFFER = "也可以用 duban plan template --out 分工方案模板.xlsx 生成 Excel 模板，把任务填入后导入"
_NOT_ABOUT_TASKS = ("--year", "损坏", "过大", "扫描件", "LibreOffice", "分工方案模板", "工作表“")


def _offer_template(parse: Callable[[], Plan], path: Path) -> Plan:
    """A document in which no task was recognised is refused with what was looked for (the
    parser's sentence, naming the file) and the template as the way forward."""
    try:
        return parse()
    except BadInput as exc:
        if any(word in exc.message for word in _NOT_ABOUT_TASKS):
            raise
        message = exc.message.rstrip("。")
        if path.name not in message:
            message = f"{path.name} 中{message}"
        raise BadInput(f"{message}；{TEMPLATE_OFFER}。") from None


def read_limited(path: Path, limit: int = MAX_BYTES, what: str = "请指定分工方案文件") -> bytes:
    """The file's bytes, refusing by size first (and again while reading, for pipes);
    `what` says what the file should be, should a folder be named."""
    from workflow.files import named_file

    with named_file(path, what):
        size = path.stat().st_size
        if size > limit:
            raise BadInput(f"{path.name} 过大（{size / 1024 / 1024:.1f} MB），文件最大 {limit // 1024 // 1024} MB。")
        with path.open("rb") as handle:  # a folder is refused here (IsADirectoryError)
            data = handle.read(limit + 1)
    if len(data) > limit:
        raise BadInput(f"{path.name} 过大，文件最大 {limit // 1024 // 1024} MB。")
    return data


def parse_plan_text(text: str, year: int | None = None, name: str | None = None) -> Plan:
    """Parse text: the canonical YAML/JSON form if it is one, else a published notice."""
    from workflow.importers import canonical, text as text_importer

    if canonical.looks_canonical(text):
        return canonical.load_canonical(text, year, name or "计划文件")
    return text_importer.parse_text(text, year, name)


def _load_zip(data: bytes, path: Path, year: int | None) -> Plan:
    import io
    import zipfile

    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, EOFError, ValueError):
        raise BadInput(f"{path.name} 是损坏或不完整的压缩文件（docx/xlsx）：请重新保存或下载后再试。") from None
    names = [m.filename for m in members]
    # zipfile never inflates a member past its declared size, so the declared sizes bound
    # what python-docx/openpyxl can unpack.
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_UNPACKED:
        raise BadInput(f"{path.name} 解压后过大（{unpacked / 1024 / 1024:.0f} MB），"
                       f"Word/Excel 文件解压后最大 {MAX_UNPACKED // 1024 // 1024} MB：请检查文件是否正常。")
    if "word/document.xml" in names:
        from workflow.importers.docx import load_docx

        return load_docx(data, year, path.stem)
    if any(n.startswith("xl/") for n in names):
        from workflow.importers.xlsx import load_xlsx

        return load_xlsx(data, year, path.stem)
    raise BadInput(f"{path.name} 是压缩包，但既不是 Word（.docx）也不是 Excel（.xlsx）文件：请提供分工方案本身。")
