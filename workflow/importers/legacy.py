"""Old Office files (.doc, .wps, .xls: OLE2 compound files), converted by LibreOffice.

Offices still attach plans saved by old Word, WPS or Excel. When LibreOffice (`soffice`) is
installed the file is converted headless to .docx/.xlsx in a private temporary folder, with
a profile of its own (so a LibreOffice the user has open is neither used nor disturbed) and
a time limit, and then read like any .docx/.xlsx. Without LibreOffice the office is told in
one sentence how to convert it.

What the file is comes from its OLE2 directory, never its name: a `WordDocument` stream is
a Word (or WPS) document, a `Workbook`/`Book` stream an Excel workbook.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Callable

from workflow.errors import BadInput
from workflow.plans.model import Plan

CONVERT_SECONDS = 120  # LibreOffice's first start in a fresh profile takes several seconds
_KINDS = (  # (stream name in the OLE2 directory, what it is, convert to, LibreOffice filter)
    ("WordDocument", "Word/WPS 文档（.doc/.wps）", "docx", "docx:MS Word 2007 XML"),
    ("Workbook", "Excel 工作簿（.xls）", "xlsx", "xlsx:Calc MS Excel 2007 XML"),
    ("Book", "Excel 工作簿（.xls）", "xlsx", "xlsx:Calc MS Excel 2007 XML"),
)


def ole2_kind(data: bytes) -> tuple[str, str, str] | None:
    """(description, target suffix, filter) from the stream names, None if neither Word nor Excel."""
    for stream, label, suffix, filter_name in _KINDS:
        if stream.encode("utf-16-le") + b"\x00\x00" in data:
            return label, suffix, filter_name
    return None


def load_ole2(data: bytes, path: Path, year: int | None,
              load_converted: Callable[[bytes, Path, int | None], Plan]) -> Plan:
    kind = ole2_kind(data)
    if kind is None:
        raise BadInput(f"{path.name} 是旧版 Office 文件，但看不出是 Word 文档还是 Excel 工作簿（不是这两种，或已损坏）："
                       f"请用 Word、WPS 或 Excel 打开后另存为 .docx 或 .xlsx 再导入。")
    label, suffix, filter_name = kind
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise BadInput(f"{path.name} 是旧版{label}：请用 Word、WPS 或 Excel 打开后另存为 .{suffix} 再导入"
                       f"（或安装 LibreOffice，duban 会自动转换）。")
    return load_converted(convert(data, path, soffice, suffix, filter_name, label), path, year)


def convert(data: bytes, path: Path, soffice: str, suffix: str, filter_name: str, label: str) -> bytes:
    """The file converted by LibreOffice headless; one sentence if it cannot be."""
    with tempfile.TemporaryDirectory(prefix="duban-convert-") as tmp:
        folder = Path(tmp)
        source = folder / f"plan.{'xls' if suffix == 'xlsx' else 'doc'}"
        source.write_bytes(data)
        outdir = folder / "out"
        command = [soffice, "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
                   f"-env:UserInstallation={(folder / 'profile').as_uri()}",
                   "--convert-to", filter_name, "--outdir", str(outdir), str(source)]
        try:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL, cwd=folder, start_new_session=True)
        except OSError:
            raise BadInput(f"无法启动 LibreOffice 转换 {path.name}：请用 Word、WPS 或 Excel 另存为 .{suffix} 后再导入。") from None
        try:
            process.wait(timeout=CONVERT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: soffice and its helper
            process.wait()
            raise BadInput(f"LibreOffice 转换 {path.name} 超过 {CONVERT_SECONDS} 秒仍未完成："
                           f"请用 Word、WPS 或 Excel 另存为 .{suffix} 后再导入。") from None
        converted = outdir / f"plan.{suffix}"
        if process.returncode != 0 or not converted.is_file():
            raise BadInput(f"LibreOffice 无法转换 {path.name}（旧版{label}，可能已损坏）："
                           f"请用 Word、WPS 或 Excel 打开后另存为 .{suffix} 再导入。")
        return converted.read_bytes()
