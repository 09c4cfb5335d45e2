"""Tokens: issuing, hashing, verifying, and turning a token into the acting user.

A token is `duban_<user id>_<secret>`: the id makes the lookup direct (no scan of every
hash), the secret is 32 random bytes. Only a slow hash of the whole token is stored
(scrypt, n=2**14, r=8, p=1, 16-byte salt), so a copy of the database does not give
anyone a usable token. Every way a token can be wrong is refused with the same
sentence, so an attacker learns nothing about which part was wrong.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from typing import TYPE_CHECKING, Callable, TypeVar

from workflow.errors import NotAuthenticated, Refused

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from db.models import User

U = TypeVar("U")  # a user as check_token's caller reads it (needs token_hash and active)

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
# A stored hash names its own cost. duban always issues at SCRYPT_N; verify accepts any
# power of two from MIN_N (the test suite issues its thousands of tokens there: at
# SCRYPT_N its command-line runs spent a minute hashing) up to MAX_N (room to raise
# SCRYPT_N later without invalidating old tokens; the cap bounds memory and time).
# Accepting a cheaper stored cost gives nothing away: whoever can write the token_hash
# column can already write a hash of a token they know (see README, 安全模型).
MIN_N, MAX_N = 2**10, 2**20
SALT_BYTES, KEY_BYTES = 16, 32
MAX_TOKEN = 200  # longer input is refused before any hashing (no work for garbage)
TOKEN_RE = re.compile(r"^duban_([1-9][0-9]{0,9})_([A-Za-z0-9_-]{20,100})$")
MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL

REFUSAL = "身份验证失败：令牌无效或已停用；请用 duban login 重新登录，或设置 DUBAN_TOKEN。"
NOT_LOGGED_IN = "未登录：请先用 duban login 登录，或设置环境变量 DUBAN_TOKEN。"


def as_mismatch(named: str, holder: str) -> str:
    """--as (or DUBAN_USER) names someone other than the valid token's holder."""
    from workflow.errors import shown

    return (f"--as 指定的是“{shown(named)}”，而当前令牌属于“{holder}”：命令总是以令牌持有人的身份执行；"
            f"请去掉 --as（或环境变量 DUBAN_USER），或用“{shown(named)}”本人的令牌登录。")


def new_token(user_id: int) -> str:
    """A fresh token for `user_id`; shown once, never stored."""
    return f"duban_{user_id}_{secrets.token_urlsafe(32)}"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _scrypt(token: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(token.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=2 * 128 * n * r * p + (1 << 20), dklen=KEY_BYTES)


def hash_token(token: str, salt: bytes | None = None, *, n: int = SCRYPT_N) -> str:
    """`scrypt$16384$8$1$<salt b64>$<hash b64>`: the parameters travel with the hash."""
    if not _acceptable_n(n):
        raise ValueError(f"scrypt n={n} is outside {MIN_N}..{MAX_N} or not a power of two")
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(token, salt, n, SCRYPT_R, SCRYPT_P)
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def _acceptable_n(n: int) -> bool:
    return MIN_N <= n <= MAX_N and n & (n - 1) == 0


def verify(token: str, stored: str | None) -> bool:
    """Whether `token` matches the stored hash (constant-time comparison)."""
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt" or not _acceptable_n(int(n)) or (int(r), int(p)) != (SCRYPT_R, SCRYPT_P):
            return False  # a cost outside the accepted range is never computed
        expected = base64.b64decode(digest, validate=True)
        actual = _scrypt(token, base64.b64decode(salt, validate=True), int(n), SCRYPT_R, SCRYPT_P)
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


# Hashed when the id is unknown, so such a token costs as long to refuse as a wrong one.
_DUMMY = f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(bytes(SALT_BYTES))}${_b64(bytes(KEY_BYTES))}"


def issue_token(session: "Session", user: "User", *, n: int = SCRYPT_N) -> str:
    """Give `user` a new token (the old one stops working) and commit; returns it once.

    `n` is for the test suite only (see MIN_N); every caller in duban keeps the default.
    """
    token = new_token(user.id)
    user.token_hash = hash_token(token, n=n)
    session.add(user)
    session.commit()
    return token


def authenticate(session: "Session", token: str | None) -> "User":
    """The active user a token belongs to; any failure is the one REFUSAL sentence."""
    from db.models import User

    return check_token(token, lambda user_id: session.get(User, user_id))


def check_token(token: str | None, find: Callable[[int], U | None]) -> U:
    """The active user a token belongs to, read by `find(user id)`: an ORM User
    (authenticate) or plain values (App.read_viewer, which must not build the ORM
    classes). Any failure is the one REFUSAL sentence."""
    token = (token or "").strip()
    if not token:
        raise NotAuthenticated(NOT_LOGGED_IN)
    match = TOKEN_RE.match(token) if len(token) <= MAX_TOKEN else None
    if match is None or int(match.group(1)) > MAX_ID:
        raise NotAuthenticated(REFUSAL)
    user = find(int(match.group(1)))
    stored = user.token_hash if user is not None else None
    ok = verify(token, stored or _DUMMY)
    if not ok or user is None or not stored or not user.active:
        raise NotAuthenticated(REFUSAL)
    return user


def revoke(session: "Session", user: "User") -> None:
    """Stop a user: no token works and name lookups treat them as inactive."""
    from sqlmodel import select

    from db.models import User

    if "admin" in user.roles and user.active:
        admins = [u for u in session.exec(select(User).where(User.active == True)).all()  # noqa: E712
                  if "admin" in u.roles]
        if len(admins) <= 1:
            raise Refused(f"{user.name}是最后一位在用的管理员，不能停用；请先添加另一位管理员。")
    user.token_hash = None
    user.active = False
    session.add(user)
    session.commit()


def has_admin(engine: "Engine") -> bool:
    """Whether an active admin exists (on any schema version, before upgrading)."""
    from sqlalchemy import inspect, text

    if not inspect(engine).has_table("app_user"):
        return False
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT roles, active FROM app_user")).all()
    import json

    for roles, active in rows:
        roles = json.loads(roles) if isinstance(roles, str) else roles
        if active and "admin" in (roles or []):
            return True
    return False
