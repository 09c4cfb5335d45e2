"""`duban serve`: the web pages and the REST API (web/) on uvicorn.

Parsing only: the settings go to uvicorn's worker processes as DUBAN_* environment
variables (each worker builds the app with web.app.factory), so `--workers N` works the
same as one process. SQLite suits one machine; several workers or hosts want PostgreSQL.
"""
from __future__ import annotations

import os
from typing import Annotated, Optional

import typer

from commands.common import app_of
from workflow.errors import BadInput


def serve(ctx: typer.Context,
          host: Annotated[str, typer.Option("--host", help="监听地址（默认只在本机）")] = "127.0.0.1",
          port: Annotated[int, typer.Option("--port", help="端口", min=1, max=65535)] = 8080,
          workers: Annotated[int, typer.Option("--workers", help="工作进程数（SQLite 建议 1 个；多台服务器请使用 PostgreSQL）", min=1, max=64)] = 1,
          root_path: Annotated[str, typer.Option("--root-path", help="在反向代理的子路径下运行时的前缀，如 /duban")] = "",
          proxy: Annotated[Optional[str], typer.Option("--forwarded-allow-ips", help="信任其 X-Forwarded-* 头的代理地址（默认 127.0.0.1）")] = None) -> None:
    """启动网页和 REST 接口（/api/v1）：用户用自己的 duban 令牌登录。"""
    import uvicorn

    app = app_of(ctx)
    if root_path and (not root_path.startswith("/") or root_path.endswith("/")):
        raise BadInput(f"--root-path“{root_path}”无效：应以 / 开头、不以 / 结尾，例如 /duban。")
    app.engine()  # refuse an absent or old database before listening
    app.config()
    env = os.environ
    if app.db_url:
        env["DUBAN_DB"] = app.db_url
    if app.config_path:
        env["DUBAN_CONFIG"] = str(app.config_path)
    if app.clock.fixed_today:
        env["DUBAN_TODAY"] = app.clock.today().isoformat()
    env["DUBAN_DATA"] = str(app.data_dir)
    print(f"督办网页：http://{host}:{port}{root_path}/ （接口 {root_path}/api/v1/，说明 {root_path}/api/v1/docs）；"  # ascii-punct: host:port
          f"按 Ctrl+C 停止。", flush=True)
    uvicorn.run("web.app:factory", factory=True, host=host, port=port, workers=workers,
                root_path=root_path, proxy_headers=True, forwarded_allow_ips=proxy or "127.0.0.1",
                log_level="warning", access_log=False)
