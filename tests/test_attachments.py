"""Attachments live in the database (issue 14, findings 3 and 4).

- Stored with the data: a file submitted from one folder is fetched from another with
  `duban task attachment` (on PostgreSQL from any machine); the old code kept it in
  `./duban-files` of the submitter's current directory and had no fetch command.
- Content-addressed and in chunks: the same content is stored once, in 1 MiB pieces.
- The 20 MB limit is enforced while reading: a second process writing into a FIFO more
  than the limit is refused at the limit (the old code checked the size before the copy,
  saw 0 bytes, and stored everything); the stored size is the number of bytes read.
- Faults are one sentence: an unreadable file (EIO from /proc/self/mem), a missing file.
- A refused or failed command leaves nothing behind, in the store or the current folder.
- `duban attachments gc` removes content no record uses, `--dry-run` only counts it.
"""
from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from cli_helpers import run
from conftest import drive
from db import tables

TODAY = "2021-08-02"
MIB = 1 << 20


def _counts(world) -> tuple[int, int, int]:
    """(attachment records, stored contents, stored pieces)."""
    from sqlalchemy import create_engine  # noqa: F401

    with world.app().engine().connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar()
                     for t in (tables.attachment, tables.attachment_blob, tables.attachment_chunk))


def _submit(world, aid, *files, user="张三", cwd=None):
    return run("task", "submit", str(aid), "--summary", "见附件", *[a for f in files for a in ("--attach", str(f))],
               db=world.url, user=user, today=TODAY, cwd=cwd)


def test_submitted_file_is_fetched_from_anywhere(world, tmp_path):
    """Submit from one folder, fetch from another as a reviewer: same bytes, same name."""
    aid = world.assignment(1, "装财处")
    drive(world, aid, "in_progress")
    here, there = tmp_path / "submitter", tmp_path / "reviewer"
    here.mkdir(), there.mkdir()
    content = os.urandom(2 * MIB + 12345)  # three pieces
    (here / "公开报告.pdf").write_bytes(content)
    proc = _submit(world, aid, "公开报告.pdf", cwd=here)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in here.iterdir()) == ["公开报告.pdf"]  # nothing beside the current folder
    assert _counts(world) == (1, 1, 3)

    got = run("task", "attachment", str(aid), db=world.url, user="李审核", cwd=there)
    assert got.returncode == 0, got.stderr
    assert (there / "公开报告.pdf").read_bytes() == content
    assert "公开报告.pdf" in got.stdout and hashlib.sha256(content).hexdigest()[:12] in got.stdout

    out = there / "副本.pdf"
    got = run("task", "attachment", str(aid), "--name", "公开报告.pdf", "--out", str(out), db=world.url, user="张三")
    assert got.returncode == 0, got.stderr
    assert out.read_bytes() == content


def test_same_content_is_stored_once(world, tmp_path):
    first, second = world.assignment(1, "装财处"), world.assignment(3, "装财处")
    for aid in (first, second):
        drive(world, aid, "in_progress")
    (tmp_path / "a.png").write_bytes(b"same" * 1000)
    (tmp_path / "b.png").write_bytes(b"same" * 1000)
    assert _submit(world, first, tmp_path / "a.png").returncode == 0
    assert _submit(world, second, tmp_path / "b.png").returncode == 0
    assert _counts(world) == (2, 1, 1)


def test_several_attachments_need_a_name(world, tmp_path):
    aid = world.assignment(1, "装财处")
    drive(world, aid, "in_progress")
    for name in ("一.txt", "二.txt"):
        (tmp_path / name).write_text(name)
    assert _submit(world, aid, tmp_path / "一.txt", tmp_path / "二.txt").returncode == 0
    got = run("task", "attachment", str(aid), db=world.url, user="张三", cwd=tmp_path)
    assert got.returncode == 2 and "一.txt、二.txt" in got.stderr and "--name" in got.stderr
    got = run("task", "attachment", str(aid), "--name", "三.txt", db=world.url, user="张三", cwd=tmp_path)
    assert got.returncode == 1 and "三.txt" in got.stderr
    got = run("task", "attachment", str(aid), "--name", "二.txt", "--out", "-", db=world.url, user="张三")
    assert got.returncode == 0 and got.stdout == "二.txt"


def test_refused_submit_leaves_nothing(world, tmp_path):
    """Refused by the workflow (not started yet) and by visibility: no record, no content."""
    aid = world.assignment(1, "装财处")
    folder = tmp_path / "up"
    folder.mkdir()
    (folder / "截图.png").write_bytes(os.urandom(MIB + 1))
    before = _counts(world)
    refused = _submit(world, aid, folder / "截图.png", cwd=folder)  # still 已下发: cannot submit
    assert refused.returncode == 1 and "不能报送" in refused.stderr
    hidden = _submit(world, aid, folder / "截图.png", user="孙科监", cwd=folder)
    assert hidden.returncode == 1 and "不存在" in hidden.stderr
    assert _counts(world) == before
    assert sorted(p.name for p in folder.iterdir()) == ["截图.png"]


def test_a_missing_database_leaves_no_copy(tmp_path):
    """The old code copied the file into ./duban-files before finding the database gone."""
    (tmp_path / "secret.txt").write_text("not for the store")
    proc = run("task", "submit", "1", "--summary", "x", "--attach", "secret.txt",
               db=f"sqlite:///{tmp_path / 'gone.db'}", user="张三", cwd=tmp_path, token="x" * 43)
    assert proc.returncode == 1 and "不存在" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.txt"]


def _fifo_writer(fifo: Path, total: int, done: dict) -> threading.Thread:
    """Another writer feeding `total` bytes into the FIFO in pieces (the file grows while
    duban copies it); stops quietly when the reader goes away."""
    def write() -> None:
        written = 0
        try:
            with open(fifo, "wb") as fh:
                while written < total:
                    piece = b"x" * min(256 * 1024, total - written)
                    fh.write(piece)
                    written += len(piece)
        except BrokenPipeError:
            pass
        done["written"] = written
    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def test_a_file_growing_past_the_limit_is_refused_at_the_limit(world, tmp_path):
    aid = world.assignment(1, "装财处")
    drive(world, aid, "in_progress")
    fifo = tmp_path / "growing.log"
    os.mkfifo(fifo)
    done: dict = {}
    writer = _fifo_writer(fifo, 32 * MIB, done)
    before = _counts(world)
    proc = _submit(world, aid, fifo)
    writer.join(30)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "超过上限 20971520 字节" in proc.stderr, proc.stderr
    assert "内部错误" not in proc.stderr
    assert done["written"] < 32 * MIB  # duban stopped reading at the limit
    assert _counts(world) == before


def test_the_stored_size_is_what_was_read(world, tmp_path):
    """A FIFO has no size before it is read (stat says 0): the record says what arrived."""
    aid = world.assignment(1, "装财处")
    drive(world, aid, "in_progress")
    fifo = tmp_path / "stream.bin"
    os.mkfifo(fifo)
    writer = _fifo_writer(fifo, 3 * MIB + 5, {})
    proc = _submit(world, aid, fifo)
    writer.join(30)
    assert proc.returncode == 0, proc.stderr
    with world.app().engine().connect() as conn:
        assert conn.execute(select(tables.attachment.c.size)).scalar() == 3 * MIB + 5
        assert conn.execute(select(tables.attachment_blob.c.size)).scalar() == 3 * MIB + 5


@pytest.mark.parametrize("path,words", [
    ("/proc/self/mem", "读取附件 /proc/self/mem 时出错"),  # opens, then EIO on the first read
    ("{tmp}/不在了.pdf", "不存在"),
    ("{tmp}", "是文件夹"),
])
def test_an_unreadable_or_missing_file_is_one_sentence(world, tmp_path, path, words):
    aid = world.assignment(1, "装财处")
    drive(world, aid, "in_progress")
    before = _counts(world)
    proc = _submit(world, aid, path.replace("{tmp}", str(tmp_path)))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert words in proc.stderr and "内部错误" not in proc.stderr
    assert _counts(world) == before


def test_gc_removes_only_unused_content(world, tmp_path):
    aid = world.assignment(1, "装财处")
    drive(world, aid, "in_progress")
    (tmp_path / "kept.txt").write_bytes(b"kept")
    assert _submit(world, aid, tmp_path / "kept.txt").returncode == 0
    orphan = b"orphan" * 100
    sha = hashlib.sha256(orphan).hexdigest()
    with world.app().engine().begin() as conn:  # e.g. left by a record removed by hand
        conn.execute(tables.attachment_blob.insert().values(sha256=sha, size=len(orphan)))
        conn.execute(tables.attachment_chunk.insert().values(sha256=sha, idx=0, data=orphan))
    assert _counts(world) == (1, 2, 2)

    refused = run("attachments", "gc", db=world.url, user="李审核")
    assert refused.returncode == 1 and "管理员" in refused.stderr
    dry = run("attachments", "gc", "--dry-run", db=world.url, user="吴管理")
    assert dry.returncode == 0 and f"1 份附件内容（{len(orphan)} 字节）" in dry.stdout, dry.stdout
    assert _counts(world) == (1, 2, 2)
    done = run("attachments", "gc", db=world.url, user="吴管理")
    assert done.returncode == 0 and "已删除 1 份" in done.stdout
    assert _counts(world) == (1, 1, 1)
    got = run("task", "attachment", str(aid), "--out", "-", db=world.url, user="张三")
    assert got.stdout == "kept"


def test_a_damaged_content_is_refused_not_delivered(world, tmp_path):
    aid = world.assignment(1, "装财处")
    drive(world, aid, "in_progress")
    (tmp_path / "a.txt").write_bytes(b"original")
    assert _submit(world, aid, tmp_path / "a.txt").returncode == 0
    with world.app().engine().begin() as conn:
        conn.execute(text("UPDATE attachment_chunk SET data = :d"), {"d": b"tampered"})
    got = run("task", "attachment", str(aid), "--out", str(tmp_path / "b.txt"), db=world.url, user="张三")
    assert got.returncode == 1 and "已损坏" in got.stderr
    assert not (tmp_path / "b.txt").exists()


def test_gc_waits_for_a_command_reusing_unused_content(world, tmp_path):
    """A command is about to commit a record for content nobody used until now: gc, started
    meanwhile, must wait for it (the database lock) and then keep that content."""
    import time

    from sqlalchemy import insert

    from workflow.lifecycle.attachments import collect_garbage, store

    orphan = b"left over" * 50
    sha = hashlib.sha256(orphan).hexdigest()
    engine = world.app().engine()
    with engine.begin() as conn:
        conn.execute(tables.attachment_blob.insert().values(sha256=sha, size=len(orphan)))
        conn.execute(tables.attachment_chunk.insert().values(sha256=sha, idx=0, data=orphan))
    (tmp_path / "same.txt").write_bytes(orphan)
    aid = world.assignment(1, "装财处")
    result: dict = {}
    with world.app().session() as session:
        stored = store(session, tmp_path / "same.txt")  # reuses the unused content
        assert stored["sha256"] == sha
        gc = threading.Thread(target=lambda: result.update(g=collect_garbage(engine)), daemon=True)
        gc.start()
        time.sleep(0.5)  # an unlocked gc would have removed the content by now
        session.execute(insert(tables.attachment).values(assignment_id=aid, name="same.txt",
                                                         sha256=sha, size=len(orphan)))
        session.commit()
    gc.join(60)
    assert result["g"].contents == 0
    got = run("task", "attachment", str(aid), "--out", "-", db=world.url, user="张三")
    assert got.returncode == 0 and got.stdout.encode() == orphan
