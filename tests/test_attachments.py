"""The attachment store is shared by content: a refused command removes only what nobody
else relies on.

Two commands that submit the same file share one stored copy (`<sha[:2]>/<sha>`). When the
command that copied it first is refused, the copy must stay if the other command has
committed a record pointing at it, or is between storing and committing. These tests run
the interleavings with two real OS processes: command A in a spawned process, paused inside
its transaction (fire's `before_write`), command B in the test's own process. The last
tests call discard() and the store's lock directly, for what a race cannot show on demand.
"""
from __future__ import annotations

import hashlib
import io
import multiprocessing as mp
import os
from pathlib import Path

import pytest
from sqlmodel import select

from conftest import drive
from db.models import Attachment
from commands.lifecycle import transition
from workflow.lifecycle.engine import Fields
from workflow.errors import NotPermitted

CONTENT = b"%PDF-1.4 report on budget disclosure\n" + bytes(range(256)) * 16
SHA = hashlib.sha256(CONTENT).hexdigest()
TODAY = "2021-08-02"


def _submit_in_child(url: str, aid: int, user: str, data: str, upload: str, refuse: bool,
                     paused, go, results) -> None:
    """Submit `upload` as `user` in this process; pause inside the transaction until `go`,
    then carry on, or (`refuse`) be refused there as a lost race would refuse it."""
    import datetime as dt
    import os

    from commands.common import App
    from workflow.clock import Clock
    from commands.lifecycle import transition
    from workflow.lifecycle.engine import Fields
    from workflow.errors import DubanError, LostRace

    os.environ["DUBAN_DATA"] = data

    def pause() -> None:
        paused.set()
        if not go.wait(60):
            raise TimeoutError("the test never let this command go on")
        if refuse:
            raise LostRace("事项刚被他人修改,本次操作未生效。")

    app = App(db_url=url, actor_name=user, clock=Clock(dt.date.fromisoformat(TODAY)),
              out=io.StringIO(), err=io.StringIO())
    try:
        transition(app, aid, "submit", Fields(summary="见附件"), attach=[Path(upload)], before_write=pause)
        results.put(("ok", ""))
    except DubanError as exc:
        results.put((type(exc).__name__, exc.message))


def _upload(folder: Path, name: str, content: bytes = CONTENT) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return path


def _stored(data: Path, sha: str = SHA) -> Path:
    return data / "attachments" / sha[:2] / sha


def _attachment_rows(world, aid: int) -> list[Attachment]:
    with world.session() as s:
        return list(s.exec(select(Attachment).where(Attachment.assignment_id == aid)).all())


def _assert_record_intact(world, data: Path, aid: int) -> None:
    """The assignment has one attachment record, and its file is there with its content."""
    rows = _attachment_rows(world, aid)
    assert [r.sha256 for r in rows] == [SHA]
    path = data / "attachments" / rows[0].stored_path
    assert path.is_file(), f"the committed attachment {rows[0].stored_path} lost its file"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA


@pytest.fixture
def data(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("DUBAN_DATA", str(folder))
    return folder


def _start_a(world, aid: int, data: Path, upload: Path, refuse: bool):
    ctx = mp.get_context("spawn")
    paused, go, results = ctx.Event(), ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=_submit_in_child,
                       args=(world.url, aid, "张三", str(data), str(upload), refuse, paused, go, results))
    proc.start()
    assert paused.wait(60), "command A never reached its write"
    return proc, go, results


def test_refused_command_keeps_a_file_another_command_committed(world, data, tmp_path):
    """A copies the file and pauses; B submits the same content to the same assignment and
    commits; A loses the race. B's record must keep its file."""
    aid = world.assignment(1, "装财处")
    drive(world, aid, "in_progress")
    a, go, results = _start_a(world, aid, data, _upload(tmp_path / "a", "报告.pdf"), refuse=False)
    try:
        assert _stored(data).is_file()  # A made the copy
        transition(world.app("赵六"), aid, "submit", Fields(summary="同一份报告"),
                   attach=[_upload(tmp_path / "b", "公开报告.pdf")])
    finally:
        go.set()
        a.join(60)
    assert a.exitcode == 0
    assert results.get(timeout=5)[0] == "LostRace"
    _assert_record_intact(world, data, aid)


def test_refused_command_keeps_a_file_another_command_is_about_to_commit(world, data, tmp_path):
    """A copies the file and pauses; B stores the same content (for another assignment) and,
    before B writes, A is refused and exits. B then commits: its file must be there."""
    aid_a = world.assignment(1, "装财处")
    aid_b = world.assignment(3, "科监处")
    drive(world, aid_a, "in_progress")
    transition(world.app("孙科监"), aid_b, "start")
    a, go, results = _start_a(world, aid_a, data, _upload(tmp_path / "a", "报告.pdf"), refuse=True)
    seen: dict[str, object] = {}

    def a_is_refused_meanwhile() -> None:
        go.set()
        a.join(60)
        seen["exitcode"], seen["file"] = a.exitcode, _stored(data).is_file()

    try:
        transition(world.app("孙科监"), aid_b, "submit", Fields(summary="同一份报告"),
                   attach=[_upload(tmp_path / "b", "公开报告.pdf")], before_write=a_is_refused_meanwhile)
    finally:
        go.set()
        a.join(60)
    assert seen == {"exitcode": 0, "file": True}
    assert results.get(timeout=5)[0] == "LostRace"
    assert _attachment_rows(world, aid_a) == []
    _assert_record_intact(world, data, aid_b)


def test_refused_submit_alone_leaves_nothing(world, data, tmp_path):
    """Nobody else uses the content: the refused command removes its copy, the lock file and
    the folders it made."""
    aid = world.assignment(1, "装财处")
    drive(world, aid, "in_progress")
    with pytest.raises(NotPermitted):
        transition(world.app("孙科监"), aid, "submit", Fields(summary="越权提交"),
                   attach=[_upload(tmp_path / "up", "截图.png")])
    assert not data.exists()


def test_refused_submit_leaves_the_store_as_it_was(world, data, tmp_path):
    """In a store already in use, a refused command removes its new content and keeps the
    content other records use, even when it submitted that content too."""
    aid = world.assignment(1, "装财处")
    drive(world, aid, "in_progress")
    other = world.assignment(3, "科监处")
    transition(world.app("孙科监"), other, "start")
    transition(world.app("孙科监"), other, "submit", Fields(summary="已提交"),
               attach=[_upload(tmp_path / "up", "报告.pdf")])
    before = sorted(p.relative_to(data) for p in data.rglob("*"))
    with pytest.raises(NotPermitted):
        transition(world.app("孙科监"), aid, "submit", Fields(summary="越权提交"),
                   attach=[_upload(tmp_path / "up", "新截图.png", b"new content"),
                           _upload(tmp_path / "up", "报告副本.pdf")])
    assert sorted(p.relative_to(data) for p in data.rglob("*")) == before
    _assert_record_intact(world, data, other)


def test_missing_attachment_leaves_nothing(world, data, tmp_path):
    """Refused before anything is copied: the lock file and the folders made for it go too."""
    from workflow.errors import BadInput

    aid = world.assignment(1, "装财处")
    drive(world, aid, "in_progress")
    with pytest.raises(BadInput):
        transition(world.app("张三"), aid, "submit", Fields(summary="见附件"),
                   attach=[_upload(tmp_path / "up", "报告.pdf"), tmp_path / "不存在.pdf"])
    assert not data.exists()


# --------------------------------------------------------------------------- discard itself


def test_discard_keeps_a_copy_it_made_when_a_record_uses_it(tmp_path):
    """The copy this command made is referenced anyway (its own commit went through before
    the error, or it restored a file a record had lost): it stays."""
    from workflow.lifecycle.attachments import discard, store

    store_dir = tmp_path / "attachments"
    item = store(_upload(tmp_path / "up", "报告.pdf"), store_dir)
    assert item["created"]
    discard([item], store_dir, referenced=lambda stored_path: stored_path == item["stored_path"])
    assert _stored(tmp_path).is_file()


def test_discard_keeps_the_copy_when_the_database_cannot_answer(tmp_path):
    from workflow.lifecycle.attachments import discard, store

    store_dir = tmp_path / "attachments"
    item = store(_upload(tmp_path / "up", "报告.pdf"), store_dir)

    def database_gone(stored_path: str) -> bool:
        raise ConnectionError("server closed the connection")

    discard([item], store_dir, referenced=database_gone)
    assert _stored(tmp_path).is_file()


def _waiting_flocks(path: Path) -> int:
    """How many flock requests are blocked on `path` (Linux lists them in /proc/locks)."""
    st = path.stat()
    inode = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    lines = Path("/proc/locks").read_text().splitlines()
    return sum(1 for line in lines if "->" in line and "FLOCK" in line and line.split()[-3] == inode)


@pytest.mark.skipif(not Path("/proc/locks").exists(), reason="needs Linux /proc/locks")
def test_a_command_waiting_on_a_removed_lock_file_locks_the_new_one(tmp_path):
    """A refused command removes the emptied store, lock file included, while another command
    waits for the lock: the waiter gets a lock on a file no longer in the store, notices, and
    locks the current one, so later discards still see it."""
    import fcntl
    import threading
    import time

    from workflow.lifecycle import attachments

    store_dir = tmp_path / "attachments"
    holder = attachments._lock(store_dir, fcntl.LOCK_EX)
    old_lock = store_dir / attachments.LOCK_NAME
    inside = threading.Event()
    leave = threading.Event()

    def command() -> None:
        with attachments.staged([_upload(tmp_path / "up", "报告.pdf")], store_dir, lambda p: False):
            inside.set()
            leave.wait(30)

    waiter = threading.Thread(target=command)
    waiter.start()
    deadline = time.monotonic() + 30
    while _waiting_flocks(old_lock) == 0:
        assert time.monotonic() < deadline, "the command never waited for the lock"
        time.sleep(0.01)
    attachments._remove_empty_store(store_dir)
    os.close(holder)
    assert inside.wait(30)
    try:
        assert _stored(tmp_path).is_file()
        with pytest.raises(BlockingIOError):  # the waiter holds the lock file now in the store
            attachments._lock(store_dir, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        leave.set()
        waiter.join(30)
