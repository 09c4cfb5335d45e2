"""`duban db`: create or upgrade the database."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from commands.common import JSON, app_of, ex, group, print_json


db_app = group("db", "数据库：初始化与升级。", "duban db init", "duban --db postgresql://postgres@127.0.0.1/test db init")


@db_app.command("init", epilog=ex("duban db init --admin 吴管理 --email wu@sfj.gz.gov.cn",
                                  "duban db init", "DUBAN_DB=postgresql://postgres@127.0.0.1/test duban db init"))
def db_init(ctx: typer.Context,
            admin: Annotated[Optional[str], typer.Option("--admin", help="同时创建第一位管理员（仅当还没有管理员时），并显示其令牌一次")] = None,
            email: Annotated[Optional[str], typer.Option("--email", help="配合 --admin：管理员的邮箱")] = None,
            as_json: JSON = False) -> None:
    """创建数据库或升级到最新结构；重复执行是安全的。"""
    from workflow.access.service import init_database

    app = app_of(ctx)
    migration, first_admin = init_database(app, admin, email)
    before, after = migration.before, migration.after
    if not as_json:
        # With --admin, stdout carries the token alone (`> f` then `login --token-stdin < f`).
        print(f"数据库已是最新结构（{after}）。" if before == after else
              f"数据库已{'升级' if before else '创建'}：{before or '空'} → {after}。",
              file=app.err if first_admin else app.out)
    for note in migration.notes:
        print(note, file=app.err)
    if first_admin:
        from commands.auth import show_token

        user, token = first_admin
        show_token(app, user, token, as_json, {"revision": after})
    elif as_json:
        print_json(app, {"revision": after})

