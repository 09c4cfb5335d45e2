"""Concurrency on a shared database, on SQLite and PostgreSQL: two dispatchers on one
outbox, two reminder sweeps at once, two daemons. Real processes, a real SMTP server."""
import datetime as dt
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import Session, select

from cli_helpers import duban_cmd
from db.engine import make_engine
from db.models import Notification, ReminderLog
from mailkit import SmtpSink, World, wait_for
from db.engine import make_engine
from db.instance import instance_id
from notifications.outbox import Outgoing, enqueue, format_recipient, message_id
from notifications.render import Rendered
from workflow.errors import Refused
from workflow.reminders.lock import daemon_lock, sweep_lock

ROOT = Path(__file__).resolve().parents[1]
D = dt.date
DAY = "2021-09-30"
DEPT = {"zhang@example.gov.cn", "wang@example.gov.cn", "zcc@example.gov.cn"}


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def world(engine, db_url):
    """装财处 (two people and a mailbox) with one item due on DAY."""
    w = World(engine)
    zc = w.dept("装财处", email="zcc@example.gov.cn")
    w.user("张三", zc, ["staff"], "zhang@example.gov.cn")
    w.user("王五", zc, ["staff", "head"], "wang@example.gov.cn")
    plan = w.plan()
    w.assignment(plan, w.task(plan, 9, "按季度公开执法信息"), zc, D(2021, 9, 30))
    office = w.user("督办服务", None, ["reviewer"], "duban@example.gov.cn")  # the cron job's account
    from test_mail_commands import service_token

    TOKENS[str(engine.url)] = TOKENS[db_url] = service_token(engine, office)
    return w


# --- two dispatchers, one outbox -------------------------------------------------------

DISPATCHER = """
import json, os, sys, time
sys.path.insert(0, {root!r})
from db.engine import make_engine
from notifications.backends import MailConfig
from notifications.outbox import dispatch
engine = make_engine({url!r})
cfg = MailConfig(backend="smtp", host="127.0.0.1", port={port}, security="plain", timeout=5,
                 connections=3)
open({ready!r}, "w").close()
while not os.path.exists({go!r}):  # start together: the claims must really overlap
    time.sleep(0.005)
report = dispatch(engine, cfg, batch=10)
print(json.dumps({{"sent": report.sent, "failed": report.failed, "left": report.pending_left}}))
"""


def fill(engine, n: int) -> None:
    items = [Outgoing(key=f"k{i}", kind="distributed",
                      recipient=format_recipient(f"用户{i}", f"u{i}@example.gov.cn"),
                      rendered=Rendered(f"【督办】任务下发通知 {i}", f"第{i}封", None))
             for i in range(n)]
    with Session(engine) as s:
        enqueue(s, items)
        s.commit()


def test_two_dispatcher_processes_deliver_each_message_once(engine, db_url, tmp_path):
    total = 240
    fill(engine, total)
    go = tmp_path / "go"
    with SmtpSink(delay=0.03) as sink:  # ~2.4 s for one dispatcher alone: time to overlap
        children = []
        for n in range(2):
            code = DISPATCHER.format(root=str(ROOT), url=db_url, port=sink.port,
                                     ready=str(tmp_path / f"ready{n}"), go=str(go))
            children.append(subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, text=True))
        assert wait_for(lambda: all((tmp_path / f"ready{n}").exists() for n in range(2)), 60)
        go.touch()
        outs = [c.communicate(timeout=120) for c in children]
    assert [c.returncode for c in children] == [0, 0], [o[1] for o in outs]
    reports = [json.loads(o[0]) for o in outs]
    assert sum(r["sent"] for r in reports) == total
    assert all(r["sent"] > 0 for r in reports), reports  # both really worked the same outbox
    ids = Counter(m.message_id for m in sink.received)
    assert set(ids) == {message_id(f"k{i}", instance_id(make_engine(db_url)), "localhost") for i in range(total)}
    assert max(ids.values()) == 1 and len(sink.received) == total
    with Session(engine) as s:
        assert {r.status for r in s.exec(select(Notification)).all()} == {"sent"}


def test_a_claim_takes_at_most_its_batch(engine):
    """PostgreSQL once re-ran LIMIT … SKIP LOCKED per outer row and claimed everything."""
    from notifications.backends import MailConfig
    from notifications.outbox import _Store, utcnow

    fill(engine, 60)
    store = _Store(engine, MailConfig(), utcnow, lease=600)
    first, second = store.claim(10), store.claim(10)
    assert len(first) == len(second) == 10
    assert not {r.id for r in first} & {r.id for r in second}
    assert store.count(due_only=True) == 40


# --- two reminder sweeps --------------------------------------------------------------

def duban(db_url: str, config: Path, *args: str, env: dict | None = None) -> subprocess.Popen:
    import os

    full = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}
    full.update(env or {})
    full["DUBAN_TOKEN"] = TOKENS[db_url]
    return subprocess.Popen([*duban_cmd(), "--db", db_url, "--config", str(config), "--today", DAY,
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=full, cwd=ROOT)


TOKENS: dict[str, str] = {}  # database URL -> the service account's token (set by `world`)


def smtp_setup(tmp_path: Path, port: int) -> tuple[Path, dict]:
    config = tmp_path / "duban.toml"
    config.write_text('[mail]\nsecurity = "plain"\n', encoding="utf-8")
    env = {"DUBAN_MAIL_BACKEND": "smtp", "DUBAN_SMTP_HOST": "127.0.0.1",
           "DUBAN_SMTP_PORT": str(port)}
    return config, env


def outbox_keys(engine) -> list[str]:
    with Session(engine) as s:
        return sorted(s.exec(select(Notification.key)).all())


def test_a_sweep_waits_for_the_one_in_progress(world, engine, db_url, tmp_path):
    """While another sweep holds the lock, `remind run` waits; then it sends once."""
    with SmtpSink() as sink:
        config, env = smtp_setup(tmp_path, sink.port)
        with sweep_lock(engine):
            proc = duban(db_url, config, "remind", "run", "--json", env=env)
            time.sleep(2.0)  # ample time to start, plan and commit were it not waiting
            assert proc.poll() is None
            assert outbox_keys(engine) == []
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert json.loads(out)["enqueued"] == 3
        again = duban(db_url, config, "remind", "run", "--json", env=env)
        out, err = again.communicate(timeout=60)
    assert json.loads(out)["enqueued"] == 0
    assert sorted(m.rcpt_tos[0] for m in sink.received) == sorted(DEPT)


def test_two_sweeps_at_once_send_each_digest_once(world, engine, db_url, tmp_path):
    """Two `remind run` released together: one sends, the other waits, then sends nothing."""
    with SmtpSink(delay=0.05) as sink:
        config, env = smtp_setup(tmp_path, sink.port)
        with sweep_lock(engine):  # hold both at the start line
            procs = [duban(db_url, config, "remind", "run", "--json", env=env) for _ in range(2)]
            time.sleep(2.0)
            assert [p.poll() for p in procs] == [None, None]
        outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    enqueued = sorted(json.loads(o[0])["enqueued"] for o in outs)
    assert enqueued == [0, 3]
    ids = Counter(m.message_id for m in sink.received)
    assert len(ids) == 3 and max(ids.values()) == 1
    assert {m.rcpt_tos[0] for m in sink.received} == DEPT
    with Session(engine) as s:
        assert len(s.exec(select(ReminderLog)).all()) == 3


def test_sweep_lock_gives_up_after_its_wait(engine):
    other = make_engine(str(engine.url.render_as_string(hide_password=False)))
    try:
        with sweep_lock(engine):
            start = time.monotonic()
            with pytest.raises(Refused, match="另一次催办正在进行"):
                with sweep_lock(other, wait=0.3):
                    pass
            assert time.monotonic() - start >= 0.25  # it waited; that it returned at all is the give-up
        with sweep_lock(other, wait=0.3):  # released: free again
            pass
    finally:
        other.dispose()


# --- daemons --------------------------------------------------------------------------

def test_second_daemon_refuses_while_a_cron_run_still_works(world, engine, db_url, tmp_path):
    config = tmp_path / "duban.toml"
    config.write_text(f'[mail]\nbackend = "file"\ndir = "{tmp_path / "out"}"\n', encoding="utf-8")
    with daemon_lock(engine):
        second = duban(db_url, config, "remind", "daemon", "--once")
        _, err = second.communicate(timeout=60)
        assert second.returncode != 0 and "另一个催办守护进程正在运行" in err
        assert outbox_keys(engine) == []
        cron = duban(db_url, config, "remind", "run")  # the daemon lock is not the sweep lock
        out, err = cron.communicate(timeout=60)
        assert cron.returncode == 0, err
        assert "已生成催办邮件 3 封" in out
    after = duban(db_url, config, "remind", "daemon", "--once")
    out, err = after.communicate(timeout=60)
    assert after.returncode == 0, err
    assert "已生成催办邮件 0 封" in out and "已提醒过的 1 项" in out
    assert len(list((tmp_path / "out").glob("*.eml"))) == 3
