"""Access services: the database's first admin, users with their tokens, sign-in, revoking
and rotating tokens. A token is returned once, to be shown once; only its hash is kept."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import states
from workflow.access.scope import ADD_USER, REVOKE_USER
from workflow.errors import BadInput, NotFound, NotPermitted, Refused

if TYPE_CHECKING:  # pragma: no cover
    from db.models import User
    from workflow.context import Context

ADMIN_EXISTS = "数据库中已有管理员；新用户请由管理员用 duban user add 添加。"


@dataclass
class Migration:
    before: str | None  # the schema revision found (None: a new database)
    after: str
    notes: list[str] = field(default_factory=list)  # what a migration moved or could not find


def init_database(ctx: "Context", admin: str | None = None, email: str | None = None
                  ) -> tuple[Migration, "tuple[User, str] | None"]:
    """Create or upgrade the schema; with `admin`, also the first admin and their token."""
    from db.migrate import current_revision, upgrade
    from workflow.access.tokens import has_admin

    if bool(admin) != bool(email):
        raise BadInput("--admin 与 --email 需要一起使用，例如 duban db init --admin 吴管理 --email wu@sfj.gz.gov.cn。")
    engine = ctx.engine(check_schema=False)
    if admin and has_admin(engine):  # refuse before changing anything
        raise Refused(ADMIN_EXISTS)
    before = current_revision(engine)
    notes: list[str] = []
    upgrade(engine, old_attachments=ctx.data_dir / "attachments", notes=notes)
    migration = Migration(before, current_revision(engine), notes)
    return migration, (create_first_admin(ctx, admin, email) if admin else None)


def create_first_admin(ctx: "Context", name: str, email: str) -> tuple["User", str]:
    """The very first admin, when no active admin exists."""
    from workflow.access.tokens import issue_token
    from workflow.directory.store import add_user

    with ctx.session() as s:
        if _active_admin_exists(s):
            raise Refused(ADMIN_EXISTS)
        user = add_user(s, name, email, ["admin"], None, ctx.clock)
        return user, issue_token(s, user)


def _active_admin_exists(session) -> bool:
    from sqlmodel import select

    from db.models import User

    return any("admin" in u.roles for u in session.exec(select(User).where(User.active == True)))  # noqa: E712


def add_user(ctx: "Context", name: str, email: str, roles: list[str], dept: str | None) -> tuple["User", str]:
    """An admin creates a user and gets their first token."""
    from workflow.access.tokens import issue_token
    from workflow.directory.store import add_user as add

    with ctx.session() as s:
        ctx.require(s, states.administers, ADD_USER)
        user = add(s, name, email, roles, dept, ctx.clock)
        return user, issue_token(s, user)


def authenticate(ctx: "Context", token: str) -> "User":
    """The user a token belongs to (refused with one sentence however it is wrong)."""
    from workflow.access.tokens import authenticate as check

    with ctx.session() as s:
        return check(s, token)


def whoami(ctx: "Context") -> Any:
    """The acting user as a plain view (name, department, roles, email)."""
    from workflow.directory.store import user_views

    with ctx.session() as s:
        user = ctx.actor(s)
        return next(v for v in user_views(s) if v.id == user.id)


def find_user(session, name: str) -> "User":
    from sqlmodel import select

    from db.models import User

    user = session.exec(select(User).where(User.name == name)).first()
    if user is None:
        raise NotFound(f"用户“{name}”不存在；可用 duban user list 查看。")
    return user


def revoke(ctx: "Context", name: str) -> "User":
    """Deactivate a user (admins only): their token stops working at once."""
    from workflow.access.tokens import revoke as revoke_token

    with ctx.session() as s:
        ctx.require(s, states.administers, REVOKE_USER)
        user = find_user(s, name)
        revoke_token(s, user)
        return user


@dataclass
class Rotation:
    user: Any
    token: str
    reactivated: bool  # an admin's rotation re-enables a revoked user
    own: bool  # the acting user rotated their own token


def rotate_token(ctx: "Context", name: str | None = None) -> Rotation:
    """A new token for `name` (default: the acting user; someone else's needs an admin)."""
    from workflow.access.tokens import issue_token

    with ctx.session() as s:
        me = ctx.viewer(s)
        target = find_user(s, name) if name else me
        if target is None:
            raise BadInput("请指定用户姓名，例如 duban user rotate-token 张三。")
        if me is not None and target.id != me.id and not states.administers(me.roles):
            raise NotPermitted(f"{me.name}无权为他人更换令牌：只能更换本人的令牌，为他人更换需要管理员。")
        reactivated = not target.active
        target.active = True
        token = issue_token(s, target)
        return Rotation(target, token, reactivated, me is not None and target.id == me.id)
