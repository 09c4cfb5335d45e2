"""A PostgreSQL cluster private to the test session, for tests that stop and restart the
server itself. The shared server (DUBAN_TEST_PG) serves every other test and must never
be stopped, so these tests initdb a throw-away cluster on a free port instead.

initdb and postgres refuse to run as root; as root they run as the `postgres` system user.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Iterator

import pytest

BIN_DIRS = ("/usr/local/bin", "/usr/lib/postgresql/15/bin")
PG_USER = "postgres"


def _binaries() -> dict[str, str] | None:
    """initdb and pg_ctl from one directory (pg_ctl finds postgres beside itself)."""
    for d in BIN_DIRS:
        found = {name: os.path.join(d, name) for name in ("initdb", "pg_ctl", "postgres")}
        if all(os.access(p, os.X_OK) for p in found.values()):
            return found
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateCluster:
    """One initdb'd cluster: start(), stop(mode), and a URL per database."""

    def __init__(self, base: Path, bins: dict[str, str], as_user: list[str]):
        self.base = base
        self.data = base / "data"
        self.log = base / "server.log"
        self.bins = bins
        self.as_user = as_user  # ["runuser", "-u", "postgres", "--"] as root, else []
        self.port = _free_port()
        self.running = False

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, *args], capture_output=True, text=True,
                              cwd=self.base, timeout=timeout)

    def init(self) -> subprocess.CompletedProcess:
        return self._run(self.bins["initdb"], "--no-sync", "-A", "trust", "-U", PG_USER, "-E", "UTF8",
                         "--locale=C", "-D", str(self.data))

    def start(self) -> subprocess.CompletedProcess:
        """Start and wait until it accepts connections (after crash recovery, if any)."""
        options = (f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off"
                   " -c max_connections=20 -c shared_buffers=16MB")
        proc = self._run(self.bins["pg_ctl"], "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                         "-o", options, "start", timeout=90)
        self.running = proc.returncode == 0
        return proc

    def stop(self, mode: str = "immediate") -> None:
        """`pg_ctl stop -m mode`: "immediate" is a crash (no checkpoint, recovery on start),
        "fast" ends every session with "terminating connection due to administrator command"."""
        proc = self._run(self.bins["pg_ctl"], "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        self.running = False

    def ensure_running(self) -> None:
        if not self.running:
            proc = self.start()
            assert proc.returncode == 0, proc.stdout + proc.stderr + self.log_tail()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def libpq_url(self, database: str = "postgres") -> str:
        return self.url(database).replace("postgresql+psycopg://", "postgresql://")

    def new_schema(self) -> str:
        """The URL of a fresh, empty schema (cheaper than a database: no copy, no checkpoint)."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.libpq_url(), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        return f"{self.url()}?options=-csearch_path%3D{name}"

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _as_user() -> list[str] | None:
    """The prefix to run the server's binaries with; None when that is impossible."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        return None
    try:
        import pwd

        pwd.getpwnam(PG_USER)
    except KeyError:
        return None
    return [runuser, "-u", PG_USER, "--"]


def _setup() -> Iterator[PrivateCluster]:
    bins = _binaries()
    if bins is None:
        pytest.skip("找不到 PostgreSQL 程序(initdb、pg_ctl、postgres),无法建立测试专用的数据库集群")
    as_user = _as_user()
    if as_user is None:
        pytest.skip(f"以 root 运行但没有 {PG_USER} 系统用户(或 runuser),无法运行 initdb")
    # The system temporary directory, not pytest's tmp_path: that one is private to root
    # and the postgres user could not reach the data directory inside it.
    base = Path(tempfile.mkdtemp(prefix="duban-pg-"))
    cluster = PrivateCluster(base, bins, as_user)
    try:
        if as_user:
            shutil.chown(base, user=PG_USER)
        init = cluster.init()
        if init.returncode != 0:
            pytest.skip(f"initdb 失败,无法建立测试专用的数据库集群:{init.stderr.strip()[-200:]}")
        started = cluster.start()
        if started.returncode != 0:
            pytest.skip(f"测试专用的数据库集群无法启动:{(started.stderr.strip() or cluster.log_tail(3))[-200:]}")
        yield cluster
    finally:
        if cluster.data.exists():  # stopped even when a test failed with the server up
            try:
                cluster._run(bins["pg_ctl"], "-D", str(cluster.data), "-m", "immediate", "-w", "stop")
            except subprocess.TimeoutExpired:
                pass
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def private_pg_cluster() -> Iterator[PrivateCluster]:
    """One cluster per test module: initdb costs about a second; each test takes a schema."""
    yield from _setup()


@pytest.fixture
def private_pg(private_pg_cluster: PrivateCluster) -> Iterator[PrivateCluster]:
    """The module's private cluster, running, and running again after the test (which may
    have stopped it), so one test's stop cannot fail the next."""
    private_pg_cluster.ensure_running()
    yield private_pg_cluster
    private_pg_cluster.ensure_running()
