"""duban — the command line. Parses options, calls workflow/, prints. Nothing else.

Errors raised by the workflow (DubanError) are printed by main() as one sentence on
stderr with their exit code: 1 refused, 2 bad usage or input.
"""
from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from workflow.clock import Clock, parse_date
from commands.common import App, app_of, ex, print_json
from workflow.errors import DubanError, database_problem, template_problem

__version__ = "0.1.0"


examples = ex  # the one epilog helper (commands/common.py)


app = typer.Typer(
    help="督办：政务公开工作要点分工方案的任务下发、签收、报送、审核、延期与催办。",
    epilog=examples("duban demo", "duban task list --mine", "duban --db postgresql://… db init"),
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    rich_markup_mode=None, context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"duban {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[Optional[str], typer.Option("--db", help="数据库：SQLite 文件路径或 postgresql://… URL（默认 ./duban.db，或环境变量 DUBAN_DB）")] = None,
    as_user: Annotated[Optional[str], typer.Option("--as", help="操作人姓名，须与登录令牌的用户一致（或环境变量 DUBAN_USER）")] = None,
    today: Annotated[Optional[str], typer.Option("--today", help="把“今天”固定为 YYYY-MM-DD，用于演示和模拟（或 DUBAN_TODAY）")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", help="配置文件 duban.toml 的路径（或 DUBAN_CONFIG）")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="出错时显示完整的调用栈")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="显示版本")] = False,
) -> None:
    """督办：政务公开工作要点分工方案的工作流引擎。"""
    from workflow.access.credentials import cli_token

    fixed = today or os.environ.get("DUBAN_TODAY")
    ctx.obj = App.from_env(
        db_url=db, actor_name=as_user, config_path=config,
        clock=Clock(parse_date(fixed, "--today") if fixed else None),
        interactive=sys.stdout.isatty(),
        authenticate=True,  # on the command line only the token says who is acting
    )
    ctx.obj.token = cli_token(ctx.obj.db_url, warn=sys.stderr)
    ctx.call_on_close(ctx.obj.close)  # the database is released when the command ends (see main)
    if ctx.obj.config_path is not None and not ctx.resilient_parsing:
        ctx.obj.config()  # a file named explicitly is checked even by commands that never read it


def _register() -> None:
    """Mount the command groups: one module of commands/ per group, so this file stays thin."""
    from commands import (attachments, audit, auth, dept, db, delay, delegate, demo, ledger, mail, plan,
                          report, review, states, task, user)
    from commands import fast_params, help_zh

    fast_params.install()  # plain option values without pydantic: ~100 ms off every command
    help_zh.install()  # help pages in Chinese (click's Usage/Options/required translated)
    app.command("states", epilog=examples("duban states", "duban states --mermaid > states.mmd",
                                          "duban states --json"))(states.states_show)
    for name, module in (("db", db), ("plan", plan), ("dept", dept), ("user", user), ("task", task),
                         ("review", review), ("delay", delay), ("audit", audit), ("delegate", delegate),
                         ("attachments", attachments)):
        app.add_typer(getattr(module, f"{name}_app"), name=name)
    app.command("demo", epilog=examples("duban demo", "duban demo --dir /tmp/duban-demo"))(demo.demo)
    auth.register(app, user.user_app)
    app.command("ledger", epilog=examples(*ledger.EXAMPLES))(ledger.ledger)
    app.add_typer(report.report_app, name="report")
    app.add_typer(report.calendar_app, name="calendar")
    app.add_typer(mail.outbox_app, name="outbox")
    app.add_typer(mail.remind_app, name="remind")
    app.add_typer(mail.mail_app, name="mail")
    from commands import serve

    app.command("serve", epilog=examples("duban serve", "duban --db postgresql://duban@db/duban serve --host 0.0.0.0 --workers 4 --root-path /duban"))(serve.serve)


_register()


def main() -> None:
    """Entry point: run the app (_run), then leave without the exit's garbage collection."""
    try:
        _run()
    finally:
        # The process exits next. Its final garbage collections would walk the ~46,000
        # objects typer and SQLAlchemy built (about 100 ms of `task list`'s 500) to free
        # nothing that matters: App.close has closed the database, `with` every file.
        gc.freeze()


def _run() -> None:
    """Run the app, turning workflow errors into one line and an exit code."""
    debug = "--debug" in sys.argv or os.environ.get("DUBAN_DEBUG") == "1"
    from typer._click import exceptions as click_errors  # typer's own copy of click

    from commands import help_zh

    try:
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except click_errors.NoArgsIsHelpError as exc:  # a bare group: its help, as click would
        exc.show()
        sys.exit(exc.exit_code)
    except click_errors.UsageError as exc:
        print(f"错误：{help_zh.usage_sentence(exc)}", file=sys.stderr)
        sys.exit(2)
    except typer.Abort:
        print("已中断，未完成的操作未保存。", file=sys.stderr)
        sys.exit(130)
    except DubanError as exc:
        if debug:
            raise
        print(f"错误：{exc.message}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("已中断，未完成的操作未保存。", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # an internal error: one line, the details with --debug
        if debug:
            raise
        problem = database_problem(exc) or template_problem(exc)
        if problem is not None:  # the disk or the database failed, or a template left its sandbox
            print(f"错误：{problem.message}", file=sys.stderr)
            sys.exit(problem.exit_code)
        print(f"内部错误（{type(exc).__name__}）：{_safe(exc)}。请加 --debug 重试并报告此问题。", file=sys.stderr)
        sys.exit(1)


def _safe(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else ""


__all__ = ["app", "main", "app_of", "print_json"]

if __name__ == "__main__":
    main()
