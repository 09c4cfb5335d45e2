"""CLI: `duban outbox …`, `duban mail test`, `duban remind …`.

Thin: parse, call notifications/ and workflow/, print. Database and mail
modules are imported inside the commands so `duban --help` stays fast.
"""
from __future__ import annotations

import contextlib
import time
from types import SimpleNamespace
from typing import Any, Iterator, Optional

import typer

from commands.common import app_of, ex, print_json
from workflow.errors import BadInput, Refused



_examples = ex  # the one epilog helper (commands/common.py)


outbox_app = typer.Typer(
    help="发件箱：查看、发送和重试通知邮件。", no_args_is_help=True,
    epilog=_examples("duban outbox list --status failed", "duban outbox send",
                     "duban outbox retry --failed"))
mail_app = typer.Typer(
    help="邮件设置：发送测试邮件检查配置。", no_args_is_help=True,
    epilog=_examples("duban mail test zhangsan@example.gov.cn"))
remind_app = typer.Typer(
    help="催办提醒：按法定工作日（含调休）生成并发送催办邮件。", no_args_is_help=True,
    epilog=_examples("duban remind run --dry-run", "duban --today 2021-09-24 remind run",
                     "duban remind daemon --interval 600"))

JOBS_REFUSAL = "无权运行发件箱和催办：只有审核人或管理员可以；定时任务请使用服务账号的 DUBAN_TOKEN。"


def _require_office(app: Any) -> None:
    """The outbox and reminders touch every department's mail: office roles only."""
    import states

    with app.session() as session:
        app.require(session, states.runs_jobs, JOBS_REFUSAL)


STATUS_LABELS = {"pending": "待发送", "sending": "发送中", "sent": "已发送", "failed": "失败"}
from workflow.reminders import KIND_LABELS  # noqa: E402


@mail_app.callback()
def _mail_group() -> None:
    """邮件设置：发送测试邮件检查配置。"""


@remind_app.callback()
def _remind_group() -> None:
    """催办提醒：按法定工作日（含调休）生成并发送催办邮件。"""


@outbox_app.callback()
def _outbox_group() -> None:
    """发件箱：查看、发送和重试通知邮件。"""


# --- outbox -----------------------------------------------------------------------

@outbox_app.command("list", epilog=_examples(
        "duban outbox list",
        "duban outbox list --status failed",
        "duban outbox list --status pending --json"))
def outbox_list(
    ctx: typer.Context,
    status: Optional[str] = typer.Option(None, "--status", help="只看某一状态：pending、sending、sent 或 failed。"),
    limit: int = typer.Option(50, "--limit", min=1, help="最多显示多少条（最新的在前）。"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON（字段稳定，供脚本使用）。"),
) -> None:
    """列出发件箱中的邮件，最新的在前。
    """
    from notifications.outbox import counts, list_rows

    app = app_of(ctx)
    _require_office(app)
    if status and status not in STATUS_LABELS:
        raise BadInput(f"状态“{status}”无效：应为 pending、sending、sent 或 failed。")
    with app.session() as session:
        rows = list_rows(session, status, limit)
        totals = counts(session)
    if as_json:
        print_json(app, {"counts": totals, "items": [_row_dict(r) for r in rows]})
        return
    out = app.out
    if not rows:
        print("发件箱中没有符合条件的邮件。", file=out)
    for r in rows:
        line = f"{r.id:>6}  {STATUS_LABELS.get(r.status, r.status)}  已尝试{r.attempts}次  {r.recipient}  {r.subject}"
        print(line, file=out)
        if r.last_error and r.status != "sent":
            print(f"        原因：{r.last_error}", file=out)
    summary = "、".join(f"{STATUS_LABELS.get(k, k)} {v}" for k, v in totals.items() if v)
    print(f"合计：{summary or '0'}", file=out)


def _row_dict(r: Any) -> dict[str, Any]:
    from workflow.clock import china_iso

    return {"id": r.id, "key": r.key, "kind": r.kind, "recipient": r.recipient,
            "subject": r.subject, "status": r.status, "attempts": r.attempts,
            "next_attempt_at": china_iso(r.next_attempt_at, utc=True), "last_error": r.last_error,
            "created_at": china_iso(r.created_at), "sent_at": china_iso(r.sent_at, utc=True)}


@outbox_app.command("send", epilog=_examples(
        "duban outbox send",
        "DUBAN_MAIL_BACKEND=console duban outbox send",
        "duban outbox send --json"))
def outbox_send(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="输出 JSON 结果。"),
) -> None:
    """发送发件箱中所有到期的待发邮件（失败的按退避时间稍后重试）。

    在终端上显示进度条，通过管道或 cron 运行时保持安静。
    """
    app = app_of(ctx)
    _require_office(app)
    report = _dispatch(app, quiet=as_json)
    if as_json:
        print_json(app, _report_dict(report))
    else:
        _print_dispatch(app, report)
    _dispatch_exit(app, report)


def _dispatch(app: Any, quiet: bool = False) -> Any:
    from notifications.outbox import dispatch

    config = app.config()
    engine = app.engine()
    with _progress(app, quiet) as progress:
        return dispatch(engine, config.mail, progress=progress)


@contextlib.contextmanager
def _progress(app: Any, quiet: bool) -> Iterator[Any]:
    """A rich progress bar on a terminal; None (silence) when piped."""
    if quiet or not _is_tty(app.err):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("发送邮件"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(file=app.err), transient=True) as bar:
        task = bar.add_task("send", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _is_tty(stream: Any) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _report_dict(report: Any) -> dict[str, Any]:
    return {"sent": report.sent, "failed": report.failed, "retrying": report.retrying,
            "pending_left": report.pending_left, "errors": report.errors, "fatal": report.fatal}


def _print_dispatch(app: Any, report: Any) -> None:
    print(f"已发送 {report.sent} 封，失败 {report.failed} 封，稍后重试 {report.retrying} 封；"
          f"发件箱中仍待发送 {report.pending_left} 封。", file=app.out)


def _dispatch_exit(app: Any, report: Any) -> None:
    """Exit 1 when mails remain failed or pending after the attempt, so cron and systemd notice."""
    problem = report.problem()
    if problem:
        raise Refused(problem)


@outbox_app.command("retry", epilog=_examples(
        "duban outbox retry 12",
        "duban outbox retry 12 15 18",
        "duban outbox retry --failed"))
def outbox_retry(
    ctx: typer.Context,
    ids: list[int] = typer.Argument(None, help="要重发的邮件 ID（见 duban outbox list）。"),
    failed: bool = typer.Option(False, "--failed", help="重发所有发送失败的邮件。"),
) -> None:
    """把失败的邮件放回发件箱重新发送（尝试次数清零，立即到期）。
    """
    from notifications.outbox import retry

    app = app_of(ctx)
    _require_office(app)
    if not ids and not failed:
        raise BadInput("请指定邮件 ID，或用 --failed 重发全部失败邮件；例如 duban outbox retry --failed。")
    if ids and failed:
        raise BadInput("邮件 ID 与 --failed 只能二选一。")
    n = retry(app.engine(), list(ids or []), failed=failed)
    if n == 0:
        raise Refused("没有可重发的邮件：只有失败或待发送的邮件可以重发；可用 duban outbox list --status failed 查看。")
    print(f"已将 {n} 封邮件放回发件箱；运行 duban outbox send 发送。", file=app.out)


# --- mail test --------------------------------------------------------------------

@mail_app.command("test", epilog=_examples(
        "duban mail test zhangsan@example.gov.cn",
        "DUBAN_MAIL_BACKEND=smtp DUBAN_SMTP_HOST=smtp.example.gov.cn duban mail test me@example.gov.cn"))
def mail_test(
    ctx: typer.Context,
    address: str = typer.Argument(..., help="收件地址。"),
) -> None:
    """立即发送一封测试邮件（不经过发件箱），并显示邮件服务器的答复。

    使用 duban.toml 的 [mail] 设置和 DUBAN_SMTP_* 环境变量。
    """
    import asyncio
    import datetime as dt
    from email.utils import parseaddr

    from notifications.backends import SendError, make_backend
    from notifications.outbox import build_message, format_recipient, key_hash
    from notifications.render import render

    app = app_of(ctx)
    name, email = parseaddr(address)
    if "@" not in email or any(c.isspace() for c in email):
        raise BadInput(f"收件地址“{address}”无效：应为邮件地址，如 zhangsan@example.gov.cn。")
    config = app.config()
    now = dt.datetime.now(dt.timezone.utc)
    rendered = render("test", {"sender": config.mail.sender, "sent_at": now.astimezone().strftime("%Y-%m-%d %H:%M:%S")},
                      config.templates_dir)
    key = f"test:{email}:{now.isoformat()}"
    row = SimpleNamespace(key=key, kind="test", recipient=format_recipient(name, email),
                   subject=rendered.subject, text=rendered.text, html=rendered.html)

    async def send() -> str:
        conn = make_backend(config.mail).connection()
        try:
            return await conn.send(build_message(row, config.mail, now), key_hash(key))
        finally:
            await conn.close()

    try:
        reply = asyncio.run(send())
    except SendError as exc:
        raise Refused(f"测试邮件未能发出：{exc.reply}") from None
    print(f"测试邮件已发出（{config.mail.backend}）：{reply}", file=app.out)


# --- remind -----------------------------------------------------------------------

@remind_app.command("run", epilog=_examples(
        "duban remind run",
        "duban remind run --dry-run",
        "duban --today 2021-09-24 remind run --json",
        "duban remind run --no-send && duban outbox send"))
def remind_run(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="只计算今天应发的催办，不写入发件箱、不发送。"),
    send: bool = typer.Option(True, "--send/--no-send", help="生成后立即发送发件箱（默认发送）。"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON（每位收件人一封汇总邮件及其事项）。"),
) -> None:
    """生成今天的催办邮件（每位收件人一封汇总），写入发件箱并发送。

    同一天重复运行不会重复发送：每位收件人每项事项每种提醒每天只发一次；
    当天后来新出现的事项（如新逾期）会另发一封只含新事项的汇总。
    可放心由 cron 或 systemd 定时器调用；另一次催办正在进行时会等待它结束。
    非工作日（含法定节假日）不发送。用 --today 模拟某一天。
    """
    app = app_of(ctx)
    _require_office(app)
    report = _remind_once(app, dry_run=dry_run)
    dispatched = None
    if send and not dry_run and report.workday:
        dispatched = _dispatch(app, quiet=as_json)
    if as_json:
        data = report.as_dict()
        data["dry_run"] = dry_run
        data["dispatch"] = _report_dict(dispatched) if dispatched else None
        print_json(app, data)
    else:
        _print_remind(app, report, dry_run)
        if dispatched:
            _print_dispatch(app, dispatched)
    if dispatched:
        _dispatch_exit(app, dispatched)


def _remind_once(app: Any, dry_run: bool) -> Any:
    from workflow.reminders import service

    report = service.run(app, dry_run=dry_run)
    for line in report.warnings:  # the calendar's fallback notice, once per process and year
        print(f"警告：{line}", file=app.err)
    return report


def _print_remind(app: Any, report: Any, dry_run: bool) -> None:
    out, day = app.out, report.today.isoformat()
    if not report.workday:
        print(f"{day} 不是工作日，不发送催办提醒。", file=out)
        return
    if not report.digests and not report.already_items:
        print(f"{day}：今天没有需要催办的事项。", file=out)
        return
    verb = "将生成" if dry_run else "已生成"
    line = f"{day}：{verb}催办邮件 {report.enqueued} 封"
    if report.already_items:
        line += f"（今天已提醒过的 {report.already_items} 项不再重复）"
    if report.items:
        line += "；涉及事项：" + "、".join(f"{KIND_LABELS.get(k, k)} {n} 项"
                                        for k, n in report.items.items())
    print(line + "。", file=out)
    if dry_run:
        for d in report.digests:
            print(f"  {d.name} <{d.email}>：{len(d.items)} 项", file=out)


@remind_app.command("daemon", epilog=_examples(
        "duban remind daemon",
        "duban remind daemon --interval 600",
        "duban --db postgresql://duban@db/duban remind daemon --once"))
def remind_daemon(
    ctx: typer.Context,
    interval: int = typer.Option(300, "--interval", min=10, help="两次检查之间的秒数。"),
    once: bool = typer.Option(False, "--once", help="只运行一轮就退出（用于测试或 cron）。"),
) -> None:
    """常驻运行：定时生成当天催办并发送发件箱。

    以数据库为锁：PostgreSQL 用 advisory lock,SQLite 用数据库旁的锁文件；
    第二个守护进程会立即退出；与 cron 的 remind run 同时运行时，后者等待本轮结束，
    只发送尚未提醒过的事项。按 Ctrl-C 停止。
    """
    app = app_of(ctx)
    _require_office(app)
    with daemon_lock(app.engine()):
        while True:
            try:
                report = _remind_once(app, dry_run=False)
                _print_remind(app, report, dry_run=False)
                dispatched = _dispatch(app, quiet=True)
                _print_dispatch(app, dispatched)
                if dispatched.problem():  # the daemon goes on; the log says what is stuck
                    print(f"警告：{dispatched.problem()}", file=app.err)
            except Exception as exc:  # keep the daemon alive; say why this round failed
                if once:
                    raise
                print(f"本轮催办失败：{exc}", file=app.err)
            if once:
                return
            try:
                time.sleep(interval)
            except KeyboardInterrupt:
                return


def daemon_lock(engine: Any) -> Any:
    """The database-wide daemon lock (workflow/remind_lock.py); kept here for callers."""
    from workflow.reminders.lock import daemon_lock as lock

    return lock(engine)
