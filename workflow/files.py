"""Reading a file a person named (a plan, a directory, --summary-file, --resolve): the one
place where the operating system's refusals — no such file, a folder, no permission — and
a file that is not UTF-8 text become one sentence (BadInput).
"""
from __future__ import annotations

import contextlib
import os
from typing import Iterator

from workflow.errors import BadInput


@contextlib.contextmanager
def named_file(path: str | os.PathLike, what: str) -> Iterator[None]:
    """Turn the refusals of opening or reading `path` inside the block into one sentence;
    `what` says what the file should be, for a folder named instead (e.g. "--resolve 应为
    YAML 文件")."""
    try:
        yield
    except FileNotFoundError:
        raise BadInput(f"找不到文件 {path}：请检查路径。") from None
    except IsADirectoryError:
        raise BadInput(f"{path} 是文件夹，不是文件：{what}。") from None
    except PermissionError:
        raise BadInput(f"没有权限读取文件 {path}：请检查文件权限。") from None


def read_text(path: str | os.PathLike, what: str) -> str:
    """The whole file as UTF-8 text (a byte-order mark dropped)."""
    with named_file(path, what), open(path, "rb") as handle:
        data = handle.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(f"文件 {path} 不是 UTF-8 文本：请另存为 UTF-8 编码后重试。") from None
