"""`duban user add/list` (the token commands are in commands/auth.py)."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from commands.common import JSON, app_of, ex, group, print_json
from commands.output import print_table


user_app = group("user", "用户、角色与登录令牌。", "duban user add 张三 --dept 装财处 --role staff --email zs@sfj.gz.gov.cn",
                  "duban user list", "duban user set 张三 --dept 科监处", "duban user rotate-token",
                  "duban user revoke 张三")


@user_app.command("add", epilog=ex("duban user add 张三 --dept 装财处 --role staff --email zs@sfj.gz.gov.cn",
                                   "duban user add 李审核 --dept 局政务公开办 --role reviewer --email li@sfj.gz.gov.cn"))
def user_add(ctx: typer.Context, name: Annotated[str, typer.Argument(help="姓名（用户名，同名不可重复）")],
             email: Annotated[str, typer.Option("--email", help="邮箱")],
             role: Annotated[list[str], typer.Option("--role", help="staff、head、reviewer、supervisor 或 admin，可多次使用")],
             dept: Annotated[Optional[str], typer.Option("--dept", help="所属处室")] = None,
             as_json: JSON = False) -> None:
    """添加用户（只有管理员可以添加），并显示其登录令牌一次。"""
    from commands.auth import show_token
    from workflow.access.service import add_user

    app = app_of(ctx)
    u, token = add_user(app, name, email, role, dept)
    app.say(f"已添加用户 {u.name}（编号 {u.id}，角色 {'、'.join(u.roles)}）。")
    show_token(app, u, token, as_json)


@user_app.command("list", epilog=ex("duban user list", "duban user list --json"))
def user_list(ctx: typer.Context, as_json: JSON = False) -> None:
    """列出用户（不含令牌或其哈希）。"""
    from dataclasses import asdict

    from workflow.directory.service import list_users

    app = app_of(ctx)
    rows = list_users(app)
    if as_json:
        print_json(app, [asdict(u) for u in rows])
        return
    print_table(app.out, ["编号", "姓名", "处室", "角色", "邮箱", "状态"],
                [[u.id, u.name, u.department or "", "、".join(u.roles), u.email, "在用" if u.active else "已停用"]
                 for u in rows])


@user_app.command("set", epilog=ex("duban user set 张三 --dept 科监处",
                                   "duban user set 张三 --role staff --role head",
                                   "duban user set 李审核 --email li@sfj.gz.gov.cn"))
def user_set(ctx: typer.Context, name: Annotated[str, typer.Argument(help="要修改的用户姓名")],
             role: Annotated[Optional[list[str]], typer.Option("--role", help="新的角色（替换原有角色）：staff、head、reviewer、supervisor 或 admin，可多次使用")] = None,
             dept: Annotated[Optional[str], typer.Option("--dept", help="新的所属处室")] = None,
             no_dept: Annotated[bool, typer.Option("--no-dept", help="不再属于任何处室（仅限非处室人员）")] = False,
             email: Annotated[Optional[str], typer.Option("--email", help="新的邮箱")] = None,
             as_json: JSON = False) -> None:
    """修改用户的角色、处室或邮箱（只有管理员可以修改）；令牌和办理记录不变。"""
    from workflow.directory.service import set_user

    app = app_of(ctx)
    change = set_user(app, name, role or None, dept, email, no_dept)
    u = change.user
    if as_json:
        print_json(app, {"id": u.id, "name": u.name, "roles": u.roles, "email": u.email,
                         "changed": {k: {"before": b, "after": a} for k, (b, a) in change.changed.items()}})
        return
    if not change.changed:
        print(f"{u.name}的角色、处室和邮箱均未改变。", file=app.out)
        return
    parts = "；".join(f"{label}由“{b}”改为“{a}”" for label, (b, a) in change.changed.items())
    print(f"已修改{u.name}：{parts}。", file=app.out)

