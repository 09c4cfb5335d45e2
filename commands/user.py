"""`duban user add/list` (the token commands are in commands/auth.py)."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from commands.common import JSON, app_of, ex, group, print_json
from commands.output import print_table


user_app = group("user", "用户、角色与登录令牌。", "duban user add 张三 --dept 装财处 --role staff --email zs@sfj.gz.gov.cn",
                  "duban user list", "duban user rotate-token", "duban user revoke 张三")


@user_app.command("add", epilog=ex("duban user add 张三 --dept 装财处 --role staff --email zs@sfj.gz.gov.cn",
                                   "duban user add 李审核 --dept 局政务公开办 --role reviewer --email li@sfj.gz.gov.cn"))
def user_add(ctx: typer.Context, name: Annotated[str, typer.Argument(help="姓名(即 --as 使用的名字)")],
             email: Annotated[str, typer.Option("--email", help="邮箱")],
             role: Annotated[list[str], typer.Option("--role", help="staff、head、reviewer、supervisor 或 admin,可多次使用")],
             dept: Annotated[Optional[str], typer.Option("--dept", help="所属处室")] = None,
             as_json: JSON = False) -> None:
    """添加用户(只有管理员可以添加),并显示其登录令牌一次。"""
    from commands.auth import show_token
    from workflow.access.service import add_user

    app = app_of(ctx)
    u, token = add_user(app, name, email, role, dept)
    app.say(f"已添加用户 {u.name}(编号 {u.id},角色 {'、'.join(u.roles)})。")
    show_token(app, u, token, as_json)


@user_app.command("list", epilog=ex("duban user list", "duban user list --json"))
def user_list(ctx: typer.Context, as_json: JSON = False) -> None:
    """列出用户(不含令牌或其哈希)。"""
    from dataclasses import asdict

    from workflow.directory.service import list_users

    app = app_of(ctx)
    rows = list_users(app)
    if as_json:
        print_json(app, [asdict(u) for u in rows])
        return
    print_table(app.out, ["编号", "姓名", "处室", "角色", "邮箱"],
                [[u.id, u.name, u.department or "", "、".join(u.roles), u.email] for u in rows])

