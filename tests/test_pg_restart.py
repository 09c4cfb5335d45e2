"""The PostgreSQL server itself goes away (issue 7): stopped in the middle of a command's
transaction, or before a command. Each time: exit 1 with one Chinese sentence, nothing
half-written, and once the server is back the same command works without any repair.

The server is a private cluster (tests/pg_private.py), never the shared DUBAN_TEST_PG.
"Mid-command" is made deterministic with a lock, not a sleep: a second session holds the
plan row FOR UPDATE, which `plan publish` and every fire() take in audit.chain() after
they have already written their rows; once the command's backend waits on that lock,
the server is stopped.
"""
from __future__ import annotations

import socket
import time

import psycopg
import pytest

from cli_helpers import run, start
from conftest import PLAN, build_world, many_tasks_plan
from pg_private import PrivateCluster, private_pg, private_pg_cluster  # noqa: F401 (fixtures)
from workflow.errors import database_problem

INTERRUPTED = "与数据库的连接中断，本次操作未生效，数据未改变；请确认数据库服务正常后重试。"
UNREACHABLE = "无法连接数据库服务器，本次操作未生效；请确认数据库服务已启动，并检查 --db 或 DUBAN_DB 中的地址和端口。"
NOT_LET_IN = ("数据库服务器拒绝了登录（用户名、密码或数据库名不对，或不允许从本机连接），本次操作未生效；"
              "请检查 --db 或 DUBAN_DB，加 --debug 可看到服务器的原话。")


def _world(cluster: PrivateCluster, plan: dict = PLAN, publish: bool = True):
    """The suite's bureau in a fresh schema of the private cluster."""
    from db.engine import make_engine
    from db.migrate import upgrade

    url = cluster.new_schema()
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return build_world(url, plan, publish=publish)


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _dump(url: str) -> dict[str, list[str]]:
    """Every row of every table, as JSON text, in a stable order."""
    with psycopg.connect(_libpq(url)) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1")]
        return {t: sorted(r[0] for r in conn.execute(f'SELECT row_to_json(t)::text FROM "{t}" t'))
                for t in tables}


def _one_sentence(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert stderr.startswith("错误："), stderr
    assert stderr.count("\n") == 1 and stderr.endswith("。\n"), stderr


def _stop_while_blocked(cluster: PrivateCluster, url: str, plan_id: int, mode: str, *command: str,
                        user: str, today: str):
    """Run `duban COMMAND` while another session holds the plan row; once the command's
    backend waits for that lock (its own writes made but not committed), stop the server
    with `mode`. Returns the finished command."""
    holder = psycopg.connect(_libpq(url))  # its transaction stays open: the lock is held
    proc = None
    try:
        holder.execute("SELECT id FROM plan WHERE id = %s FOR UPDATE", (plan_id,))
        holder_pid = holder.info.backend_pid
        proc = start(*command, db=url, user=user, today=today)
        with psycopg.connect(_libpq(url), autocommit=True) as watcher:
            deadline = time.monotonic() + 60
            while (blocked := watcher.execute(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND %s = ANY(pg_blocking_pids(pid))", (holder_pid,)).fetchone()) is None:
                if proc.poll() is not None:
                    out, err = proc.communicate()
                    pytest.fail(f"the command ended before it reached the plan lock: {proc.returncode} {out} {err}")
                assert time.monotonic() < deadline, "the command never waited for the plan lock"
                time.sleep(0.02)
            # Really mid-transaction: it has already written to assignment (not committed).
            assert watcher.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                " WHERE l.pid = %s AND c.relname = 'assignment' AND l.mode = 'RowExclusiveLock'"
                " AND l.granted", blocked).fetchone()[0] == 1
        cluster.stop(mode)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.communicate()
        holder.close()
    return proc.returncode, out, err


def _chain_intact(url: str) -> bool:
    from sqlalchemy import create_engine

    from workflow.lifecycle.audit import verify

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return verify(conn)[1] == []
    finally:
        engine.dispose()


def test_server_crashes_mid_publish_writes_nothing(private_pg):
    """Publishing 600 tasks writes its first 500 assignments, then waits for the plan row;
    the server stops with no checkpoint, like a crash or power cut ("immediate"). After
    crash recovery the plan is still a draft with no assignments and no events, and
    publishing again creates all 600 with an intact audit chain."""
    world = _world(private_pg, many_tasks_plan(600), publish=False)
    world.token("李审核")  # issued before the dump: issuing writes its hash
    before = _dump(world.url)

    code, out, err = _stop_while_blocked(private_pg, world.url, world.plan_id, "immediate",
                                         "plan", "publish", str(world.plan_id),
                                         user="李审核", today="2021-07-20")
    assert code == 1, (out, err)
    _one_sentence(err)
    assert err == f"错误：{INTERRUPTED}\n"

    private_pg.ensure_running()
    after = _dump(world.url)
    assert after == before
    assert after["assignment"] == [] and after["event"] == []
    assert '"published_at":null' in after["plan"][0]

    again = run("plan", "publish", str(world.plan_id), "--json", db=world.url, user="李审核", today="2021-07-20")
    assert again.returncode == 0, again.stderr
    assert '"created": 600' in again.stdout
    assert _chain_intact(world.url)


def test_server_stopped_mid_fire_writes_nothing(private_pg):
    """`task start` has updated the assignment (state, version) and waits for the plan row
    to chain its event; the server is stopped ("fast": every session is ended with
    "terminating connection due to administrator command"). After the restart the
    assignment is unchanged, there is no new event or notification, and starting it
    again works."""
    world = _world(private_pg)
    aid = world.assignment(1, "装财处")
    world.token("张三")
    before = _dump(world.url)

    code, out, err = _stop_while_blocked(private_pg, world.url, world.plan_id, "fast",
                                         "task", "start", str(aid), user="张三", today="2021-08-02")
    assert code == 1, (out, err)
    _one_sentence(err)
    assert err == f"错误：{INTERRUPTED}\n"

    private_pg.ensure_running()
    assert _dump(world.url) == before
    again = run("task", "start", str(aid), db=world.url, user="张三", today="2021-08-02")
    assert again.returncode == 0, again.stderr
    after = _dump(world.url)
    assert len(after["event"]) == len(before["event"]) + 1
    assert any(f'"id":{aid},' in row and '"state":"in_progress"' in row for row in after["assignment"])
    assert _chain_intact(world.url)


def test_server_stopped_before_a_command(private_pg):
    """Connection refused: one sentence that says the server cannot be reached (not that
    a connection broke, nor the driver's English); once the server is started again the
    same command works."""
    world = _world(private_pg)
    aid = world.assignment(1, "装财处")
    world.token("张三")
    before = _dump(world.url)
    private_pg.stop("fast")

    proc = run("task", "start", str(aid), db=world.url, user="张三", today="2021-08-02")
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    _one_sentence(proc.stderr)
    assert proc.stderr == f"错误：{UNREACHABLE}\n"

    private_pg.ensure_running()
    assert _dump(world.url) == before
    again = run("task", "start", str(aid), db=world.url, user="张三", today="2021-08-02")
    assert again.returncode == 0, again.stderr


def test_driver_messages_name_the_problem(private_pg):
    """The server's own words, as psycopg raises them, each mapped to the right sentence:
    no server to talk to is "cannot connect", a server that will not let us in is a
    refused login, a session that existed and died is "interrupted"."""
    url = private_pg.libpq_url()
    with socket.socket() as bound:  # bound, never listening: connecting is refused
        bound.bind(("127.0.0.1", 0))
        with pytest.raises(psycopg.OperationalError) as caught:
            psycopg.connect(f"postgresql://postgres@127.0.0.1:{bound.getsockname()[1]}/x", connect_timeout=5)
    assert database_problem(caught.value).message == UNREACHABLE, str(caught.value)

    # What PostgreSQL answers while it starts, recovers after a crash, or stops; these
    # windows cannot be hit on cue, so the answers are built from the server's words.
    for fatal in ("the database system is starting up", "the database system is in recovery mode",
                  "the database system is shutting down"):
        refused = psycopg.OperationalError(
            f'connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  {fatal}')
        assert database_problem(refused).message == UNREACHABLE, fatal

    full = psycopg.OperationalError('connection failed: connection to server at "127.0.0.1", port 5432 '
                                    'failed: FATAL:  sorry, too many clients already')
    assert "连接数已满" in database_problem(full).message  # up, but no slot: not a refused login

    for target in (private_pg.libpq_url("no_such_database"), url.replace("postgres@", "nobody@")):
        with pytest.raises(psycopg.OperationalError) as caught:
            psycopg.connect(target, connect_timeout=5)
        assert database_problem(caught.value).message == NOT_LET_IN, str(caught.value)

    conn = psycopg.connect(url)
    with psycopg.connect(url, autocommit=True) as killer:
        killer.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
    with pytest.raises(psycopg.OperationalError) as caught:
        conn.execute("SELECT 1")
    conn.close()
    assert database_problem(caught.value).message == INTERRUPTED, str(caught.value)


def test_wrong_database_name_is_one_sentence(private_pg):
    """Not an outage, so not "cannot connect"; and not the driver's English either (it was
    shown verbatim before). `duban --debug` still shows the server's words."""
    url = private_pg.url("no_such_database")
    proc = run("task", "list", db=url, user="张三")
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    _one_sentence(proc.stderr)
    assert proc.stderr == f"错误：{NOT_LET_IN}\n"
    debug = run("--debug", "task", "list", db=url, user="张三")
    assert 'database "no_such_database" does not exist' in debug.stderr
