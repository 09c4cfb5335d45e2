"""The Context every service runs with: database (session factory), clock, config, data
directory and the acting user. It never prints and never reads the environment: a front
end fills it (cli.py through commands.common.App, which adds the terminal streams; a web
handler with its request's user).

Heavy imports (sqlmodel) happen lazily so that `duban --help` stays fast; listings read
over `reader()`, a Core connection, and never load sqlmodel at all (db/tables.py says why).

Who is acting: a front end sets `authenticate=True` and the token, and then only the
token says who the user is (`actor_name` may only confirm it). Library callers that
build a Context themselves (tests, the demo's replay) are trusted: they name the actor,
or name nobody and read everything.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from workflow.clock import Clock
from workflow.errors import BadInput, NotAuthenticated, NotFound, NotPermitted, Refused

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Connection, Engine
    from sqlmodel import Session

    from db.models import User


@dataclass(frozen=True)
class Person:
    """A user as plain values, for reads over a Core connection (App.read_viewer): what a
    listing needs of its reader, without building the ORM classes (see db/tables.py)."""

    id: int
    name: str
    roles: list[str]
    department_id: int | None
    active: bool
    token_hash: str | None = field(default=None, repr=False)


class _Users(NamedTuple):
    """How the acting user is read: as ORM Users from a session, or as Persons."""

    by_id: Callable[[int], Any]
    by_name: Callable[[str], Any]


DEFAULT_DATA_DIR = Path("duban-files")


@dataclass
class Context:
    db_url: str | None = None
    actor_name: str | None = None
    clock: Clock = field(default_factory=Clock)
    config_path: Path | None = None
    # Before migration 0009 attachments were kept under data_dir/attachments; only `db init`
    # reads it now, to move them into the database.
    data_dir: Path = DEFAULT_DATA_DIR
    synchronous: str = "FULL"
    token: str | None = field(default=None, repr=False)
    authenticate: bool = False
    _engine: Any = None
    _config: Any = None
    _user_id: int | None = None  # the authenticated user, once the token has been checked
    # The acting user as a front end already read and checked them for this request (the
    # web's bearer token or session, re-read from the user row at the request's start):
    # the Core reads (read_actor, read_viewer) take it as is instead of reading the row again.
    known_actor: Person | None = None
    # A queue for SQLite's one writer (db/write_gate.py), set by `duban serve`: its worker
    # threads and processes take turns here rather than in SQLite's sleeping busy handler.
    write_gate: Any = None

    def engine(self, check_schema: bool = True) -> "Engine":
        """The engine, created on first use; refuses an uninitialised database."""
        if self._engine is None:
            from db.engine import make_engine, normalise_url, sqlite_file

            url = normalise_url(self.db_url)
            scheme = url.split("://", 1)[0]
            if scheme not in ("sqlite", "postgresql+psycopg"):
                raise BadInput(f"不支持的数据库地址“{scheme}://…”；请使用 SQLite 文件路径或 postgresql://… 地址。")
            path = sqlite_file(url)
            if check_schema and path is not None and not path.exists():
                # A reading or working command never creates a database as a side effect.
                raise Refused(f"数据库 {path} 不存在：请先运行 duban db init（或用 --db 指定已有的数据库）。")
            self._engine = make_engine(url, synchronous=self.synchronous)
            if check_schema:
                self._check_schema()
        return self._engine

    def _check_schema(self) -> None:
        from db.engine import is_sqlite
        from db.schema_version import current as current_revision, head as head_revision

        try:
            current = current_revision(self._engine)
        except Exception as exc:  # connection problems
            from workflow.errors import database_problem

            problem = None if is_sqlite(self._engine) else database_problem(exc)
            if problem is not None:  # down, unreachable or refusing us: a sentence, not the driver's English
                raise problem from exc
            raise Refused(f"无法连接数据库：{_short(exc)}。请检查 --db 或 DUBAN_DB。") from exc
        if current is None:
            raise Refused("数据库尚未初始化：请先运行 duban db init。")
        if current != head_revision():
            raise Refused(f"数据库结构版本为 {current}，需要升级：请运行 duban db init。")

    def close(self) -> None:
        """Close the pooled connections now (cli.main stops the exit's garbage collection
        from doing it; SQLite checkpoints and removes its -wal file on the last close)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def session(self) -> "Session":
        from sqlmodel import Session

        return Session(self.engine(), expire_on_commit=False)

    def config(self) -> Any:
        """The loaded duban.toml; its warnings are kept in `config().warnings`, not printed."""
        if self._config is None:
            from workflow.config import load_config

            self._config = load_config(self.config_path, warn=lambda line: None)
        return self._config

    def writing(self) -> Any:
        """A context manager held around one state change (lifecycle.service): the write
        gate's turn where a front end set one, nothing otherwise."""
        if self.write_gate is None:
            from contextlib import nullcontext

            return nullcontext()
        return self.write_gate.held()

    def reader(self) -> "Connection":
        """A Core connection (use `with`) for reads that need no ORM object: they load
        neither the SQLModel classes nor pydantic (see db/tables.py)."""
        return self.engine().connect()

    def actor(self, session: "Session") -> "User":
        """The acting user: the token's on the CLI, else the one named by --as or DUBAN_USER."""
        return self._actor(_orm_users(session))

    def read_actor(self, conn: "Connection") -> Person:
        """The acting user as plain values, read over a Core connection (see reader()), or
        the one the front end already checked for this request (known_actor)."""
        if self.known_actor is not None:
            return self.known_actor
        return self._actor(_core_users(conn))

    def _actor(self, users: _Users) -> Any:
        if self.authenticate:
            return self._token_user(users)
        if not self.actor_name:
            raise BadInput("未指定操作人：请用 --as 姓名 或设置环境变量 DUBAN_USER。")
        user = users.by_name(self.actor_name)
        if user is None or not user.active:
            raise NotFound(f"用户“{self.actor_name}”不存在或已停用；可用 duban user list 查看用户。")
        return user

    def _token_user(self, users: _Users) -> Any:
        """Check the token once per App (scrypt is slow on purpose); --as must name its user."""
        from workflow.access.tokens import as_mismatch, check_token

        if self._user_id is not None:
            user = users.by_id(self._user_id)
            if user is not None and user.active and user.token_hash:
                return user
        user = check_token(self.token, users.by_id)
        if self.actor_name and self.actor_name != user.name:
            raise NotAuthenticated(as_mismatch(self.actor_name, user.name))
        self._user_id = user.id
        return user

    def viewer(self, session: "Session") -> "User | None":
        """Whose read scope applies; None is a trusted library caller who names nobody."""
        return self._viewer(_orm_users(session))

    def read_viewer(self, conn: "Connection") -> Person | None:
        """viewer() as plain values, read over a Core connection (see reader())."""
        if self.known_actor is not None:
            return self.known_actor
        return self._viewer(_core_users(conn))

    def _viewer(self, users: _Users) -> Any:
        return self._actor(users) if self.authenticate or self.actor_name else None

    def require(self, session: "Session", allowed: Callable[[Iterable[str]], bool],
                refusal: str) -> "User | None":
        """The viewer, refused with `refusal` (after their name) unless `allowed(roles)`."""
        user = self.viewer(session)
        if user is not None and not allowed(user.roles):
            raise NotPermitted(f"{user.name}{refusal}")
        return user


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _orm_users(session: "Session") -> _Users:
    from sqlmodel import select

    from db.models import User

    return _Users(by_id=lambda user_id: session.get(User, user_id),
                  by_name=lambda name: session.exec(select(User).where(User.name == name)).first())


def _core_users(conn: "Connection") -> _Users:
    return _Users(by_id=lambda user_id: person_by_id(conn, user_id),
                  by_name=lambda name: person_by_name(conn, name))


def person_by_id(conn: "Connection", user_id: int) -> Person | None:
    """The user row `user_id` as a Person (None if there is none). Every request of the web
    reads it (bearer token, session): one statement prepared once (db/prepared.py)."""
    return _person(_user_reads()[0].first(conn, {"uid": user_id}))


def person_by_name(conn: "Connection", name: str) -> Person | None:
    return _person(_user_reads()[1].first(conn, {"name": name}))


def _person(row: dict | None) -> Person | None:
    return Person(row["id"], row["name"], row["roles"], row["department_id"], row["active"],
                  row["token_hash"]) if row else None


@functools.cache
def _user_reads() -> tuple[Any, Any]:
    """The two user reads (by id, by name), built on first use: importing sqlalchemy here
    would slow every `duban --help`."""
    from sqlalchemy import bindparam, select

    from db.prepared import PreparedRow
    from db.tables import app_user as t

    columns = select(t.c.id, t.c.name, t.c.roles, t.c.department_id, t.c.active, t.c.token_hash)
    return (PreparedRow(columns.where(t.c.id == bindparam("uid")), ("uid",)),
            PreparedRow(columns.where(t.c.name == bindparam("name")), ("name",)))
