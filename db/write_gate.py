"""A queue for SQLite's one writer, shared by the threads and processes of `duban serve`.

SQLite lets one connection write at a time. A writer that finds the lock taken waits
in SQLite's busy handler, which sleeps 1, 2, 5, 10… ms between tries, so under load the
lock often sits free while every writer sleeps. The web's workers (threads of one
process, and `--workers` processes) queue here instead: a thread lock within the
process, then an exclusive flock on a file beside the database, held around the
transaction of one state change, its attachments included (lifecycle.service opens
that session inside Context.writing()). The next
writer wakes as soon as the lock is released; the system releases it if a process dies.
Programs that do not use the gate (the CLI, the reminder daemon) still meet SQLite's
own lock, as before. Where flock does not exist (Windows) only the thread lock applies.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_GATES: dict[Path, "WriteGate"] = {}
_GATES_LOCK = threading.Lock()


class WriteGate:
    def __init__(self, path: Path) -> None:
        self.path = path  # the lock file: the database's name + "-writer"
        self._thread = threading.Lock()
        self._fd: int | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._thread:
            try:
                import fcntl
            except ImportError:  # pragma: no cover - not on Linux
                yield
                return
            fd = self._open()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _open(self) -> int:
        if self._fd is None:  # under self._thread
            self._fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        return self._fd


def gate_for(database: Path) -> WriteGate:
    """The one gate of this process for the SQLite file `database`."""
    path = Path(f"{database.resolve()}-writer")
    with _GATES_LOCK:
        gate = _GATES.get(path)
        if gate is None:
            gate = _GATES[path] = WriteGate(path)
        return gate
