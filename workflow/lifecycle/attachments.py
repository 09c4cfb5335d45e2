"""Attachments stored content-addressed (sha256) under the data directory.

A user's file name is kept only as a label: it never becomes a path, so `..`,
absolute names and links cannot place a file anywhere but the store.

One stored copy serves every record with that content, so removing a copy is a
question for the whole store, not for the command that made it: a command holds
the store's lock file (`.lock`) shared from its first copy until its transaction
has committed or rolled back (`staged()`), and a refused command removes a copy
only under the exclusive lock, when no committed record points at it (`discard()`).
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from workflow.errors import BadInput

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
LOCK_NAME = ".lock"
# flock() errors that mean "this filesystem cannot lock" (some network and FUSE mounts).
_NO_FLOCK = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EINVAL}

Referenced = Callable[[str], bool]
"""Whether a committed record points at a stored file, by its `stored_path`."""


@contextlib.contextmanager
def staged(sources: list[Path], store_dir: Path, referenced: Referenced,
           max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[list[dict]]:
    """Store `sources` for a command whose transaction runs inside the block.

    The shared lock, held until the block ends, tells a refused command that someone may
    be about to commit a record pointing at a file it copied. If the block raises, the
    lock is dropped first (this command relies on nothing any more, and flock cannot
    upgrade atomically anyway) and then `discard()` removes what nobody uses.
    """
    stored: list[dict] = []
    if not sources:
        yield stored
        return
    try:
        with _shared_lock(store_dir):
            for source in sources:
                stored.append(store(source, store_dir, max_bytes))
            yield stored
    except BaseException:
        discard(stored, store_dir, referenced)
        raise


def store(source: Path, store_dir: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> dict:
    """Copy `source` into the store; returns {name, sha256, size, stored_path, created}.

    Callers hold the store's shared lock (`staged()`), so no discard runs meanwhile."""
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


def discard(stored: list[dict], store_dir: Path, referenced: Referenced) -> None:
    """Remove the files a refused command added to the store, so that it leaves nothing
    behind, unless another command relies on them.

    Call it without holding the store's lock. Under the exclusive lock no command is between
    storing and committing, so `referenced` (asked in a transaction of its own) sees every
    record that could point at a file: a file is removed only when none does. The lock
    file and folders go with the store's last file. If the lock is taken, another command
    is between storing and committing and may rely on these very files: they stay, as
    harmless orphans (unreferenced content, never read). Where the filesystem has no flock,
    only `referenced` is asked; a command that has stored the same content but not yet
    committed is then not seen, and no folder is removed (another command may be using it).
    """
    if not store_dir.is_dir():
        return
    try:
        fd = _lock(store_dir, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return
    try:
        for item in stored:
            if item.get("created") and not _in_use(item["stored_path"], referenced):
                _remove(Path(item["created"]), tidy=fd is not None)
        if fd is not None:
            _remove_empty_store(store_dir)
    finally:
        if fd is not None:
            os.close(fd)


def _in_use(stored_path: str, referenced: Referenced) -> bool:
    """Ask `referenced`; if it cannot answer (database gone), keep the file: an orphan at worst."""
    try:
        return referenced(stored_path)
    except Exception:  # noqa: BLE001 - discard runs while another error is being raised
        return True


def _remove(path: Path, tidy: bool) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    if tidy:
        with contextlib.suppress(OSError):  # the sha[:2] folder, if no other content is in it
            path.parent.rmdir()


def _remove_empty_store(store_dir: Path) -> None:
    """A store holding nothing but its lock file goes, and the data folder if that is empty
    too. Only a holder of the exclusive lock calls this; `_lock` copes with the lock file
    disappearing under a waiting command."""
    if {entry.name for entry in store_dir.iterdir()} != {LOCK_NAME}:
        return
    with contextlib.suppress(FileNotFoundError):
        (store_dir / LOCK_NAME).unlink()
    for folder in (store_dir, store_dir.parent):
        try:
            folder.rmdir()
        except OSError:
            break


@contextlib.contextmanager
def _shared_lock(store_dir: Path) -> Iterator[None]:
    fd = _lock(store_dir, fcntl.LOCK_SH)
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)  # closing releases the flock


def _lock(store_dir: Path, operation: int) -> int | None:
    """flock the store's lock file; returns its descriptor, or None where the filesystem has
    no flock. A non-blocking request that finds the lock taken raises BlockingIOError.

    The lock file is removed with an emptied store, so a lock won on a file that is no longer
    the one at the path would exclude nobody: then it is taken again on the current file."""
    path = store_dir / LOCK_NAME
    while True:
        store_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except FileNotFoundError:
            continue  # the emptied store was removed between mkdir and open
        try:
            fcntl.flock(fd, operation)
        except OSError as exc:
            os.close(fd)
            if exc.errno in _NO_FLOCK:
                return None
            raise
        if _is_current(fd, path):
            return fd
        os.close(fd)


def _is_current(fd: int, path: Path) -> bool:
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)
