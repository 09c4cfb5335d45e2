"""Benchmark: the outbox dispatcher against plain sequential smtplib.

An aiosmtpd server runs in a separate process and delays every DATA reply by
50 ms (a real relay that scans or journals each message). 1,000 messages are
enqueued and sent by `dispatch()` (aiosmtplib, `connections` sessions in
parallel, each reused), then the same 1,000 messages go out through one
smtplib connection, one after the other. Prints both rates and the ratio
(target: ≥ 6×).

Run: .venv/bin/python bench/dispatch.py [--n 1000] [--delay 0.05] [--connections 8]
"""
from __future__ import annotations

import argparse
import asyncio
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVER = """
import asyncio, sys
from aiosmtpd.controller import Controller

class Slow:
    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep({delay})
        return "250 2.0.0 OK"

controller = Controller(Slow(), hostname="127.0.0.1", port={port})
controller.start()
print("ready", flush=True)
sys.stdin.read()  # until the parent closes our stdin
controller.stop()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, delay: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", SERVER.format(port=port, delay=delay)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def fill(engine, n: int) -> None:
    import datetime as dt

    from sqlmodel import Session

    from notifications.outbox import Outgoing, enqueue, format_recipient
    from notifications.render import event_context, render

    rendered = render("distributed", event_context(
        plan_title="2021年政务公开工作要点分工方案", task_seq=1, requirement="做好政务公开工作" * 10,
        department="装财处", role_label="牵头", period="", due_date=dt.date(2021, 11, 30)))
    with Session(engine) as session:
        enqueue(session, [Outgoing(f"bench:{i}", "distributed",
                                   format_recipient(f"用户{i}", f"u{i}@example.gov.cn"), rendered)
                          for i in range(n)])
        session.commit()


def run_dispatcher(engine, port: int, connections: int) -> tuple[float, int]:
    from notifications.backends import MailConfig
    from notifications.outbox import dispatch

    config = MailConfig(backend="smtp", host="127.0.0.1", port=port, security="plain",
                        connections=connections, timeout=10)
    start = time.perf_counter()
    report = dispatch(engine, config)
    return time.perf_counter() - start, report.sent


def run_smtplib(engine, port: int) -> tuple[float, int]:
    from sqlalchemy import select

    from db.models import Notification
    from notifications.backends import MailConfig
    from notifications.outbox import build_message

    config = MailConfig()
    table = Notification.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(table).order_by(table.c.id)).all()
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        for row in rows:
            smtp.send_message(build_message(row, config))
    return time.perf_counter() - start, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()

    from db.engine import make_engine
    from db.migrate import upgrade

    port = free_port()
    server = start_server(port, args.delay)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            engine = make_engine(f"sqlite:///{tmp}/bench.db")
            upgrade(engine)
            fill(engine, args.n)
            took, sent = run_dispatcher(engine, port, args.connections)
            assert sent == args.n, f"dispatcher sent {sent} of {args.n}"
            base, sent_plain = run_smtplib(engine, port)
    finally:
        server.stdin.close()
        server.wait(timeout=10)
    rate, base_rate = sent / took, sent_plain / base
    print(f"messages: {args.n}, DATA delay {args.delay * 1000:.0f} ms, connections {args.connections}")
    print(f"dispatcher (aiosmtplib, outbox commits): {took:6.2f} s  {rate:7.1f} msg/s")
    print(f"sequential smtplib (one connection):     {base:6.2f} s  {base_rate:7.1f} msg/s")
    print(f"ratio: {rate / base_rate:.1f}x (target >= 6x)")
    sys.path.insert(0, str(ROOT / "bench"))
    from _report import result

    result(f"outbox dispatch, {args.n:,} messages, 50 ms DATA delay", rate, "msg/s", baseline=base_rate,
           baseline_label="sequential smtplib msg/s", ratio=rate / base_rate, target="≥ 6×",
           met=rate / base_rate >= 6)


if __name__ == "__main__":
    main()
