"""Attachments stored in the database, content-addressed and in chunks.

A file's content lives once per sha256: `attachment_blob` (sha256, size) and
`attachment_chunk` (sha256, idx, data) in pieces of at most 1 MiB. Every machine that
uses the database sees the same files; nothing is written beside the current directory.
A user's file name is kept only as a label on the `attachment` record.

Storing (`store`) runs inside the command's own transaction: the pieces are written as
they are read, under a provisional key, and given the content's sha256 at the end (or
dropped, when that content is already stored). A refused or failed command therefore
leaves nothing behind — its rollback takes the pieces with it. The size limit is
enforced while reading, so a file that grows during the copy is refused at the limit,
and the stored size is the number of bytes actually read. A file that cannot be opened
or read is one sentence.

Reading (`open_content`) yields the pieces one at a time and checks the sha256 at the
end. `collect_garbage` removes content no attachment record uses, holding the
database's write lock (SQLite) or an exclusive lock on both tables (PostgreSQL), so no
command can be between reusing a stored content and committing its record meanwhile.
"""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from db import tables
from workflow.errors import BadInput, DubanError

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
CHUNK = 1 << 20

_B, _C, _R = tables.attachment_blob, tables.attachment_chunk, tables.attachment
_INSERT_CHUNK = insert(_C).values(sha256=bindparam("k"), idx=bindparam("i"), data=bindparam("d"))
_READ_CHUNK = select(_C.c.data).where(_C.c.sha256 == bindparam("s"), _C.c.idx == bindparam("i"))


def label(source: Path) -> str:
    """The name a record keeps: printable characters of the file name, at most 255."""
    return "".join(ch for ch in source.name if ch.isprintable())[:255] or "附件"


def store(session: Any, source: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> dict[str, Any]:
    """Copy `source` into the database in `session`'s transaction (the caller commits or
    rolls back with its event); returns {name, sha256, size}."""
    name = label(source)
    conn = session.connection()
    provisional = "~" + uuid.uuid4().hex
    digest, size, idx = hashlib.sha256(), 0, 0
    try:
        src = open(source, "rb")  # noqa: SIM115 - closed below; opened once, so a later rename or removal changes nothing
    except FileNotFoundError:
        raise BadInput(f"附件 {source} 不存在。") from None
    except IsADirectoryError:
        raise BadInput(f"附件 {source} 是文件夹，不是文件。") from None
    except OSError as exc:
        raise BadInput(f"附件 {source} 无法读取（{exc.strerror or type(exc).__name__}）。") from None
    with src:
        while True:
            try:
                piece = src.read(min(CHUNK, max_bytes + 1 - size))
            except OSError as exc:
                raise BadInput(f"读取附件 {source} 时出错（{exc.strerror or type(exc).__name__}），未保存。") from None
            if not piece:
                break
            size += len(piece)
            if size > max_bytes:
                raise BadInput(f"附件 {name} 超过上限 {max_bytes} 字节（读取中已超过），未保存。")
            digest.update(piece)
            conn.execute(_INSERT_CHUNK, {"k": provisional, "i": idx, "d": piece})
            idx += 1
    sha = digest.hexdigest()
    _settle(session, provisional, sha, size)
    return {"name": name, "sha256": sha, "size": size}


def _settle(session: Any, provisional: str, sha: str, size: int) -> None:
    """Give the provisional pieces their sha256, or drop them if that content is stored."""
    conn = session.connection()
    exists = select(_B.c.sha256).where(_B.c.sha256 == sha)
    if conn.dialect.name == "postgresql":
        exists = exists.with_for_update(read=True)  # keeps collect_garbage off it until we commit
    if conn.execute(exists).first() is None:
        try:
            with session.begin_nested():
                conn.execute(insert(_B).values(sha256=sha, size=size))
                conn.execute(update(_C).where(_C.c.sha256 == provisional).values(sha256=sha))
            return
        except IntegrityError:  # PostgreSQL: another command stored it and committed meanwhile
            pass
    conn.execute(delete(_C).where(_C.c.sha256 == provisional))


# ---------------------------------------------------------------- reading
@dataclass
class Content:
    """An attachment to send: `chunks` yields its bytes in order (checked against sha256)."""

    name: str
    size: int
    sha256: str
    chunks: Iterator[bytes]


def read_chunks(engine: Any, sha: str) -> Iterator[bytes]:
    """The stored pieces of `sha`, one query each, on a connection of their own; raises
    DubanError if the content is missing or does not match its sha256."""
    digest, idx = hashlib.sha256(), 0
    with engine.connect() as conn:
        if conn.execute(select(_B.c.size).where(_B.c.sha256 == sha)).first() is None:
            raise DubanError(f"附件内容 {sha[:12]}… 不在数据库中（升级时未找到原文件）；请向报送人索取。")
        while (piece := conn.execute(_READ_CHUNK, {"s": sha, "i": idx}).scalar()) is not None:
            piece = bytes(piece)
            digest.update(piece)
            yield piece
            idx += 1
    if digest.hexdigest() != sha:
        raise DubanError(f"附件内容 {sha[:12]}… 已损坏（sha256 不符）；请向报送人索取。")


def records(conn: Any, assignment_id: int) -> list[Any]:
    """The assignment's attachment records, oldest first."""
    return list(conn.execute(select(_R.c.id, _R.c.name, _R.c.sha256, _R.c.size)
                             .where(_R.c.assignment_id == assignment_id).order_by(_R.c.id)))


# ---------------------------------------------------------------- garbage
@dataclass
class Garbage:
    contents: int  # stored contents no record uses
    size: int      # their bytes
    removed: bool


def collect_garbage(engine: Any, dry_run: bool = False) -> Garbage:
    """Remove stored content no attachment record uses (`dry_run`: only count it)."""
    unused = select(_B.c.sha256).where(_B.c.sha256.not_in(select(_R.c.sha256).distinct()))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("LOCK TABLE attachment_blob, attachment_chunk IN EXCLUSIVE MODE"))
        else:  # SQLite: take the write lock now, so the count and the removal see the same
            conn.execute(delete(_C).where(_C.c.sha256 == "~none"))
        count, size = conn.execute(select(func.count(), func.coalesce(func.sum(_B.c.size), 0))
                                   .where(_B.c.sha256.in_(unused))).one()
        if not dry_run and count:
            conn.execute(delete(_C).where(_C.c.sha256.in_(unused)))
            conn.execute(delete(_B).where(_B.c.sha256.in_(unused)))
        # pieces without a blob (none are ever committed so; a hand-edited database)
        if not dry_run:
            conn.execute(delete(_C).where(_C.c.sha256.not_in(select(_B.c.sha256))))
    return Garbage(count, int(size), removed=not dry_run)
