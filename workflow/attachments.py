"""Attachments stored content-addressed (sha256) under the data directory.

A user's file name is kept only as a label: it never becomes a path, so `..`,
absolute names and links cannot place a file anywhere but the store.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from workflow.errors import BadInput

DEFAULT_MAX_BYTES = 20 * 1024 * 1024


def store(source: Path, store_dir: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> dict:
    """Copy `source` into the store; returns {name, sha256, size, stored_path}."""
    if not source.is_file():
        raise BadInput(f"附件 {source} 不存在或不是普通文件。")
    size = source.stat().st_size
    if size > max_bytes:
        raise BadInput(f"附件 {source.name} 大小 {size} 字节,超过上限 {max_bytes} 字节。")
    store_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=store_dir, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
        sha = digest.hexdigest()
        target = store_dir / sha[:2] / sha
        target.parent.mkdir(mode=0o700, exist_ok=True)
        created = not target.exists()
        if created:
            os.chmod(tmp, 0o600)
            shutil.move(tmp, target)
        else:
            os.unlink(tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    label = "".join(ch for ch in source.name if ch.isprintable())[:255] or "附件"
    return {"name": label, "sha256": sha, "size": size, "stored_path": f"{sha[:2]}/{sha}",
            "created": str(target) if created else None}


def discard(stored: list[dict]) -> None:
    """Remove the files this command added to the store, when its transition was refused:
    a refused command leaves nothing behind. Content that was already there stays."""
    for item in stored:
        if item.get("created"):
            path = Path(item["created"])
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            for folder in (path.parent, path.parent.parent, path.parent.parent.parent):
                try:  # the folders this command made, if they are empty again
                    folder.rmdir()
                except OSError:
                    break
