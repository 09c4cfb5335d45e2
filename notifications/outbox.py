"""The outbox: notification rows written with the event, sent later by a dispatcher.

Why an outbox: a transition and its mails must commit or roll back together,
and the SMTP server may be down for a day. So `enqueue` only adds rows to the
caller's transaction; `dispatch` sends whatever is due, whenever it runs.

Guarantees:

- Idempotency: every row has a unique key (e.g. "event:42:dept:zhang@x");
  enqueueing a key twice adds nothing. The key also fixes the Message-ID
  (`<sha256(key)[:32].instance@domain>`, see message_id), so if the process dies after the server
  accepted a message but before the row was marked sent, the one possible
  resend carries the same Message-ID and can be recognised (and dropped by
  mail systems that de-duplicate on it).
- Claims: a dispatcher moves at most a batch of rows pending → sending in one
  UPDATE … RETURNING (on PostgreSQL the batch is picked once, FOR UPDATE SKIP
  LOCKED in a materialized CTE); two dispatchers never hold the same row.
  A claimed row's next_attempt_at holds its lease expiry; a 'sending' row whose
  lease has expired (its dispatcher died) returns to pending.
- Progress is committed in small batches while sending, so a crash loses at most
  the messages in flight.
- Transient failures (refused connection, timeout, 4xx) are retried with
  exponential backoff up to max_attempts; permanent ones (5xx, refused recipient)
  are marked failed with the server's reply.

Deferred rendering: an event mail's row holds its kind and context (`context`, see
notifications/render.py `stored_context`) instead of its text, so the transaction that
enqueues it does not pay for jinja2. The dispatcher renders such a row when it sends it
and stores subject, text and html on the row with the outcome; `list_rows` renders the
subject of rows not yet sent. A row with text (digests, rows older than migration 0005)
is sent as stored.

Throughput: `connections` SMTP sessions run in parallel, each reused for many
messages (one aiosmtplib client serialises its sends).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from db.instance import instance_id
from db.models import Notification
from db.prepared import Prepared, PreparedInsert
from notifications.backends import MESSAGE_POLICY, Backend, MailConfig, SendError, make_backend
from notifications.render import Rendered, render_stored, sanitize_header

N = Notification.__table__
MAX_BACKOFF = dt.timedelta(hours=6)
DEFAULT_LEASE = 600.0  # seconds a claim is honoured before it is considered dead
ERROR_LIMIT = 2000
STATUSES = ("pending", "sending", "sent", "failed")
CHINA = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Outgoing:
    """One mail to add to the outbox. `recipient` is "名字 <addr>" or a bare address.

    Either `rendered`, or `context` (from render.stored_context, or its JSON text from
    render.stored_context_text) to render when sent.
    """

    key: str
    kind: str
    recipient: str
    rendered: Rendered | None = None
    event_id: int | None = None
    assignment_id: int | None = None
    context: dict[str, Any] | None = None


@dataclass
class DispatchReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    pending_left: int = 0
    errors: list[str] = field(default_factory=list)  # distinct replies, first few
    fatal: str | None = None  # a configuration problem that stopped the run

    def problem(self) -> str | None:
        """None when the attempt left nothing behind; else one sentence for the operator
        (and exit status 1 for cron): how many mails are still failed or pending, and why."""
        if self.fatal:
            return (f"{self.fatal}邮件未发出，{self.pending_left} 封仍保留在发件箱中；"
                    "改正设置后运行 duban outbox send。")
        if not self.failed and not self.pending_left:
            return None
        parts = []
        if self.failed:
            parts.append(f"本次 {self.failed} 封发送失败，不再自动重试")
        if self.pending_left:
            parts.append(f"发件箱中仍有 {self.pending_left} 封待发送，将按退避时间重试")
        why = f"原因：{self.errors[0]}" if self.errors else "它们尚未到重试时间。"
        return (f"邮件未全部发出：{'；'.join(parts)}。{why}"
                "可用 duban outbox list 查看每封邮件的状态和原因。")


def utcnow() -> dt.datetime:
    """Naive UTC: the outbox keeps real wall-clock times in UTC, like event.recorded_at."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def message_id(key: str, instance: str, domain: str) -> str:
    """`<key-hash.instance@domain>`: a resend of one row carries the same Message-ID (and is
    recognisable), while another database's mail with the same key differs by `instance`
    (db/instance.py), and `domain` is the office's ([mail] domain or the sender's)."""
    return f"<{key_hash(key)}.{instance}@{domain}>"


# Characters with a meaning in an address header: dropped, or parentheses made full-width.
_NAME_CLEAN = str.maketrans({**{c: None for c in '<>",;:\\[]@'}, "(": "\uff08", ")": "\uff09"})


@functools.lru_cache(maxsize=4096)  # the same few hundred people, mail after mail
def format_recipient(name: str | None, email: str) -> str:
    """"名字 <addr>" with the name cleaned of characters that would break the header."""
    clean = sanitize_header(name or "", 60).translate(_NAME_CLEAN)
    email = sanitize_header(email, 254)
    return f"{clean} <{email}>" if clean else email


# --- enqueue ----------------------------------------------------------------------

_COLUMNS = ("key", "kind", "recipient", "subject", "text", "html", "status", "attempts",
            "next_attempt_at", "last_error", "event_id", "assignment_id", "created_at", "sent_at",
            "context")
_INSERT = Prepared(N.insert(), _COLUMNS)


def enqueue(session: Session, items: list[Outgoing], *, new_keys: bool = False,
            created_at: dt.datetime | None = None) -> int:
    """Add rows for keys not yet in the outbox, in the caller's transaction (no commit).

    Returns how many rows were added. `new_keys` says the caller knows no row can have
    these keys yet (they name an event this transaction wrote), which saves the look-up.
    The unique constraint on key is the final guard should two transactions race on one key.
    `created_at` is the business time (naive China wall time, like event.at: it follows
    --today); default now.
    """
    rows = _new_rows(session, items, new_keys, created_at)
    if rows:
        _INSERT.execute_many(session.connection(), rows)
    return len(rows)


def _new_rows(session: Session, items: list[Outgoing], new_keys: bool,
              created_at: dt.datetime | None) -> list[dict[str, Any]]:
    """The outbox rows to add for `items` (keys not yet in the outbox), after flushing the
    session's pending rows, which they may refer to."""
    fresh = _fresh(session, items, check=not new_keys)
    if not fresh:
        return []
    if session.new or session.dirty or session.deleted:
        session.flush()
    now = created_at or china_now()
    return [_values(item, now) for item in fresh.values()]


def _values(item: Outgoing, now: dt.datetime) -> dict[str, Any]:
    rendered = item.rendered
    if rendered is None and item.context is None:
        raise ValueError(f"outbox item {item.key} has neither a rendered mail nor a context")
    return {"key": item.key, "kind": item.kind, "recipient": sanitize_header(item.recipient, 320),
            "subject": sanitize_header(rendered.subject, 1000) if rendered else "",
            "text": rendered.text if rendered else "", "html": rendered.html if rendered else None,
            "status": "pending", "attempts": 0, "next_attempt_at": None, "last_error": None,
            "event_id": item.event_id, "assignment_id": item.assignment_id, "created_at": now,
            "sent_at": None, "context": None if rendered else item.context}


def enqueue_with_ids(session: Session, items: list[Outgoing], created_at: dt.datetime | None = None,
                     *, new_keys: bool = False) -> dict[str, int]:
    """Like `enqueue`, and the added rows' ids by key, for rows that refer to them.

    No ORM object: the reminder sweep adds its digests this way, then its reminder_log
    rows. On SQLite each row is its own prepared INSERT and its id the lastrowid: one
    multi-row INSERT … RETURNING of a sweep's contexts (9 MB) took SQLite three times as
    long. Elsewhere one INSERT … RETURNING for all the rows (batched by SQLAlchemy).
    """
    rows = _new_rows(session, items, new_keys, created_at)
    if not rows:
        return {}
    conn = session.connection()
    if conn.dialect.postfetch_lastrowid:
        return {row["key"]: _INSERT_ONE.insert(conn, row) for row in rows}
    return dict(conn.execute(_INSERT_RETURNING, rows).all())


_INSERT_ONE = PreparedInsert(N.insert(), _COLUMNS)
_INSERT_RETURNING = N.insert().returning(N.c.key, N.c.id)


def _fresh(session: Session, items: list[Outgoing], check: bool = True) -> dict[str, Outgoing]:
    """`items` by key, first of each key, without keys already in the outbox."""
    fresh: dict[str, Outgoing] = {}
    for item in items:
        fresh.setdefault(item.key, item)
    keys = list(fresh) if check else []
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        for (existing,) in session.execute(select(N.c.key).where(N.c.key.in_(chunk))):
            fresh.pop(existing, None)
    return fresh


def china_now() -> dt.datetime:
    """Naive China wall time: the business-time default of `created_at`."""
    return dt.datetime.now(CHINA).replace(tzinfo=None)


def rendered_row(row: Any) -> Any:
    """`row` with subject, text and html: rendered from its context if it was deferred.

    Anything with the row's attributes goes in; a row that has its text comes back as is.
    """
    if getattr(row, "subject", None) or not getattr(row, "context", None):
        return row
    r = render_stored(row.kind, row.context)
    return _Filled(row, sanitize_header(r.subject, 1000), r.text, r.html)


class _Filled:
    """A claimed or listed row with its freshly rendered text; other attributes from the row."""

    def __init__(self, row: Any, subject: str, text: str, html: str | None):
        self._row, self.subject, self.text, self.html = row, subject, text, html

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


# --- messages ---------------------------------------------------------------------

def build_message(row: Any, config: MailConfig, now: dt.datetime | None = None,
                  instance: str = "0") -> EmailMessage:
    """The MIME message of an outbox row: UTF-8 text + HTML alternative, RFC 2047 subject."""
    row = rendered_row(row)
    msg = EmailMessage(policy=MESSAGE_POLICY)
    msg["Subject"] = sanitize_header(row.subject)
    msg["From"] = sanitize_header(config.sender, 320)
    msg["To"] = sanitize_header(row.recipient, 320)
    msg["Date"] = format_datetime((now or utcnow()).replace(tzinfo=dt.timezone.utc))
    msg["Message-ID"] = message_id(row.key, instance, config.id_domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    msg["X-Duban-Kind"] = sanitize_header(row.kind, 40)
    # base64 named outright: the content manager would otherwise try both encodings.
    msg.set_content(row.text, charset="utf-8", cte="base64")
    if row.html:
        msg.add_alternative(row.html, subtype="html", charset="utf-8", cte="base64")
    return msg


# --- the store: synchronous database work, run in threads ----------------------------

# Outcome writes, built once (executemany with one parameter set per row).
_RECORD = (update(N).where(N.c.id == bindparam("rid"), N.c.status == "sending")
           .values(status=bindparam("b_status"), attempts=bindparam("b_attempts"),
                   sent_at=bindparam("b_sent_at"), next_attempt_at=bindparam("b_next"),
                   last_error=bindparam("b_error")))
# A deferred row's text, stored when it was sent (or failed): what went out stays on record.
_FILL = (update(N).where(N.c.id == bindparam("rid"))
         .values(subject=bindparam("b_subject"), text=bindparam("b_text"), html=bindparam("b_html")))
_RELEASE = (update(N).where(N.c.id == bindparam("rid"), N.c.status == "sending")
            .values(status="pending", next_attempt_at=None))


@dataclass
class _Result:
    row: Any
    outcome: str  # sent | failed | retry | release
    reply: str = ""
    filled: Any = None  # the row with the text rendered for this send, if it was deferred


class _Store:
    def __init__(self, engine: Engine, config: MailConfig, now: Callable[[], dt.datetime],
                 lease: float):
        self.engine = engine
        self.config = config
        self.now = lambda: _naive_utc(now())
        self.lease = dt.timedelta(seconds=lease)

    def release_stale(self) -> int:
        with self.engine.begin() as conn:
            return conn.execute(update(N).where(N.c.status == "sending",
                                                N.c.next_attempt_at < self.now())
                                 .values(status="pending", next_attempt_at=None)).rowcount

    def count(self, due_only: bool) -> int:
        query = select(func.count()).select_from(N).where(N.c.status == "pending")
        if due_only:
            query = query.where(self._due())
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one()

    def _due(self):
        return or_(N.c.next_attempt_at.is_(None), N.c.next_attempt_at <= self.now())

    def claim(self, limit: int) -> list[Any]:
        """Move up to `limit` due rows to 'sending' and return them, oldest first."""
        stmt = (update(N).where(N.c.id.in_(self._claimable(limit)), N.c.status == "pending")
                .values(status="sending", next_attempt_at=self.now() + self.lease)
                .returning(N.c.id, N.c.key, N.c.kind, N.c.recipient, N.c.subject, N.c.text,
                           N.c.html, N.c.attempts, N.c.context))
        with self.engine.begin() as conn:
            rows = conn.execute(stmt).all()
        return sorted(rows, key=lambda r: r.id)

    def _claimable(self, limit: int) -> Any:
        """The ids to claim: the oldest `limit` due rows no other dispatcher is claiming.

        On PostgreSQL the pick is a MATERIALIZED CTE: as a plain IN (sub-select) the
        planner may pick a nested loop that re-runs the LIMIT … SKIP LOCKED sub-select
        for every outer row, each run locking further rows, so one claim took the
        whole outbox (seen with two dispatchers: one sent everything, the other
        nothing). A CTE runs once. Before PostgreSQL 12 every CTE is materialized.
        """
        ids = select(N.c.id).where(N.c.status == "pending", self._due()).order_by(N.c.id).limit(limit)
        if self.engine.dialect.name != "postgresql":
            return ids.scalar_subquery()  # SQLite: one writer at a time, evaluated once
        pick = ids.with_for_update(skip_locked=True).cte("claimable")
        if (self.engine.dialect.server_version_info or (0,)) >= (12,):
            pick = pick.prefix_with("MATERIALIZED")
        return select(pick.c.id).scalar_subquery()

    def record(self, results: list[_Result]) -> None:
        """Write outcomes in one transaction: one executemany per statement shape."""
        now = self.now()
        done = [self._values(r, now) for r in results if r.outcome != "release"]
        released = [{"rid": r.row.id} for r in results if r.outcome == "release"]
        filled = [{"rid": r.row.id, "b_subject": r.filled.subject, "b_text": r.filled.text,
                   "b_html": r.filled.html} for r in results
                  if r.filled is not None and r.outcome in ("sent", "failed", "retry")]
        with self.engine.begin() as conn:
            if filled:
                conn.execute(_FILL, filled)
            if done:
                conn.execute(_RECORD, done)
            if released:
                conn.execute(_RELEASE, released)

    def _values(self, r: _Result, now: dt.datetime) -> dict[str, Any]:
        attempts = r.row.attempts + 1
        values = {"rid": r.row.id, "b_attempts": attempts, "b_sent_at": None,
                  "b_next": None, "b_error": r.reply[:ERROR_LIMIT] or None}
        if r.outcome == "sent":
            return values | {"b_status": "sent", "b_sent_at": now, "b_error": None}
        if r.outcome == "retry" and attempts < self.config.max_attempts:
            return values | {"b_status": "pending", "b_next": now + self.backoff(attempts)}
        if r.outcome == "retry":
            values["b_error"] = f"已尝试 {attempts} 次仍未发出：{r.reply}"[:ERROR_LIMIT]
        return values | {"b_status": "failed"}

    def backoff(self, attempts: int) -> dt.timedelta:
        seconds = self.config.backoff_seconds * 2 ** min(attempts - 1, 30)
        return min(dt.timedelta(seconds=seconds), MAX_BACKOFF)


# --- dispatch ---------------------------------------------------------------------

def dispatch(engine: Engine, mail_config: MailConfig, *,
             now: Callable[[], dt.datetime] = utcnow,
             progress: Callable[[int, int], None] | None = None,
             batch: int = 50, lease_seconds: float = DEFAULT_LEASE,
             backend: Backend | None = None) -> DispatchReport:
    """Send every due pending row; return what happened.

    `progress(done, total)` is called after each committed batch of results.
    """
    store = _Store(engine, mail_config, now, lease_seconds)
    store.release_stale()
    total = store.count(due_only=True)
    report = DispatchReport()
    if total:
        run = _Run(store, backend or make_backend(mail_config), mail_config, report,
                   progress, total, batch, instance_id(engine))
        asyncio.run(run.main())
    report.pending_left = store.count(due_only=False)
    return report


class _Feed:
    """Claimed rows handed to workers.

    The next batch is claimed in the background while the current one still has
    rows, so workers never all wait on the claim's commit. Rows claimed after the
    feed was closed are handed to `release`.
    """

    def __init__(self, store: _Store, batch: int, low: int,
                 release: Callable[[list[Any]], None]):
        self.store, self.batch, self.low, self.release = store, batch, low, release
        self.buffer: deque[Any] = deque()
        self.claiming: asyncio.Task | None = None
        self.exhausted = False
        self.closed = False

    async def next(self) -> Any | None:
        while not self.closed:
            self._prefetch()
            if self.buffer:
                return self.buffer.popleft()
            if self.claiming is None:
                return None  # exhausted
            await self.claiming
        return None

    def _prefetch(self) -> None:
        if (self.claiming is None and not self.exhausted and not self.closed
                and len(self.buffer) <= self.low):
            self.claiming = asyncio.create_task(self._claim())

    async def _claim(self) -> None:
        try:
            rows = await asyncio.to_thread(self.store.claim, self.batch)
        finally:
            self.claiming = None
        self.exhausted = len(rows) < self.batch
        if self.closed:
            self.release(rows)
        else:
            self.buffer.extend(rows)

    async def close(self) -> None:
        """Stop handing out rows; release the claimed ones nobody took."""
        self.closed = True
        left, self.buffer = list(self.buffer), deque()
        self.release(left)
        if self.claiming is not None:
            await asyncio.gather(self.claiming, return_exceptions=True)


class _Run:
    def __init__(self, store: _Store, backend: Backend, config: MailConfig,
                 report: DispatchReport, progress: Callable[[int, int], None] | None,
                 total: int, batch: int, instance: str):
        self.store, self.backend, self.config, self.report = store, backend, config, report
        self.instance = instance
        self.progress, self.total = progress, total
        self.results: asyncio.Queue[_Result | None] = asyncio.Queue()
        self.feed = _Feed(store, batch, low=2 * backend.concurrency, release=self._release)
        self.alive = backend.concurrency
        self.done = 0

    async def main(self) -> None:
        writer = asyncio.create_task(self._writer())
        try:
            await asyncio.gather(*(self._worker() for _ in range(self.backend.concurrency)))
        finally:
            await self.feed.close()  # releases anything claimed but not taken
            await self.results.put(None)
            await writer

    def _release(self, rows: list[Any]) -> None:
        for row in rows:
            self.results.put_nowait(_Result(row, "release"))

    async def _worker(self) -> None:
        conn = self.backend.connection()
        try:
            while self.report.fatal is None:
                row = await self.feed.next()
                if row is None:
                    break
                result, stop = await self._send(conn, row)
                await self.results.put(result)
                if stop:
                    break
        finally:
            await conn.close()
            self.alive -= 1
            if self.alive == 0 or self.report.fatal is not None:
                await self.feed.close()

    async def _send(self, conn, row) -> tuple[_Result, bool]:
        """Send one row; the flag says this worker should stop (no session possible)."""
        filled = None
        try:
            full = rendered_row(row)
            filled = full if full is not row else None
            message = build_message(full, self.config, instance=self.instance)
        except Exception as exc:  # a template that fails, or an address the email package rejects
            return _Result(row, "failed", f"邮件无法生成：{exc}", filled), False
        try:
            await conn.send(message, key_hash(row.key))
            return _Result(row, "sent", filled=filled), False
        except SendError as exc:
            self._note(exc.reply)
            if exc.fatal:
                self.report.fatal = exc.reply
                return _Result(row, "release"), True
            outcome = "failed" if exc.permanent else "retry"
            return _Result(row, outcome, exc.reply, filled), exc.unreachable

    def _note(self, reply: str) -> None:
        if reply not in self.report.errors and len(self.report.errors) < 5:
            self.report.errors.append(reply)

    async def _writer(self) -> None:
        finished = False
        while not finished:
            batch = [await self.results.get()]
            while not self.results.empty():
                batch.append(self.results.get_nowait())
            finished = batch[-1] is None
            items = [r for r in batch if r is not None]
            if items:
                await asyncio.to_thread(self.store.record, items)
                self._count(items)

    def _count(self, items: list[_Result]) -> None:
        for r in items:
            if r.outcome == "sent":
                self.report.sent += 1
            elif r.outcome == "failed" or (r.outcome == "retry"
                                           and r.row.attempts + 1 >= self.config.max_attempts):
                self.report.failed += 1
            elif r.outcome == "retry":
                self.report.retrying += 1
        self.done += sum(1 for r in items if r.outcome != "release")
        if self.progress:
            self.progress(self.done, self.total)


# --- maintenance used by the CLI -----------------------------------------------------

def retry(engine: Engine, ids: list[int] | None = None, *, failed: bool = False) -> int:
    """Put failed (or pending) rows back in the queue, due now, with a fresh attempt count."""
    query = update(N).values(status="pending", attempts=0, next_attempt_at=None)
    if ids:
        query = query.where(N.c.id.in_(ids), N.c.status.in_(("failed", "pending")))
    elif failed:
        query = query.where(N.c.status == "failed")
    else:
        return 0
    with engine.begin() as conn:
        return conn.execute(query).rowcount


def list_rows(session: Session, status: str | None = None, limit: int = 100) -> list[Any]:
    """The newest rows, each with its subject (rendered now if the row was deferred)."""
    query = select(N.c.id, N.c.key, N.c.kind, N.c.recipient, N.c.subject, N.c.text, N.c.html,
                   N.c.context, N.c.status, N.c.attempts, N.c.next_attempt_at, N.c.last_error,
                   N.c.created_at, N.c.sent_at).order_by(N.c.id.desc()).limit(limit)
    if status:
        query = query.where(N.c.status == status)
    return [_listed(r) for r in session.execute(query).all()]


def _listed(row: Any) -> Any:
    try:
        return rendered_row(row)
    except Exception as exc:  # a template removed or broken since: the list still shows the row
        return _Filled(row, sanitize_header(f"（邮件无法生成：{exc}）", 1000), "", None)


def counts(session: Session) -> dict[str, int]:
    """Every status with its count, zero included (stable keys for `--json`)."""
    rows = dict(session.execute(select(N.c.status, func.count()).group_by(N.c.status)).all())
    return {status: rows.get(status, 0) for status in STATUSES}


def _naive_utc(value: dt.datetime) -> dt.datetime:
    """Accept aware or naive-UTC clocks; store naive UTC."""
    if value.tzinfo is None:
        return value
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
