"""A real `duban serve` in a subprocess on a free port, for the web tests."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from cli_helpers import ROOT, cli_env, duban_cmd


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`duban serve` on `db` with a fixed today; `url` is its base address."""

    def __init__(self, db: str, today: str = "2021-08-02", data_dir: Path | None = None,
                 workers: int = 1, root_path: str = "", env: dict | None = None, port: int | None = None):
        self.port = port or free_port()
        self.root_path = root_path
        self.url = f"http://127.0.0.1:{self.port}{root_path}"
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="duban-web-data-"))
        args = [*duban_cmd(), "serve", "--port", str(self.port), "--workers", str(workers)]
        environment = cli_env(db, None, today, {"DUBAN_DATA": str(self.data_dir), **(env or {})}, "")
        self.log = tempfile.NamedTemporaryFile(prefix="duban-serve-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=environment, cwd=ROOT, start_new_session=True)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"duban serve exited: {Path(self.log.name).read_text()}")
            try:
                # Straight at the port: a root path is the reverse proxy's business.
                if httpx.get(f"http://127.0.0.1:{self.port}/api/v1/openapi.json", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("duban serve did not answer within 60 s")

    def client(self, token: str | None = None, **kw) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        kw.setdefault("follow_redirects", True)
        return httpx.Client(base_url=f"http://127.0.0.1:{self.port}", headers=headers, timeout=60, **kw)

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the server and its worker processes, by id
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def sign_in(client: httpx.Client, token: str) -> httpx.Response:
    """The sign-in form as a browser posts it (with its double-submit CSRF cookie)."""
    client.get("/login")
    csrf = client.cookies.get("duban_csrf")
    return client.post("/login", data={"token": token, "csrf": csrf, "next": "/"})


def page_csrf(html: str) -> str:
    import re

    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)
