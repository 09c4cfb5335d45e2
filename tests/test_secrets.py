"""Secrets and files (issue 6, item 6): tokens and the SMTP password never appear in
output, error messages or `--debug` tracebacks; the database, the credentials file and
the attachment store are private (0600 files, 0700 folders). The config warning for a
readable duban.toml holding a password is tested in test_config.py."""
from __future__ import annotations

import base64
import json
import sqlite3
import stat
from pathlib import Path

import pytest

from cli_helpers import run, run_json
from mailkit import free_port

SECRET = "SeCrEtPaRt0123456789abcdefXYZ"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _no_secret(proc, *secrets: str) -> None:
    text = proc.stdout + proc.stderr
    for secret in secrets:
        assert secret not in text, f"secret leaked: {text[-2000:]}"


@pytest.mark.parametrize("token", [
    f"duban_3_{SECRET}",                    # well formed, wrong secret
    f"duban_99999_{SECRET}",                # unknown user
    f"not a token {SECRET}",                # malformed
    f"duban_3_{SECRET}" + "x" * 300,        # too long
])
def test_a_wrong_token_is_not_echoed_even_with_debug(world, token):
    proc = run("--debug", "task", "list", db=world.url, token=token)
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr  # --debug shows the stack...
    _no_secret(proc, SECRET)  # ...but never the token


def test_a_valid_token_is_not_echoed_by_a_failing_command(world):
    token = world.token("张三")
    for args in (["--debug", "task", "start", "99999"], ["--debug", "task", "submit", "1"],
                 ["--debug", "review", "approve", str(world.assignment(1, "装财处"))], ["whoami"]):
        proc = run(*args, db=world.url, token=token)
        _no_secret(proc, token, token.split("_", 2)[2])


def test_tokens_are_stored_only_as_hashes(world):
    token = world.token("张三")
    assert run("task", "list", db=world.url, token=token).returncode == 0
    listing = run("user", "list", "--json", db=world.url, token=token)
    assert listing.returncode == 0 and "scrypt" not in listing.stdout and "token" not in listing.stdout
    assert set(json.loads(listing.stdout)[0]) == {"id", "name", "email", "department", "roles", "active"}
    table = run("user", "list", db=world.url, token=token)
    assert "scrypt" not in table.stdout
    if world.url.startswith("sqlite"):
        with sqlite3.connect(world.url.removeprefix("sqlite:///")) as conn:
            dump = "\n".join(conn.iterdump())
        assert token not in dump and token.split("_", 2)[2] not in dump and "scrypt$1024$8$1$" in dump


def test_smtp_password_stays_secret_with_debug(world, tmp_path):
    """A server that refuses the login: the password shows nowhere, --debug or not."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from mailkit import SinkHandler

    password = "SmTpPaSsWoRd-9f8e7d6c"
    port = free_port()
    controller = Controller(SinkHandler(), hostname="127.0.0.1", port=port, auth_require_tls=False,
                            authenticator=lambda *a: AuthResult(success=False, handled=False))
    config = tmp_path / "duban.toml"
    config.write_text('[mail]\nbackend = "smtp"\nsecurity = "plain"\nusername = "duban"\n', encoding="utf-8")
    config.chmod(0o600)
    env = {"DUBAN_CONFIG": str(config), "DUBAN_SMTP_HOST": "127.0.0.1", "DUBAN_SMTP_PORT": str(port),
           "DUBAN_SMTP_PASSWORD": password}
    encoded = base64.b64encode(f"\0duban\0{password}".encode()).decode()
    controller.start()
    try:
        for args in (["--debug", "outbox", "send"], ["outbox", "send"], ["--debug", "mail", "test", "a@example.gov.cn"]):
            proc = run(*args, db=world.url, user="李审核", env=env)
            assert proc.returncode == 1, proc.stderr
            assert "535" in proc.stderr or "登录" in proc.stderr
            _no_secret(proc, password, encoded)
    finally:
        controller.stop()
    listing = run("outbox", "list", "--json", db=world.url, user="李审核", env=env)
    _no_secret(listing, password, encoded)


def test_database_file_is_private(tmp_path):
    db = tmp_path / "new.db"
    init = run("db", "init", "--admin", "吴管理", "--email", "wu@example.gov.cn", db=str(db))
    assert init.returncode == 0, init.stderr
    assert mode(db) == 0o600
    for side in (tmp_path / "new.db-wal", tmp_path / "new.db-shm"):
        if side.exists():  # SQLite gives its WAL files the database file's permissions
            assert mode(side) & 0o077 == 0


def test_attachments_stay_inside_the_private_database(world, tmp_path):
    """Attachments live in the database (0600), not in a folder beside the current directory
    (issue 14): the old DUBAN_DATA setting makes no folder any more."""
    aid = str(world.assignment(1, "装财处"))
    data = tmp_path / "data"
    upload = tmp_path / "公开截图.png"
    upload.write_bytes(b"\x89PNG fake screenshot")
    env = {"DUBAN_DATA": str(data)}
    assert run("task", "start", aid, db=world.url, user="张三", env=env).returncode == 0
    proc = run("task", "submit", aid, "--summary", "见附件", "--attach", str(upload), db=world.url,
               user="张三", env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not data.exists() and not (tmp_path / "duban-files").exists()
    shown = run_json("task", "show", aid, db=world.url, user="张三")
    assert shown["attachments"][0]["name"] == "公开截图.png" and str(tmp_path) not in json.dumps(shown)
