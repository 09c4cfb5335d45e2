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
from commands.common import app_of, print_json
from workflow.errors import BadInput, NotFound

if TYPE_CHECKING:  # pragma: no cover
    from db.models import User

JSON = Annotated[bool, typer.Option("--json", help="以 JSON 输出(供脚本使用)")]
DIRECTORY_ADMIN = "无权修改处室名录:只有管理员可以添加或导入处室。"
PLAN_OFFICE = "无权导入计划:只有审核人(政务公开办)或管理员可以导入。"


def ex(*lines: str) -> str:
    return "\b\n示例:\n" + "\n".join(f"  {line}" for line in lines)


def show_token(app: App, user: "User", token: str, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    """Print a freshly issued token once: alone on stdout, or under `token` in JSON."""
    if as_json:
        print_json(app, {"id": user.id, "name": user.name, "email": user.email, "roles": user.roles,
                         "token": token} | (extra or {}))
    else:
        print(token, file=app.out)
    print(f"以上是{user.name}的登录令牌,只显示这一次(duban 只保存它的哈希);"
          f"请安全地转交本人,由本人用 duban login 登录。", file=app.err)


def _find_user(session, name: str) -> "User":
    from sqlmodel import select

    from db.models import User

    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise NotFound(f"用户“{name}”不存在;可用 duban user list 查看。")
    return user


# ---------------------------------------------------------------- db init --admin, user add
def create_first_admin(app: App, name: str, email: str) -> tuple["User", str]:
    """The very first admin, created by `db init --admin` when no active admin exists."""
    from workflow.access.tokens import issue_token
    from workflow.directory.store import add_user
    from workflow.errors import Refused

    with app.session() as s:
        if _active_admin_exists(s):
            raise Refused("数据库中已有管理员;新用户请由管理员用 duban user add 添加。")
        user = add_user(s, name, email, ["admin"], None, app.clock)
        return user, issue_token(s, user)


def _active_admin_exists(session) -> bool:
    from sqlmodel import select

    from db.models import User

    return any("admin" in u.roles for u in session.exec(select(User).where(User.active == True)))  # noqa: E712


def add_user_with_token(app: App, name: str, email: str, roles: list[str], dept: str | None) -> tuple["User", str]:
    """`user add`: an admin creates the user and gets their first token."""
    import states
    from workflow.access.tokens import issue_token
    from workflow.directory.store import add_user

    with app.session() as s:
        app.require(s, states.administers, "无权添加用户:只有管理员可以添加用户。")
        user = add_user(s, name, email, roles, dept, app.clock)
        return user, issue_token(s, user)


# ---------------------------------------------------------------- login / logout / whoami
def read_token(token_stdin: bool, stdin=None) -> str:
    """The token typed at a hidden prompt, or one line of stdin with --token-stdin."""
    stdin = stdin or sys.stdin
    if token_stdin:
        token = stdin.readline().strip()
    elif stdin.isatty():
        import getpass

        token = getpass.getpass("令牌(输入时不显示):").strip()
    else:
        raise BadInput("标准输入不是终端,无法提示输入令牌;请用 --token-stdin 从标准输入读取一行令牌。")
    if not token:
        raise BadInput("未输入令牌;令牌由管理员用 duban user add 或 duban user rotate-token 生成。")
    return token


def login(ctx: typer.Context,
          token_stdin: Annotated[bool, typer.Option("--token-stdin", help="从标准输入读取一行令牌(用于脚本;不要把令牌写在命令行上)")] = False,
          as_json: JSON = False) -> None:
    """登录:验证令牌,并保存到本机凭据文件(仅本人可读,按数据库分别保存)。"""
    from workflow.access import credentials
    from workflow.access.tokens import authenticate

    app = app_of(ctx)
    token = read_token(token_stdin)
    with app.session() as s:
        user = authenticate(s, token)
    path = credentials.save(app.db_url, token, user.name)
    if as_json:
        print_json(app, {"name": user.name, "credentials": str(path)})
    else:
        print(f"已登录为{user.name};令牌已保存到 {path}(仅本人可读)。", file=app.out)
    if os.environ.get("DUBAN_TOKEN"):
        print("注意:环境变量 DUBAN_TOKEN 已设置,它优先于保存的令牌。", file=app.err)


def logout(ctx: typer.Context) -> None:
    """退出登录:从本机凭据文件删除当前数据库的令牌。"""
    from workflow.access import credentials

    app = app_of(ctx)
    name = credentials.saved_user(app.db_url)
    if credentials.remove(app.db_url):
        print(f"已退出登录{f'({name})' if name else ''};本机不再保存这个数据库的令牌。", file=app.out)
    else:
        print("本机没有保存这个数据库的令牌,无需退出。", file=app.out)
    if os.environ.get("DUBAN_TOKEN"):
        print("注意:环境变量 DUBAN_TOKEN 仍然有效;请 unset DUBAN_TOKEN。", file=app.err)


def whoami(ctx: typer.Context, as_json: JSON = False) -> None:
    """显示当前登录的用户、所属处室和角色。"""
    from workflow.access import credentials
    from workflow.directory.store import user_views

    app = app_of(ctx)
    with app.session() as s:
        user = app.actor(s)
        view = next(v for v in user_views(s) if v.id == user.id)
    source = "环境变量 DUBAN_TOKEN" if os.environ.get("DUBAN_TOKEN") else str(credentials.path())
    if as_json:
        print_json(app, {"id": view.id, "name": view.name, "email": view.email,
                         "department": view.department, "roles": view.roles, "token_from": source})
        return
    print(f"{view.name}({view.department or '无处室'},角色 {'、'.join(view.roles)});令牌来自 {source}。",
          file=app.out)


# ---------------------------------------------------------------- user revoke / rotate-token
def user_revoke(ctx: typer.Context, name: Annotated[str, typer.Argument(help="要停用的用户姓名")],
                as_json: JSON = False) -> None:
    """停用用户:令牌立即失效,此人不能再登录或被代办(只有管理员可以停用)。"""
    import states
    from workflow.access.tokens import revoke

    app = app_of(ctx)
    with app.session() as s:
        app.require(s, states.administers, "无权停用用户:只有管理员可以停用用户。")
        user = _find_user(s, name)
        revoke(s, user)
    if as_json:
        print_json(app, {"id": user.id, "name": user.name, "active": False})
    print(f"已停用{user.name},其令牌已失效;如需恢复,由管理员运行 duban user rotate-token {user.name}。",
          file=app.out if not as_json else app.err)


def user_rotate_token(ctx: typer.Context,
                      name: Annotated[Optional[str], typer.Argument(help="用户姓名(默认本人;为他人更换需要管理员)")] = None,
                      as_json: JSON = False) -> None:
    """更换令牌:生成新令牌并只显示一次,旧令牌立即失效;管理员为停用的用户更换令牌即重新启用。"""
    import states
    from workflow.access import credentials
    from workflow.access.tokens import issue_token

    app = app_of(ctx)
    with app.session() as s:
        me = app.viewer(s)
        target = _find_user(s, name) if name else me
        if target is None:
            raise BadInput("请指定用户姓名,例如 duban user rotate-token 张三。")
        if me is not None and target.id != me.id and not states.administers(me.roles):
            raise _not_admin(me)
        reactivated = not target.active
        target.active = True
        token = issue_token(s, target)
    own = me is not None and target.id == me.id
    if own and app.authenticate and not os.environ.get("DUBAN_TOKEN") and credentials.load(app.db_url):
        credentials.save(app.db_url, token, target.name)
        print(f"已更新本机保存的令牌({credentials.path()})。", file=app.err)
    if reactivated:
        print(f"已重新启用{target.name}。", file=app.err)
    show_token(app, target, token, as_json)


def _not_admin(user: "User"):
    from workflow.errors import NotPermitted

    return NotPermitted(f"{user.name}无权为他人更换令牌:只能更换本人的令牌,为他人更换需要管理员。")


def register(app: typer.Typer, user_app: typer.Typer) -> None:
    """Mount login/logout/whoami at the top and revoke/rotate-token under `user`."""
    app.command("login", epilog=ex("duban login", "duban --db postgresql://duban@db/duban login",
                                   "printf '%s\\n' \"$TOKEN\" | duban login --token-stdin"))(login)
    app.command("logout", epilog=ex("duban logout", "duban --db postgresql://duban@db/duban logout"))(logout)
    app.command("whoami", epilog=ex("duban whoami", "duban whoami --json"))(whoami)
    user_app.command("revoke", epilog=ex("duban user revoke 张三"))(user_revoke)
    user_app.command("rotate-token", epilog=ex("duban user rotate-token", "duban user rotate-token 张三"))(user_rotate_token)
