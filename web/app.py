"""The FastAPI application: pages (web/pages.py) and the REST API (web/api.py).

Built by `create_app()` from a Settings object; `duban serve` hands the settings to
uvicorn's worker processes through DUBAN_* environment variables (`from_env`). The
library does the work; this module wires requests to it, signs people in, and adds
the security headers every response carries.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from workflow.context import DEFAULT_DATA_DIR, Context
from workflow.clock import Clock, parse_date
from workflow.errors import DubanError

HERE = Path(__file__).parent


@dataclass
class Settings:
    db_url: str | None = None
    config_path: Path | None = None
    today: str | None = None  # a fixed "today" (demos and tests), as --today
    data_dir: str | None = None
    session_hours: int = 12  # these three come from duban.toml [web]
    link_days: int = 7
    base_url: str | None = None

    @classmethod
    def from_env(cls) -> "Settings":
        """What `duban serve` hands its worker processes (the CLI's own DUBAN_* variables)."""
        env = os.environ
        return cls(db_url=env.get("DUBAN_DB"),
                   config_path=Path(env["DUBAN_CONFIG"]) if env.get("DUBAN_CONFIG") else None,
                   today=env.get("DUBAN_TODAY") or None, data_dir=env.get("DUBAN_DATA") or None)


class SecurityHeaders:
    """The headers every response carries: a page's own Content-Security-Policy and
    Cache-Control are kept, the rest are set. Plain ASGI: starlette's BaseHTTPMiddleware
    (@app.middleware) costs about a millisecond of CPU a request."""

    SET = ((b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"same-origin"))

    def __init__(self, app, csp: str):
        self.app = app
        self.defaults = ((b"content-security-policy", csp.encode("latin-1")), (b"cache-control", b"no-store"))
        self.replaced = {name for name, _ in self.SET}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in self.replaced]
                present = {k.lower() for k, _ in headers}
                headers += [h for h in self.defaults if h[0] not in present] + list(self.SET)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def error_status(exc: DubanError) -> tuple[int, str]:
    """The HTTP status and the `code` of an error: the library's own (DubanError.http_status, .kind)."""
    return exc.http_status, exc.kind


def create_app(settings: Settings | None = None) -> FastAPI:
    from web import api, pages

    settings = settings or Settings.from_env()
    clock = Clock(parse_date(settings.today, "DUBAN_TODAY") if settings.today else None)
    core = Context(db_url=settings.db_url, clock=clock, config_path=settings.config_path,
                   data_dir=Path(settings.data_dir) if settings.data_dir else DEFAULT_DATA_DIR)
    core.engine()  # refuse an absent or old database now, not at the first request
    core.write_gate = _write_gate(core)
    config = core.config()
    settings.session_hours = config.web.session_hours
    settings.link_days = config.web.link_days
    settings.base_url = config.web.base_url

    app = FastAPI(title="duban 督办 API", version="1", docs_url=None, redoc_url=None,
                  openapi_url="/api/v1/openapi.json",
                  description="督办的 REST 接口：Authorization: Bearer <duban 令牌>；键名与命令行 --json 相同。")
    app.state.core = core
    app.state.settings = settings

    app.add_middleware(SecurityHeaders, csp=pages.CSP)

    @app.exception_handler(DubanError)
    async def duban_error(request: Request, exc: DubanError):
        status, code = error_status(exc)
        return _refusal(request, exc.message, code, status)

    from fastapi.exceptions import RequestValidationError

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        problems = "；".join(_field_problem(e) for e in exc.errors()[:3])
        return _refusal(request, f"请求的参数有误：{problems}。", "bad_input", 422)

    from starlette.exceptions import HTTPException as StarletteHTTPException

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        message = {404: "没有这个页面或接口。", 405: "不支持这种请求方法。"}.get(exc.status_code, str(exc.detail))
        return _refusal(request, message, "http", exc.status_code)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, exc: Exception):
        import logging

        from workflow.errors import database_problem

        problem = database_problem(exc)
        if problem is not None:
            return await duban_error(request, problem)
        logging.getLogger("duban.web").exception("internal error on %s", request.url.path)
        message = f"内部错误（{type(exc).__name__}）；请稍后重试，并把时间和网址告诉管理员。"
        return _refusal(request, message, "internal", 500)

    from web.auth import SignInNeeded

    @app.exception_handler(SignInNeeded)
    async def sign_in_needed(request: Request, exc: SignInNeeded):
        from web.pages import _to_login

        return _to_login(request)

    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app


def _write_gate(core: Context):
    """SQLite's writers of every worker take turns at one gate (db/write_gate.py)."""
    from db.engine import sqlite_file
    from db.write_gate import gate_for

    path = sqlite_file(str(core.engine().url))
    return gate_for(path) if path is not None else None


def _field_problem(err: dict) -> str:
    where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
    kind = err.get("type", "")
    if kind == "missing":
        return f"缺少 {where}"
    if "int" in kind:
        return f"{where} 应为整数"
    return f"{where} 的值无效"


def _refusal(request: Request, message: str, code: str, status: int):
    """One refusal, as the API's JSON `{"error", "code"}` or as an error page: every handler
    answers the same way."""
    if _is_api(request):
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"error": message, "code": code}, status_code=status, headers=headers)
    from web.pages import error_page

    return error_page(request, message, status)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith((request.scope.get("root_path", "") or "") + "/api/") or \
        request.url.path.startswith("/api/")


def factory() -> FastAPI:
    """uvicorn's factory for worker processes (settings from the environment)."""
    return create_app(Settings.from_env())
