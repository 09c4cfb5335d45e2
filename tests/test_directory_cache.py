"""The recipient directory a process keeps in memory (workflow/directory/recipients.py `current`) is
never stale: a change to users, departments or delegations, made by another process —
through the library or by hand-written SQL — reaches the very next mail, on each backend.
The database's triggers renew the directory stamp in the change's own transaction."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy import text

from conftest import drive
from db.engine import make_engine
from workflow.lifecycle.service import transition
from workflow.lifecycle.engine import Fields
from workflow.directory import recipients

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2021, 8, 2)  # world.app()'s default day


def _other_process(url: str, body: str) -> None:
    """Run `body` (with `engine` and `text` in scope) in a separate Python process."""
    script = textwrap.dedent("""
        import sys, datetime as dt
        from sqlalchemy import text
        from sqlmodel import Session
        from db.engine import make_engine
        engine = make_engine(sys.argv[1])
    """) + textwrap.dedent(body) + "\nengine.dispose()\n"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", script, url], check=True, env=env, cwd=ROOT, timeout=120)


def _last_mail_addresses(world) -> set[str]:
    engine = make_engine(world.url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT recipient FROM notification WHERE event_id = "
                                 "(SELECT max(id) FROM event)")).scalars().all()
    engine.dispose()
    return {r.split("<")[-1].rstrip(">") for r in rows}


def test_changes_made_elsewhere_reach_the_next_mail(world):
    aid = world.assignment(1, "装财处")
    drive(world, aid, "in_progress")
    transition(world.app("张三"), aid, "submit", Fields(summary="完成"))
    assert _last_mail_addresses(world) == {"u1@example.gov.cn", "u2@example.gov.cn"}  # the two reviewers

    # The directory is kept while nothing changes: the same object answers again.
    with world.session() as s:
        first = recipients.current(s, DAY)
    with world.session() as s:
        assert recipients.current(s, DAY) is first

    # Another process adds a reviewer through the library.
    _other_process(world.url, """
        from workflow.clock import Clock
        from workflow.directory.store import add_user
        with Session(engine) as s:
            add_user(s, "新审核", "xin@example.gov.cn", ["reviewer"], "局政务公开办", Clock())
    """)
    transition(world.app("李审核"), aid, "send_back", Fields(comment="请补充"))
    transition(world.app("张三"), aid, "submit", Fields(summary="已补充"))
    assert "xin@example.gov.cn" in _last_mail_addresses(world)

    # Another process changes an address with plain SQL, bypassing duban altogether.
    _other_process(world.url, """
        with engine.begin() as conn:
            conn.execute(text("UPDATE app_user SET email = 'zhao.new@example.gov.cn' WHERE name = '赵六'"))
            conn.execute(text("INSERT INTO delegation (from_user_id, to_user_id, starts_on, ends_on, created_at) "
                              "SELECT f.id, t.id, '2021-08-01', '2021-08-31', '2021-08-01 09:00:00' "
                              "FROM app_user f, app_user t WHERE f.name = '张三' AND t.name = '孙科监'"))
    """)
    transition(world.app("李审核"), aid, "approve")
    got = _last_mail_addresses(world)
    assert "zhao.new@example.gov.cn" in got and "u4@example.gov.cn" not in got  # 赵六's old address
    assert f"u{world.ids['孙科监']}@example.gov.cn" in got  # 张三's delegate now hears of it too
    with world.session() as s:
        assert recipients.current(s, DAY) is not first


def test_the_stamp_moves_with_the_change_and_back_with_its_rollback(world):
    engine = make_engine(world.url)
    stamp = "SELECT version, stamp FROM directory_version"
    with engine.connect() as conn:
        before = conn.execute(text(stamp)).one()
        conn.rollback()
        conn.execute(text("UPDATE department SET email = 'x@example.gov.cn' WHERE name = '科监处'"))
        during = conn.execute(text(stamp)).one()
        conn.rollback()
        after = conn.execute(text(stamp)).one()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM department WHERE name = '法律援助处'"))  # nobody refers to it
        deleted = conn.execute(text(stamp)).one()
    engine.dispose()
    assert during.version == before.version + 1 and during.stamp != before.stamp
    assert after == before  # a rolled-back change leaves no trace
    assert deleted.version == before.version + 1 and deleted.stamp not in (before.stamp, during.stamp)
