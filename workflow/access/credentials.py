"""The credentials file: the token `duban login` saved, per database.

`$XDG_CONFIG_HOME/duban/credentials` (default `~/.config/duban/credentials`), JSON,
keyed by the database URL so one person can use two databases. The file is created
0600 in a 0700 folder: it holds a bearer token, as good as a password.

Read on every command by cli.py's root callback, so this module imports nothing
heavy (no SQLAlchemy): `duban plan import --dry-run` must stay fast.
"""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit, urlunsplit

DEFAULT_DB = "duban.db"


def path() -> Path:
    """Where the file lives (XDG base directory spec)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "duban" / "credentials"


def key(db_url: str | None) -> str:
    """The database a token belongs to: SQLite as an absolute file, others without a password.

    Mirrors db.engine.normalise_url (without importing it) so that `--db duban.db`,
    `--db ./duban.db` and `--db sqlite:////abs/duban.db` share one login.
    """
    url = db_url or DEFAULT_DB
    if "://" not in url:
        return "sqlite:///" + str(Path(url).expanduser().resolve())
    if url.startswith("sqlite:///"):
        rest = url[len("sqlite:///"):]
        if rest and rest != ":memory:":
            return "sqlite:///" + str(Path(rest).expanduser().resolve())
        return url
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = (f"{parts.username}@" if parts.username else "") + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def _load(file: Path) -> dict:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and isinstance(data.get("databases"), dict) else {}


def load(db_url: str | None, warn: TextIO | None = None) -> str | None:
    """The saved token for this database, or None. Warns if the file is readable by others."""
    file = path()
    if not file.exists():
        return None
    if warn is not None and file.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        print(f"警告：凭据文件 {file} 可被他人读取，请运行 chmod 600 {file}。", file=warn)
    entry = _load(file).get("databases", {}).get(key(db_url))
    token = entry.get("token") if isinstance(entry, dict) else None
    return token if isinstance(token, str) else None


def saved_user(db_url: str | None) -> str | None:
    """The name saved with this database's token (for logout's message; not trusted)."""
    entry = _load(path()).get("databases", {}).get(key(db_url)) if path().exists() else None
    return entry.get("user") if isinstance(entry, dict) else None


def save(db_url: str | None, token: str, user: str) -> Path:
    """Store the token for this database, replacing the file atomically (0600 in 0700)."""
    file = path()
    file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(file.parent, 0o700)
    data = _load(file) or {"databases": {}}
    data["databases"][key(db_url)] = {"token": token, "user": user}
    _write(file, data)
    return file


def remove(db_url: str | None) -> bool:
    """Forget this database's token; True if there was one."""
    file = path()
    data = _load(file)
    if key(db_url) not in data.get("databases", {}):
        return False
    del data["databases"][key(db_url)]
    _write(file, data)
    return True


def _write(file: Path, data: dict) -> None:
    tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.fchmod(fh.fileno(), 0o600)  # O_CREAT's mode does not apply to a leftover file
            json.dump(data, fh, ensure_ascii=False, indent=2)
        os.replace(tmp, file)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise


def cli_token(db_url: str | None, warn: TextIO | None = None) -> str | None:
    """The token the CLI acts with: DUBAN_TOKEN, else the credentials file for this database."""
    return os.environ.get("DUBAN_TOKEN") or load(db_url, warn)
