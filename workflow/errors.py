"""Typed errors: each carries one Chinese sentence for the user, its kind, the exit code
and the HTTP status a web front end answers with.

Exit codes (DESIGN §8): 1 the workflow refused (invalid move, not permitted, lost
race, not found); 2 bad usage or bad input. HTTP: 401 not authenticated, 403 not
permitted, 404 not found, 409 refused by the workflow (invalid move, lost race, …),
422 bad input, 503 the database failed.
"""
from __future__ import annotations


class DubanError(Exception):
    """Base of every error shown to a user as one sentence."""

    exit_code = 1
    http_status = 400
    kind = "error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Refused(DubanError):
    """The workflow refused the command; nothing was changed."""

    exit_code = 1
    http_status = 409
    kind = "refused"


class InvalidMove(Refused):
    """The trigger is not valid from the assignment's current state."""

    kind = "invalid_move"


class NotPermitted(Refused):
    """The acting user may not do this (role, department or separation of duties)."""

    http_status = 403
    kind = "not_permitted"


class LostRace(Refused):
    """Someone else changed the assignment between our read and our write."""

    kind = "lost_race"


class NotFound(Refused):
    """A named record does not exist."""

    http_status = 404
    kind = "not_found"


class BadInput(DubanError):
    """The input (file, argument, config) is malformed."""

    exit_code = 2
    http_status = 422
    kind = "bad_input"


class MissingField(BadInput):
    """A field the trigger requires was not given."""

    kind = "missing_field"


class DatabaseProblem(Refused):
    """The database or the disk failed under the command; the transaction was rolled back."""

    http_status = 503
    kind = "database"


_PROBLEMS = (  # (words in the driver's message, the sentence for the user)
    (("database or disk is full", "no space left", "disk full", "file too large", "diskfull"),
     "磁盘空间不足（或超出文件大小限制），本次操作未生效，数据未改变；请释放空间后重试。"),
    (("disk i/o error",),
     "磁盘读写失败（可能是空间不足或文件大小受限），本次操作未生效，数据未改变；请检查磁盘后重试。"),
    (("readonly database", "read-only", "read only"),
     "数据库文件是只读的，本次操作未生效；请检查数据库文件及其所在文件夹的写权限。"),
    (("file is not a database", "file is encrypted"),
     "所指定的文件不是 duban 数据库；请检查 --db 或 DUBAN_DB。"),
    (("unable to open database file",),
     "无法打开数据库文件；请检查 --db 或 DUBAN_DB 的路径和权限。"),
    # No server to talk to: stopped, starting up or recovering after a crash, or a wrong
    # address.
    (("connection refused", "could not connect", "timeout expired", "could not translate host name",
      "no route to host", "network is unreachable", "the database system is starting up",
      "the database system is shutting down", "not yet accepting connections", "in recovery mode"),
     "无法连接数据库服务器，本次操作未生效；请确认数据库服务已启动，"
     "并检查 --db 或 DUBAN_DB 中的地址和端口。"),
    # The server ended or lost the session mid-command (stop, restart, crash,
    # pg_terminate_backend); the open transaction died with it.
    (("terminating connection", "server closed the connection", "connection is closed",
      "shutting down", "consuming input failed", "connection timed out", "ssl syscall error",
      "the connection is lost", "no connection to the server"),
     "与数据库的连接中断，本次操作未生效，数据未改变；请确认数据库服务正常后重试。"),
    # A server that is up but has no connection slot left.
    (("too many clients already", "remaining connection slots are reserved"),
     "数据库服务器的连接数已满，本次操作未生效；请稍后重试，或请管理员检查数据库的 max_connections。"),
    # A server that answered but would not let us in. "connection failed" is how psycopg
    # begins every failed connect, so this comes after the outages above.
    (("password authentication failed", "no pg_hba.conf entry", "connection failed"),
     "数据库服务器拒绝了登录（用户名、密码或数据库名不对，或不允许从本机连接），本次操作未生效；"
     "请检查 --db 或 DUBAN_DB，加 --debug 可看到服务器的原话。"),
    (("database is locked", "database table is locked"),
     "数据库正忙（其他操作正在写入），本次操作未生效；请稍后重试。"),
)


def database_problem(exc: BaseException) -> DatabaseProblem | None:
    """A driver or file-system failure as one sentence, or None if it is something else.

    SQLAlchemy wraps the driver's error; both, and OSError's ENOSPC/EFBIG from writing
    files (attachments, .eml files, reports), mean the same to a user: nothing was saved.
    """
    import errno

    seen: BaseException | None = exc
    visited: set[int] = set()
    while seen is not None and id(seen) not in visited:
        visited.add(id(seen))
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
            return DatabaseProblem(_PROBLEMS[0][1])
        text = str(seen).lower()
        for words, sentence in _PROBLEMS:
            if any(w in text for w in words):
                return DatabaseProblem(sentence)
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return None


def unsaved(exc: BaseException, busy: str) -> BaseException:
    """A database failure during a change as the error the user reads: LostRace(`busy`)
    if the database was busy or locked (worth retrying), else database_problem's
    sentence, else the failure itself."""
    if "locked" in str(exc) or "busy" in str(exc):
        return LostRace(busy)
    return database_problem(exc) or exc


def template_problem(exc: BaseException) -> BadInput | None:
    """A template that tried to leave the sandbox (jinja2's SecurityError), as one sentence.

    Report templates (--templates) and mail templates (templates_dir in duban.toml) are
    the office's own files and render in a SandboxedEnvironment: reaching for
    `__globals__`, `os` or any other internal is refused there, and the command stops
    before anything is written.
    """
    import sys

    sandbox = sys.modules.get("jinja2.exceptions")
    if sandbox is None:
        return None
    seen: BaseException | None = exc
    visited: set[int] = set()
    while seen is not None and id(seen) not in visited:
        visited.add(id(seen))
        if isinstance(seen, sandbox.SecurityError):
            return BadInput(f"模板试图访问不允许的内容（{shown(seen, 80)}）：模板只能使用提供给它的变量和过滤器；"
                            "本次操作未生效，请修改模板后重试。")
        seen = seen.__cause__ or seen.__context__
    return None


def shown(text: object, limit: int = 40) -> str:
    """User text quoted in a message: one line, at most `limit` characters, so a
    43,000-character name or a name with line breaks cannot flood the terminal."""
    line = " ".join(str(text).replace("\x00", "").split())
    return line if len(line) <= limit else line[:limit - 1] + "…"


class NotAuthenticated(Refused):
    """No token, or a token that is wrong, malformed, unknown, revoked or of an inactive user."""

    http_status = 401
    kind = "not_authenticated"
