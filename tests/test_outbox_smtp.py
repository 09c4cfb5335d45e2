"""The outbox against a real aiosmtpd server: delivery, retries, failures, crashes, claims."""
import datetime as dt
import re
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import Session, select

from db.models import Notification
from mailkit import SmtpSink, free_port, make_db, wait_for
from notifications.backends import MailConfig
from db.instance import instance_id
from notifications.outbox import (Outgoing, dispatch, enqueue, format_recipient, message_id,
                                  retry)
from notifications.render import DIGEST_KINDS, EVENT_KINDS, event_context, render

ROOT = Path(__file__).resolve().parents[1]
UTC = dt.timezone.utc
PLAN = "2021年政务公开工作要点分工方案"


def smtp_config(port, **over):
    values = dict(backend="smtp", host="127.0.0.1", port=port, security="plain", timeout=5,
                  connections=4, max_attempts=5, backoff_seconds=60)
    values.update(over)
    return MailConfig(**values)


def event_mail(kind, seq=3):
    return render(kind, event_context(
        plan_title=PLAN, task_seq=seq, requirement="推进政务公开标准化规范化", department="装财处",
        role_label="牵头", period="", due_date=dt.date(2021, 11, 30), new_due=dt.date(2021, 12, 15),
        old_due=dt.date(2021, 11, 30), actor="赵六", comment="请补充材料", reason="客观原因",
        summary="已完成"))


def fill(engine, n, kind="distributed", prefix="k", domain="example.gov.cn"):
    items = [Outgoing(key=f"{prefix}{i}", kind=kind, recipient=format_recipient(f"用户{i}", f"u{i}@{domain}"),
                      rendered=event_mail(kind, seq=i)) for i in range(n)]
    with Session(engine) as s:
        added = enqueue(s, items)
        s.commit()
    return added


def rows(engine):
    with Session(engine) as s:
        return {r.key: r for r in s.exec(select(Notification)).all()}


def utcnow():
    return dt.datetime.now(UTC).replace(tzinfo=None)


def later(hours):
    moment = utcnow() + dt.timedelta(hours=hours)
    return lambda: moment


@pytest.fixture
def engine(tmp_path):
    return make_db(tmp_path)


def test_every_kind_delivered_with_chinese_subject_and_body(engine):
    kinds = EVENT_KINDS
    with Session(engine) as s:
        enqueue(s, [Outgoing(key=f"event:1:{k}", kind=k,
                             recipient=format_recipient("张三", f"{k}@example.gov.cn"),
                             rendered=event_mail(k)) for k in kinds])
        s.commit()
    with SmtpSink() as sink:
        report = dispatch(engine, smtp_config(sink.port))
    assert (report.sent, report.failed, report.retrying, report.pending_left) == (len(kinds), 0, 0, 0)
    by_rcpt = {m.rcpt_tos[0]: m for m in sink.received}
    assert set(by_rcpt) == {f"{k}@example.gov.cn" for k in kinds}
    for k in kinds:
        got, want = by_rcpt[f"{k}@example.gov.cn"], event_mail(k)
        assert got.mail_from == "duban@localhost"
        assert got.subject == want.subject and got.subject.startswith("【督办】")
        assert "装财处" in got.subject and PLAN in got.subject
        assert got.text().strip() == want.text.strip()
        assert "推进政务公开标准化规范化" in got.html()
        assert got.message_id == message_id(f"event:1:{k}", instance_id(engine), "localhost")
        assert re.fullmatch(r"<[0-9a-f]{32}\.[0-9a-f]{16}@localhost>", got.message_id)
        assert str(got.message["To"]) == f"张三 <{k}@example.gov.cn>"
        assert str(got.message["From"]) == "督办系统 <duban@localhost>"
    raw = sink.received[0].message.as_string()
    assert "=?utf-8?" in raw  # RFC 2047 encoded subject on the wire
    assert all(r.status == "sent" and r.sent_at and r.attempts == 1 for r in rows(engine).values())
    # connections are reused: no more sessions than connections
    assert sink.handler.sessions <= 4


def test_digest_kind_is_delivered(engine):
    context = dict(recipient_name="张三", today=dt.date(2021, 10, 8), total=1,
                   counts={"overdue": 1, "escalation": 0},
                   sections=[{"key": "overdue", "title": "已逾期", "items": [dict(
                       plan_title=PLAN, task_seq=9, requirement="季度信息", department="装财处",
                       role_label="牵头", period="2021Q3", due_date=dt.date(2021, 9, 30),
                       light="🔴", light_label="逾期", note="已逾期 1 个工作日")]}])
    with Session(engine) as s:
        enqueue(s, [Outgoing(key=f"remind:{k}", kind=k, recipient=f"{k}@example.gov.cn",
                             rendered=render(k, context)) for k in DIGEST_KINDS])
        s.commit()
    with SmtpSink() as sink:
        assert dispatch(engine, smtp_config(sink.port)).sent == 3
    for m in sink.received:
        assert "【逾期】" in m.text() and "已逾期 1 个工作日" in m.html()


def test_enqueue_is_idempotent(engine):
    assert fill(engine, 5) == 5
    assert fill(engine, 7) == 2
    with Session(engine) as s:  # duplicates inside one call count once
        item = Outgoing("dup", "test", "a@example.gov.cn", event_mail("approved"))
        assert enqueue(s, [item, item]) == 1
        s.commit()
    assert len(rows(engine)) == 8


def test_server_down_then_up_delivers_exactly_once(engine):
    fill(engine, 12)
    port = free_port()  # nothing listens here yet
    report = dispatch(engine, smtp_config(port))
    assert report.sent == 0 and report.retrying >= 1 and report.pending_left == 12
    assert "无法连接" in report.errors[0]
    state = rows(engine)
    assert {r.status for r in state.values()} == {"pending"}
    assert all(r.attempts <= 1 for r in state.values())
    with SmtpSink(port=port) as sink:
        first = dispatch(engine, smtp_config(port), now=later(1))
        second = dispatch(engine, smtp_config(port), now=later(2))
    assert first.sent == 12 and second.sent == 0
    ids = Counter(m.message_id for m in sink.received)
    assert len(ids) == 12 and set(ids.values()) == {1}
    assert {r.status for r in rows(engine).values()} == {"sent"}


def test_451_then_250(engine):
    fill(engine, 3)
    with SmtpSink(defer_first=3) as sink:
        cfg = smtp_config(sink.port, connections=1)
        first = dispatch(engine, cfg)
        assert (first.sent, first.retrying) == (0, 3)
        state = rows(engine)
        assert all(r.status == "pending" and r.attempts == 1 and "451" in r.last_error
                   for r in state.values())
        nxt = min(r.next_attempt_at for r in state.values())
        assert nxt > utcnow() + dt.timedelta(seconds=50)  # backoff 60 s
        assert dispatch(engine, cfg).sent == 0  # not due yet
        second = dispatch(engine, cfg, now=later(1))
    assert second.sent == 3 and len(sink.received) == 3
    assert all(r.status == "sent" and r.attempts == 2 for r in rows(engine).values())


def test_backoff_grows_and_gives_up(engine):
    fill(engine, 1)
    port = free_port()
    cfg = smtp_config(port, max_attempts=3, backoff_seconds=10)
    waits = []
    for hour in range(3):
        now = later(hour)  # one moment for the dispatch and the check (a second call drifts)
        dispatch(engine, cfg, now=now)
        row = rows(engine)["k0"]
        if row.next_attempt_at:
            waits.append(row.next_attempt_at - now())
    row = rows(engine)["k0"]
    assert row.status == "failed" and row.attempts == 3 and "已尝试 3 次" in row.last_error
    assert [round(w.total_seconds()) for w in waits] == [10, 20]


def test_550_recipient_fails_with_the_reply(engine):
    fill(engine, 3)
    with SmtpSink(refuse={"u1@example.gov.cn"}) as sink:
        report = dispatch(engine, smtp_config(sink.port, connections=1))
    assert (report.sent, report.failed) == (2, 1)
    bad = rows(engine)["k1"]
    assert bad.status == "failed" and "（550 5.1.1）" in bad.last_error
    assert "u1@example.gov.cn" in bad.last_error and "收件人邮箱不存在" in bad.last_error
    assert "user unknown" not in bad.last_error and bad.last_error.endswith("。")
    assert sorted(m.rcpt_tos[0] for m in sink.received) == ["u0@example.gov.cn", "u2@example.gov.cn"]
    # retry puts it back; it fails again with the same reply
    assert retry(engine, [bad.id]) == 1
    with SmtpSink(refuse={"u1@example.gov.cn"}) as sink:
        assert dispatch(engine, smtp_config(sink.port)).failed == 1
    assert retry(engine, failed=True) == 1
    with SmtpSink() as sink:
        assert dispatch(engine, smtp_config(sink.port)).sent == 1


def test_two_dispatchers_never_send_one_row_twice(engine):
    fill(engine, 120)
    with SmtpSink(delay=0.002) as sink:
        cfg = smtp_config(sink.port, connections=3)
        reports = []
        threads = [threading.Thread(target=lambda: reports.append(dispatch(engine, cfg, batch=10)))
                   for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sum(r.sent for r in reports) == 120
    assert Counter(m.message_id for m in sink.received).most_common(1)[0][1] == 1
    assert len(sink.received) == 120


def test_stale_claim_returns_to_pending(engine):
    fill(engine, 2)
    with engine.begin() as conn:  # a dispatcher died holding both rows
        conn.exec_driver_sql("UPDATE notification SET status='sending', "
                             "next_attempt_at='2000-01-01 00:00:00.000000'")
    with SmtpSink() as sink:
        assert dispatch(engine, smtp_config(sink.port)).sent == 2


CHILD = """
import sys
sys.path.insert(0, {root!r})
from db.engine import make_engine
from notifications.backends import MailConfig
from notifications.outbox import dispatch
engine = make_engine({url!r}, synchronous="NORMAL")
cfg = MailConfig(backend="smtp", host="127.0.0.1", port={port}, security="plain", timeout=5,
                 connections=4)
dispatch(engine, cfg, batch=10)
"""


def test_sigkill_mid_batch_then_restart(engine, tmp_path):
    total = 200
    fill(engine, total)
    url = str(engine.url)
    with SmtpSink(delay=0.01) as sink:
        code = CHILD.format(root=str(ROOT), url=url, port=sink.port)
        child = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path)
        assert wait_for(lambda: len(sink.received) >= 40, timeout=20)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        delivered_before = len(sink.received)
        assert delivered_before < total
        in_flight = sum(1 for r in rows(engine).values() if r.status == "sending")
        # After the lease has expired, a new dispatcher finishes the job.
        report = dispatch(engine, smtp_config(sink.port), now=later(1))
    ids = Counter(m.message_id for m in sink.received)
    assert set(ids) == {message_id(f"k{i}", instance_id(engine), "localhost") for i in range(total)}
    duplicates = sum(n - 1 for n in ids.values())
    assert duplicates <= in_flight  # only what was in flight at the kill, same Message-ID
    assert {r.status for r in rows(engine).values()} == {"sent"}
    assert report.pending_left == 0


def test_file_backend_writes_one_eml_per_key(engine, tmp_path):
    fill(engine, 3)
    folder = tmp_path / "out"
    report = dispatch(engine, MailConfig(backend="file", dir=folder))
    assert report.sent == 3
    files = sorted(folder.glob("*.eml"))
    assert len(files) == 3
    import email
    import email.policy
    msg = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert str(msg["Subject"]).startswith("【督办】")
    # re-sending the same key overwrites the same file
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE notification SET status='pending'")
    dispatch(engine, MailConfig(backend="file", dir=folder))
    assert len(list(folder.glob("*.eml"))) == 3


def test_console_backend(engine, capsys):
    fill(engine, 1)
    assert dispatch(engine, MailConfig(backend="console")).sent == 1
    out = capsys.readouterr().out
    assert "【督办】任务下发通知" in out and "u0@example.gov.cn" in out


@pytest.mark.parametrize("subject", [
    "【督办】任务下发通知:装财处 第1项(2021年政务公开工作要点分工方案)" * 2,
    "【督办】测试邮件", "plain ascii subject", "mixed 中文 and ascii " * 6, "x" * 150])
@pytest.mark.parametrize("name", ["用户一", "", "Zhang, San", "张三(科监处)", "很长的名字" * 12])
def test_wire_format_parses_back_exactly(subject, name):
    """The fast header path writes what the standard email policy reads back."""
    import email
    import email.policy
    from types import SimpleNamespace

    from notifications.backends import message_bytes
    from notifications.outbox import build_message
    from notifications.render import sanitize_header

    recipient = format_recipient(name, "u1@example.gov.cn")
    row = SimpleNamespace(key="k", kind="distributed", recipient=recipient, subject=subject,
                          text="装财处:\n" + "做好政务公开" * 200, html="<p>中文 &amp; x</p>" * 50)
    raw = message_bytes(build_message(row, MailConfig(sender="政务公开办 <gkb@example.gov.cn>")))
    back = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(back["Subject"]) == sanitize_header(subject)
    expected_to = email.message_from_string(f"To: {recipient}\n\n", policy=email.policy.default)["To"]
    # Python's own parser puts a space between adjacent encoded words of a long name.
    assert str(back["To"]).replace(" ", "") == str(expected_to).replace(" ", "")
    assert str(back["From"]) == "政务公开办 <gkb@example.gov.cn>"
    assert back.get_body(("plain",)).get_content() == row.text + "\n"
    assert back.get_body(("html",)).get_content() == row.html + "\n"
    assert not any(part.defects for part in back.walk())
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))
    assert raw.isascii()


def test_message_ids_differ_across_databases_and_carry_the_office_domain(tmp_path):
    """The same outbox key in two databases (a demo and a real one, last year's and this
    year's) must not give the same Message-ID: mail systems that de-duplicate would drop
    the second. One database resending a row keeps its Message-ID."""
    first, second = make_db(tmp_path, "a.db"), make_db(tmp_path, "b.db")
    sender = "督办系统 <duban@sfj.gz.gov.cn>"
    with SmtpSink() as sink:
        for engine in (first, second):
            fill(engine, 3)
            assert dispatch(engine, smtp_config(sink.port, sender=sender)).sent == 3
        fill(first, 1, prefix="x")
        assert dispatch(first, smtp_config(sink.port, sender=sender, domain="mail.example.cn")).sent == 1
    ids = [m.message_id for m in sink.received]
    assert len(set(ids)) == 7
    assert instance_id(first) != instance_id(second)
    assert all(i.endswith("@sfj.gz.gov.cn>") for i in ids[:6])
    assert ids[-1] == message_id("x0", instance_id(first), "mail.example.cn")
    # stable for the key (a dispatch sends over several connections: any order within one)
    assert message_id("k0", instance_id(first), "sfj.gz.gov.cn") in ids[:3]
