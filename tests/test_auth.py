"""Tokens (issue 6, item 1): issued once, stored as a slow hash, checked on every command
that reads or changes assignments; login, logout, whoami, revoke, rotate-token; the
credentials file. Where the point is the command line, the real `duban` runs in a
subprocess; enumerations run the same typer app in-process to stay fast."""
from __future__ import annotations

import base64
import json
import os
import re
import select
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

import cli
from cli_helpers import ROOT, cli_env, duban_cmd, run, run_json
from conftest import migrated_sqlite, snapshot
from workflow.access import tokens as auth
from workflow.errors import NotAuthenticated, NotPermitted

REFUSED = f"错误：{auth.REFUSAL}\n"
SEED = str(ROOT / "examples" / "gz-sfj-2021.txt")
DEPARTMENTS_CSV = str(ROOT / "examples" / "departments.csv")


def _sql(world, statement: str, **params) -> None:
    from db.engine import make_engine

    engine = make_engine(world.url)
    with engine.begin() as conn:
        conn.execute(text(statement), params)
    engine.dispose()


def invoke(world, *args: str, token: str | None = None, user: str | None = None, config: Path | None = None):
    """The real typer app in-process, with a clean DUBAN_* environment."""
    env = {"DUBAN_DB": world.url, "DUBAN_TOKEN": token, "DUBAN_USER": user, "DUBAN_TODAY": "2021-08-02",
           "DUBAN_CONFIG": str(config) if config else None}
    return CliRunner().invoke(cli.app, list(args), env=env, catch_exceptions=True)


# ---------------------------------------------------------------- the hash
def test_token_format_and_stored_hash():
    token = auth.new_token(7)
    assert re.fullmatch(r"duban_7_[A-Za-z0-9_-]{43}", token)
    stored = auth.hash_token(token)
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(digest)) == 32
    assert token not in stored and token.split("_", 2)[2] not in stored
    assert auth.hash_token(token) != stored  # a fresh salt each time
    assert auth.verify(token, stored)
    assert not auth.verify(token + "x", stored)
    assert not auth.verify(token, None) and not auth.verify(token, "garbage")
    for n in ("2", "512", "1000", "2097152", "x"):  # below the floor, not a power of two, above the cap
        assert not auth.verify(token, stored.replace("scrypt$16384$", f"scrypt${n}$", 1))
    assert not auth.verify(token, stored.replace("$8$1$", "$1$1$", 1))  # r is fixed


def test_the_cost_travels_with_the_hash():
    """duban issues at SCRYPT_N; a hash made at another accepted cost still verifies at
    its own cost (the test suite's cheap tokens, or a later, higher SCRYPT_N)."""
    token = auth.new_token(9)
    cheap = auth.hash_token(token, n=auth.MIN_N)
    assert cheap.startswith(f"scrypt${auth.MIN_N}$8$1$")
    assert auth.verify(token, cheap) and not auth.verify(token + "x", cheap)
    dearer = auth.hash_token(token, n=auth.SCRYPT_N * 2)
    assert auth.verify(token, dearer)
    with pytest.raises(ValueError):
        auth.hash_token(token, n=auth.MIN_N // 2)


# ---------------------------------------------------------------- refusals
def _bad_tokens(world) -> dict[str, str]:
    """Every way a token can be wrong, each for a user who exists."""
    zhang = world.token("张三")
    li = world.token("李审核")
    zhao = world.token("赵六")
    qian = world.token("钱处长")
    secret = zhang.split("_", 2)[2]
    with world.session() as s:
        auth.revoke(s, world.user(s, "赵六"))
    _sql(world, "UPDATE app_user SET active = :f WHERE name = :n", f=False, n="钱处长")
    return {
        "wrong secret": f"duban_{world.ids['张三']}_{'A' * 43}",
        "someone else's secret": f"duban_{world.ids['张三']}_{li.split('_', 2)[2]}",
        "unknown id": f"duban_99999_{secret}",
        "id out of range": f"duban_99999999999_{secret}",
        "malformed": "not-a-token",
        "truncated": zhang[:-5],
        "very long": zhang + "A" * 5000,
        "revoked": zhao,
        "inactive": qian,
    }


def test_every_bad_token_is_refused_with_the_same_sentence(world):
    before = snapshot(world)
    for case, token in _bad_tokens(world).items():
        proc = run("task", "list", "--json", db=world.url, token=token)
        assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", REFUSED), case
    assert snapshot(world) == before


def test_as_must_name_the_tokens_user(world):
    proc = run("task", "start", str(world.assignment(1, "装财处")), db=world.url, user="李审核",
               token=world.token("张三"))
    assert proc.returncode == 1
    assert proc.stderr == ("错误：--as 指定的是“李审核”，而当前令牌属于“张三”：命令总是以令牌持有人的身份执行；"
                           "请去掉 --as（或环境变量 DUBAN_USER），或用“李审核”本人的令牌登录。\n")
    ok = run("whoami", "--json", db=world.url, user="张三")
    assert ok.returncode == 0 and json.loads(ok.stdout)["name"] == "张三"


def test_a_name_without_a_token_is_nobody(world):
    before = snapshot(world)
    proc = run("task", "start", str(world.assignment(1, "装财处")), db=world.url, user="张三", token="")
    assert proc.returncode == 1 and "duban login" in proc.stderr and "DUBAN_TOKEN" in proc.stderr
    assert snapshot(world) == before


NEED_LOGIN = [
    ["task", "list"], ["task", "show", "1"], ["task", "history", "1"], ["task", "start", "1"],
    ["task", "submit", "1", "--summary", "x"], ["task", "cancel", "1", "--reason", "x"],
    ["task", "reopen", "1", "--reason", "x"], ["review", "list"], ["review", "approve", "1"],
    ["review", "approve", "--all"], ["review", "send-back", "1", "--comment", "x"],
    ["delay", "request", "1", "--reason", "x", "--until", "2021-12-30"], ["delay", "approve", "1"],
    ["delay", "reject", "1", "--comment", "x"],
    ["delegate", "add", "--to", "赵六", "--from", "2021-10-01", "--until", "2021-10-05"],
    ["plan", "publish", "1"], ["plan", "import", SEED], ["plan", "list"], ["plan", "show", "1"],
    ["plan", "export", "1"], ["user", "add", "新人", "--email", "x@example.gov.cn", "--role", "staff",
                              "--dept", "装财处"],
    ["user", "revoke", "张三"], ["user", "rotate-token"], ["user", "list"],
    ["dept", "add", "新处室"], ["dept", "list"], ["dept", "import", DEPARTMENTS_CSV], ["ledger"],
    ["outbox", "list"], ["outbox", "send"], ["outbox", "retry", "--failed"],
    ["remind", "run", "--dry-run"], ["remind", "daemon", "--once"],
    ["audit", "verify"], ["audit", "export"], ["whoami"],
]


@pytest.mark.parametrize("args", NEED_LOGIN, ids=[" ".join(a[:2]) for a in NEED_LOGIN])
def test_commands_refuse_without_a_token(world, args):
    before = snapshot(world)
    result = invoke(world, *args, user="张三")  # --as alone identifies nobody
    assert isinstance(result.exception, NotAuthenticated), result.output
    assert result.exception.message == auth.NOT_LOGGED_IN
    assert snapshot(world) == before


@pytest.mark.parametrize("args", [["states"], ["--version"], ["--help"], ["task", "--help"],
                                  ["db", "init"], ["plan", "import", SEED, "--dry-run"]])
def test_commands_that_need_no_login(world, args):
    result = invoke(world, *args)
    assert result.exit_code == 0, result.output


# ---------------------------------------------------------------- who may manage what
ROLE_USER = {"staff": "张三", "head": "钱处长", "reviewer": "李审核", "supervisor": "周督查", "admin": "吴管理"}
ADMIN, OFFICE, READ_ALL = {"admin"}, {"reviewer", "admin"}, {"reviewer", "supervisor", "admin"}
MANAGE = {  # command -> (roles allowed, arguments); written out, not read from states/
    "user add": (ADMIN, lambda r: ["user", "add", f"新人{r}", "--email", f"{r}@example.gov.cn",
                                   "--role", "staff", "--dept", "装财处"]),
    "user revoke": (ADMIN, lambda r: ["user", "revoke", "赵六"]),
    "user rotate-token other": (ADMIN, lambda r: ["user", "rotate-token", "孙科监"]),
    "dept add": (ADMIN, lambda r: ["dept", "add", f"新处室{r}"]),
    "dept import": (ADMIN, lambda r: ["dept", "import", DEPARTMENTS_CSV]),
    "plan import": (OFFICE, lambda r: ["plan", "import", str(_plan_file(r))]),
    "outbox list": (OFFICE, lambda r: ["outbox", "list"]),
    "remind run": (OFFICE, lambda r: ["remind", "run", "--dry-run"]),
    "audit export": (READ_ALL, lambda r: ["audit", "export"]),
}
MANAGE_CASES = [(c, r) for c in MANAGE for r in ROLE_USER]


def _plan_file(role: str) -> Path:
    """A small canonical plan with a title of its own (a title is imported once)."""
    from conftest import PLAN

    path = Path(os.environ["XDG_CONFIG_HOME"]).parent / f"plan-{role}.json"
    path.write_text(json.dumps(PLAN | {"title": f"{PLAN['title']}({role})"}, ensure_ascii=False),
                    encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def office_world(tmp_path_factory):
    from conftest import build_world

    url = migrated_sqlite(tmp_path_factory.mktemp("office") / "duban.db")
    return build_world(url)


@pytest.mark.parametrize("command,role", MANAGE_CASES, ids=[f"{c}-{r}" for c, r in MANAGE_CASES])
def test_who_may_manage(office_world, command, role, tmp_path):
    allowed, args = MANAGE[command]
    config = tmp_path / "duban.toml"
    config.write_text(f'[mail]\nbackend = "file"\ndir = "{tmp_path / "out"}"\n', encoding="utf-8")
    result = invoke(office_world, *args(role), token=office_world.token(ROLE_USER[role]), config=config)
    if role in allowed:
        assert result.exit_code == 0, (result.output, result.exception)
        if command == "user revoke":  # give 赵六 back for the next case
            with office_world.session() as s:
                user = office_world.user(s, "赵六")
                user.active = True
                s.add(user)
                s.commit()
    else:
        assert isinstance(result.exception, NotPermitted), result.output


# ---------------------------------------------------------------- first admin, user add
def test_db_init_admin_output_feeds_login_token_stdin(tmp_path):
    """`db init --admin … > f` then `login --token-stdin < f`: stdout is the token alone,
    every sentence goes to stderr."""
    db = str(tmp_path / "new.db")
    first = run("db", "init", "--admin", "吴管理", "--email", "wu@example.gov.cn", db=db)
    assert first.returncode == 0, first.stderr
    assert re.fullmatch(r"duban_1_[A-Za-z0-9_-]{43}\n", first.stdout)
    assert "数据库已创建" in first.stderr and "只显示这一次" in first.stderr
    token_file = tmp_path / "token"
    token_file.write_text(first.stdout, encoding="utf-8")
    with token_file.open(encoding="utf-8") as f:
        login = subprocess.run([*duban_cmd(), "login", "--token-stdin"], stdin=f, capture_output=True,
                               text=True, env=cli_env(db, token=""), cwd=tmp_path, timeout=120)
    assert login.returncode == 0, login.stderr
    assert "已登录为吴管理" in login.stdout


def _users(db: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT name, roles, active, token_hash FROM app_user ORDER BY id").fetchall()


def test_first_admin_then_users(tmp_path):
    db = str(tmp_path / "new.db")
    assert run("db", "init", "--admin", "吴管理", db=db).returncode == 2  # --email is needed too
    first = run("db", "init", "--admin", "吴管理", "--email", "wu@example.gov.cn", db=db)
    assert first.returncode == 0, first.stderr
    admin = first.stdout.splitlines()[-1]
    assert admin.startswith("duban_1_") and "只显示这一次" in first.stderr
    second = run("db", "init", "--admin", "另一人", "--email", "b@example.gov.cn", db=db)
    assert second.returncode == 1 and "已有管理员" in second.stderr
    assert [u[0] for u in _users(db)] == ["吴管理"]

    assert run("dept", "add", "装财处", db=db, token=admin).returncode == 0
    added = run("user", "add", "张三", "--dept", "装财处", "--role", "staff", "--email", "zs@example.gov.cn",
                db=db, token=admin)
    assert added.returncode == 0, added.stderr
    zhang = added.stdout.strip()  # piped: the token alone on stdout
    assert re.fullmatch(r"duban_2_[A-Za-z0-9_-]{43}", zhang)
    as_json = run_json("user", "add", "李审核", "--role", "reviewer", "--email", "li@example.gov.cn",
                       db=db, token=admin)
    assert as_json["name"] == "李审核" and as_json["token"].startswith("duban_3_")
    assert run_json("whoami", db=db, token=as_json["token"])["name"] == "李审核"
    refused = run("user", "add", "王五", "--dept", "装财处", "--role", "staff", "--email", "w@example.gov.cn",
                  db=db, token=zhang)
    assert refused.returncode == 1 and "只有管理员" in refused.stderr
    assert [u[0] for u in _users(db)] == ["吴管理", "张三", "李审核"]
    # every user has a token hash, made at duban's own cost (db init --admin and user add)
    assert all(u[3].startswith(f"scrypt${auth.SCRYPT_N}$8$1$") for u in _users(db))


# ---------------------------------------------------------------- login, logout, the file
def test_login_saves_a_private_credentials_file(world, tmp_path):
    xdg = tmp_path / "xdg"
    env = {"XDG_CONFIG_HOME": str(xdg)}
    proc = run("login", "--token-stdin", db=world.url, env=env, token="", input=world.token("张三") + "\n")
    assert proc.returncode == 0, proc.stderr
    assert "张三" in proc.stdout and world.token("张三") not in proc.stdout + proc.stderr
    file = xdg / "duban" / "credentials"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(file.parent.stat().st_mode) == 0o700
    assert world.token("张三") in file.read_text(encoding="utf-8")
    assert run_json("whoami", db=world.url, env=env, token="")["name"] == "张三"
    # DUBAN_TOKEN wins over the file
    assert run_json("whoami", db=world.url, env=env, token=world.token("李审核"))["name"] == "李审核"
    out = run("logout", db=world.url, env=env, token="")
    assert out.returncode == 0 and "已退出登录" in out.stdout
    again = run("whoami", db=world.url, env=env, token="")
    assert again.returncode == 1 and "duban login" in again.stderr
    assert stat.S_IMODE(file.stat().st_mode) == 0o600 and world.token("张三") not in file.read_text()


def test_one_person_two_databases(world, tmp_path):
    from conftest import build_world

    other_url = migrated_sqlite(tmp_path / "other.db")
    other = build_world(other_url)
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    for w, name in ((world, "张三"), (other, "李审核")):
        assert run("login", "--token-stdin", db=w.url, env=env, token="", input=w.token(name)).returncode == 0
    assert run_json("whoami", db=world.url, env=env, token="")["name"] == "张三"
    assert run_json("whoami", db=other.url, env=env, token="")["name"] == "李审核"
    run("logout", db=other.url, env=env, token="")
    assert run_json("whoami", db=world.url, env=env, token="")["name"] == "张三"


def test_login_needs_a_terminal_or_token_stdin(world, tmp_path):
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    proc = run("login", db=world.url, env=env, token="", input=world.token("张三"))
    assert proc.returncode == 2 and "--token-stdin" in proc.stderr
    wrong = run("login", "--token-stdin", db=world.url, env=env, token="", input="duban_3_" + "x" * 43)
    assert (wrong.returncode, wrong.stderr) == (1, REFUSED)
    assert not (tmp_path / "xdg" / "duban" / "credentials").exists()


def test_login_prompts_without_echo_on_a_terminal(world, tmp_path):
    """getpass on a real pseudo-terminal: the token typed is not echoed."""
    token = world.token("张三")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}
    env |= {"DUBAN_DB": world.url, "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    master, slave = os.openpty()
    proc = subprocess.Popen([*duban_cmd(), "login"], stdin=slave, stdout=slave, stderr=slave, env=env,
                            cwd=ROOT, start_new_session=True)  # no controlling tty: getpass uses stdin
    os.close(slave)
    output = _read_until(master, "令牌".encode(), proc)
    os.write(master, token.encode() + b"\n")
    output += _read_until(master, None, proc)
    os.close(master)
    assert proc.wait(timeout=60) == 0, output.decode(errors="replace")
    assert "已登录为张三" in output.decode() and token.encode() not in output


def _read_until(fd: int, marker: bytes | None, proc, timeout: float = 60) -> bytes:
    data, end = b"", time.monotonic() + timeout
    while time.monotonic() < end:
        if marker is not None and marker in data:
            break
        ready, _, _ = select.select([fd], [], [], 0.1)
        if not ready:
            if marker is None and proc.poll() is not None:
                break
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        data += chunk
    return data


# ---------------------------------------------------------------- rotate, revoke
def test_rotate_own_token(world):
    old = world.token("张三")
    proc = run("user", "rotate-token", db=world.url, user="张三")
    assert proc.returncode == 0, proc.stderr
    new = proc.stdout.strip()
    assert new != old and new.startswith(f"duban_{world.ids['张三']}_")
    assert run("whoami", db=world.url, token=old).stderr == REFUSED
    assert run_json("whoami", db=world.url, token=new)["name"] == "张三"
    refused = run("user", "rotate-token", "李审核", db=world.url, token=new)
    assert refused.returncode == 1 and "只能更换本人" in refused.stderr
    by_admin = run_json("user", "rotate-token", "李审核", db=world.url, user="吴管理")
    assert run_json("whoami", db=world.url, token=by_admin["token"])["name"] == "李审核"


def test_rotating_a_logged_in_token_updates_the_file(world, tmp_path):
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    run("login", "--token-stdin", db=world.url, env=env, token="", input=world.token("张三"))
    new = run("user", "rotate-token", db=world.url, env=env, token="").stdout.strip()
    assert new in (tmp_path / "xdg" / "duban" / "credentials").read_text()
    assert run_json("whoami", db=world.url, env=env, token="")["name"] == "张三"


def test_revoke_and_reactivate(world):
    zhao = world.token("赵六")
    staff = run("user", "revoke", "赵六", db=world.url, user="张三")
    assert staff.returncode == 1 and "只有管理员" in staff.stderr
    ok = run("user", "revoke", "赵六", db=world.url, user="吴管理")
    assert ok.returncode == 0, ok.stderr
    assert run("task", "list", db=world.url, token=zhao).stderr == REFUSED
    last = run("user", "revoke", "吴管理", db=world.url, user="吴管理")
    assert last.returncode == 1 and "最后一位" in last.stderr
    back = run_json("user", "rotate-token", "赵六", db=world.url, user="吴管理")
    assert run_json("whoami", db=world.url, token=back["token"])["name"] == "赵六"
    assert run("whoami", db=world.url, token=zhao).stderr == REFUSED  # the old one stays dead


def test_library_callers_are_trusted(world):
    """Tests and the demo build App themselves: no token, the named actor acts."""
    from commands.lifecycle import transition

    result = transition(world.app("张三"), world.assignment(1, "装财处"), "start")
    assert result.to_state == "in_progress"
    strict = world.app("张三")
    strict.authenticate = True
    with pytest.raises(NotAuthenticated):
        transition(strict, world.assignment(1, "科监处"), "start")
    strict.token = world.token("孙科监")
    strict.actor_name = None
    assert transition(strict, world.assignment(1, "科监处"), "start").to_state == "in_progress"


def test_credentials_are_keyed_by_database(tmp_path, monkeypatch):
    import io

    from workflow.access import credentials

    monkeypatch.chdir(tmp_path)
    same = {credentials.key(u) for u in ("x.db", "./x.db", f"sqlite:///{tmp_path / 'x.db'}", "sqlite:///x.db")}
    assert same == {f"sqlite:///{tmp_path / 'x.db'}"}
    assert credentials.key(None) == f"sqlite:///{tmp_path / 'duban.db'}"
    pg = credentials.key("postgresql://duban:s3cret@db.example:5432/duban")
    assert pg == "postgresql+psycopg://duban@db.example:5432/duban"  # no password in the file
    credentials.save("x.db", "duban_1_" + "a" * 43, "张三")
    file = credentials.path()
    file.chmod(0o644)
    warned = io.StringIO()
    assert credentials.load("./x.db", warn=warned) == "duban_1_" + "a" * 43
    assert "chmod 600" in warned.getvalue() and "duban_1_" not in warned.getvalue()
    assert credentials.load("other.db") is None
