"""Who a request is: a bearer token (API) or a session cookie (pages), and CSRF checks.

The token check is the library's (web/lib.authenticate); a session is a row of
web_session checked against the user row on every request (web/store.check_session).
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import Request

from workflow.context import Person
from workflow.errors import NotAuthenticated

from web import lib, store

COOKIE = "duban_session"
PRE_COOKIE = "duban_csrf"  # the sign-in form's double-submit token (no session yet)
NOT_SIGNED_IN = "未登录：请在请求头中提供 Authorization: Bearer <duban 令牌>。"


def core(request: Request):
    return request.app.state.core


def api_user(request: Request) -> Person:
    """The API's caller, from `Authorization: Bearer <token>`."""
    return lib.authenticate(core(request), bearer(request))


def bearer(request: Request) -> str:
    """The token of `Authorization: Bearer <token>` (401 without one), not yet checked:
    a write checks it in the worker thread that makes the change (api.as_caller)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated(NOT_SIGNED_IN)
    return token.strip()


@dataclass
class Visitor:
    person: Person
    csrf: str
    department: str | None = None


class SignInNeeded(Exception):
    """A page asked for by someone without a valid session: send them to the sign-in page."""


def page_user(request: Request) -> Visitor:
    app = core(request)
    with app.reader() as conn:
        signed = store.check_session(conn, request.cookies.get(COOKIE))
        person = lib.person_by_id(conn, signed.user_id) if signed else None
    if signed is None or person is None:
        raise SignInNeeded()
    return Visitor(person, signed.csrf)


def check_csrf(visitor: Visitor, sent: str | None) -> None:
    from workflow.errors import NotPermitted

    if not sent or not hmac.compare_digest(sent.encode(), visitor.csrf.encode()):
        raise NotPermitted("表单已过期或来源不明（CSRF 校验失败）；请刷新页面后重试。")


def is_https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"
