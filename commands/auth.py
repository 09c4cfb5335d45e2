"""Who is acting: login, logout, whoami, and the token side of `user` (add, revoke, rotate-token).

A token is shown exactly once, when it is issued: on stdout by itself (so a script can
capture it), with a one-line notice on stderr; `--json` puts it under `token`.
"""
from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from commands.common import App
from commands.common import JSON, app_of, ex, print_json
from workflow.errors import BadInput

if TYPE_CHECKING:  # pragma: no cover
    from db.models import User



def show_token(app: App, user: "User", token: str, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    """Print a freshly issued token once: alone on stdout, or under `token` in JSON."""
    if as_json:
        print_json(app, {"id": user.id, "name": user.name, "email": user.email, "roles": user.roles,
                         "token": token} | (extra or {}))
    else:
        print(token, file=app.out)
    print(f"以上是{user.name}的登录令牌，只显示这一次（duban 只保存它的哈希）；"
          f"请安全地转交本人，由本人用 duban login 登录。", file=app.err)


# ---------------------------------------------------------------- login / logout / whoami
def read_token(token_stdin: bool, stdin=None) -> str:
    """The token typed at a hidden prompt, or one line of stdin with --token-stdin."""
    stdin = stdin or sys.stdin
    if token_stdin:
        token = stdin.readline().strip()
    elif stdin.isatty():
        import getpass

        token = getpass.getpass("令牌（输入时不显示）：").strip()
    else:
        raise BadInput("标准输入不是终端，无法提示输入令牌；请用 --token-stdin 从标准输入读取一行令牌。")
    if not token:
        raise BadInput("未输入令牌；令牌由管理员用 duban user add 或 duban user rotate-token 生成。")
    return token


def login(ctx: typer.Context,
          token_stdin: Annotated[bool, typer.Option("--token-stdin", help="从标准输入读取一行令牌（用于脚本；不要把令牌写在命令行上）")] = False,
          as_json: JSON = False) -> None:
    """登录：验证令牌，并保存到本机凭据文件（仅本人可读，按数据库分别保存）。"""
    from workflow.access import credentials
    from workflow.access.service import authenticate

    app = app_of(ctx)
    token = read_token(token_stdin)
    user = authenticate(app, token)
    path = credentials.save(app.db_url, token, user.name)
    if as_json:
        print_json(app, {"name": user.name, "credentials": str(path)})
    else:
        print(f"已登录为{user.name}；令牌已保存到 {path}（仅本人可读）。", file=app.out)
    if os.environ.get("DUBAN_TOKEN"):
        print("注意：环境变量 DUBAN_TOKEN 已设置，它优先于保存的令牌。", file=app.err)


def logout(ctx: typer.Context) -> None:
    """退出登录：从本机凭据文件删除当前数据库的令牌。"""
    from workflow.access import credentials

    app = app_of(ctx)
    name = credentials.saved_user(app.db_url)
    if credentials.remove(app.db_url):
        print(f"已退出登录{f'({name})' if name else ''}；本机不再保存这个数据库的令牌。", file=app.out)
    else:
        print("本机没有保存这个数据库的令牌，无需退出。", file=app.out)
    if os.environ.get("DUBAN_TOKEN"):
        print("注意：环境变量 DUBAN_TOKEN 仍然有效；请 unset DUBAN_TOKEN。", file=app.err)


def whoami(ctx: typer.Context, as_json: JSON = False) -> None:
    """显示当前登录的用户、所属处室和角色。"""
    from workflow.access import credentials
    from workflow.access.service import whoami as who

    app = app_of(ctx)
    view = who(app)
    source = "环境变量 DUBAN_TOKEN" if os.environ.get("DUBAN_TOKEN") else str(credentials.path())
    if as_json:
        print_json(app, {"id": view.id, "name": view.name, "email": view.email,
                         "department": view.department, "roles": view.roles, "token_from": source})
        return
    print(f"{view.name}（{view.department or '无处室'}，角色 {'、'.join(view.roles)}）；令牌来自 {source}。",
          file=app.out)


# ---------------------------------------------------------------- user revoke / rotate-token
def user_revoke(ctx: typer.Context, name: Annotated[str, typer.Argument(help="要停用的用户姓名")],
                as_json: JSON = False) -> None:
    """停用用户：令牌立即失效，此人不能再登录或被代办（只有管理员可以停用）。"""
    from workflow.access.service import revoke

    app = app_of(ctx)
    user = revoke(app, name)
    if as_json:
        print_json(app, {"id": user.id, "name": user.name, "active": False})
    print(f"已停用{user.name}，其令牌已失效；如需恢复，由管理员运行 duban user rotate-token {user.name}。",
          file=app.out if not as_json else app.err)


def user_rotate_token(ctx: typer.Context,
                      name: Annotated[Optional[str], typer.Argument(help="用户姓名（默认本人；为他人更换需要管理员）")] = None,
                      as_json: JSON = False) -> None:
    """更换令牌：生成新令牌并只显示一次，旧令牌立即失效；管理员为停用的用户更换令牌即重新启用。"""
    from workflow.access import credentials
    from workflow.access.service import rotate_token

    app = app_of(ctx)
    rotation = rotate_token(app, name)
    target, token, reactivated, own = rotation.user, rotation.token, rotation.reactivated, rotation.own
    if own and app.authenticate and not os.environ.get("DUBAN_TOKEN") and credentials.load(app.db_url):
        credentials.save(app.db_url, token, target.name)
        print(f"已更新本机保存的令牌（{credentials.path()}）。", file=app.err)
    if reactivated:
        print(f"已重新启用{target.name}。", file=app.err)
    show_token(app, target, token, as_json)


def register(app: typer.Typer, user_app: typer.Typer) -> None:
    """Mount login/logout/whoami at the top and revoke/rotate-token under `user`."""
    app.command("login", epilog=ex("duban login", "duban --db postgresql://duban@db/duban login",
                                   "printf '%s\\n' \"$TOKEN\" | duban login --token-stdin"))(login)
    app.command("logout", epilog=ex("duban logout", "duban --db postgresql://duban@db/duban logout"))(logout)
    app.command("whoami", epilog=ex("duban whoami", "duban whoami --json"))(whoami)
    user_app.command("revoke", epilog=ex("duban user revoke 张三"))(user_revoke)
    user_app.command("rotate-token", epilog=ex("duban user rotate-token", "duban user rotate-token 张三"))(user_rotate_token)
