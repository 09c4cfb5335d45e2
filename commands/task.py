"""`duban task`: list, show, history, and the moves of a department (start, submit) and of
the office (cancel, reopen, escalate). Reads and moves are workflow.lifecycle.service's."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

import states
from commands.common import FOR, ID, JSON, App, app_of, ex, group, print_json
from commands.output import LIGHTS, clip, print_table
from workflow.clock import shown_time


def run_list(app: App, *, dept: str | None, state: str | None, overdue: bool, mine: bool,
             plan: str | None) -> list[dict[str, Any]]:
    from workflow.lifecycle.service import TaskQuery, list_tasks

    return list_tasks(app, TaskQuery(dept=dept, state=state, overdue=overdue, mine=mine, plan=plan)).items


def print_view(app: App, v: dict[str, Any]) -> None:
    out = app.out
    print(f"事项 {v['id']}  {v['plan_title']} 第 {v['task']} 项", file=out)
    print(f"处室：{v['department']}（{v['role_label']}）  期次：{v['period'] or '—'}", file=out)
    print(f"状态：{v['state_label']}  完成时限：{v['due_date']}  {LIGHTS[v['light']]}  版本：{v['version']}", file=out)
    print(f"具体要求：{v['requirement']}", file=out)
    allowed = "、".join(f"{states.trigger_label(t)}({t})" for t in v["valid_triggers"]) or "无（已结束）"
    print(f"可执行：{allowed}", file=out)
    for a in v["attachments"]:
        print(f"附件：{a['name']}  {a['size']} 字节  sha256 {a['sha256']}", file=out)


def run_history(app: App, assignment_id: int, as_json: bool) -> None:
    from workflow.lifecycle.service import history

    rows = history(app, assignment_id)
    if as_json:
        print_json(app, rows)
        return
    print_table(app.out, ["时间", "操作", "从", "到", "操作人", "说明"],
                [[shown_time(r["at"]), r["trigger_label"], states.state_label(r["from"]) if r["from"] else "—",
                  states.state_label(r["to"]),
                  r["actor"] + (f"（代{r['on_behalf_of']}）" if r["on_behalf_of"] else ""),
                  clip(_detail(r), 50)] for r in rows])


def _detail(r: dict[str, Any]) -> str:
    data = r["data"] or {}
    if r["trigger"] in ("request_delay", "approve_delay", "reject_delay"):
        extra = f"{data.get('old_due')} → {data.get('requested_due')}"
        return f"{r['comment'] or ''}({extra})" if r["comment"] else extra
    return r["comment"] or ""


def run_review_list(app: App) -> list[dict[str, Any]]:
    from workflow.lifecycle.service import review_queue

    return review_queue(app)


# ---------------------------------------------------------------- the typer commands
task_app = group("task", "事项：查看、签收、报送、撤销、重新办理、督办升级。",
                  "duban task list --mine", "duban task start 12",
                  "duban task submit 12 --summary 已完成预决算公开")


def _print_assignments(app, rows: list[dict]) -> None:
    print_table(app.out, ["编号", "任务", "处室", "角色", "期次", "状态", "时限", "提示"],
                [[r["id"], r["task"], clip(r["department"], 18), r["role_label"], r["period"] or "—",
                  r["state_label"], r["due_date"], LIGHTS[r["light"]]] for r in rows])
    print(f"共 {len(rows)} 项。", file=app.out)


@task_app.command("list", epilog=ex("duban task list --mine", "duban task list --dept 装财处 --state in_progress",
                                    "duban task list --overdue --json"))
def task_list(ctx: typer.Context,
              dept: Annotated[Optional[str], typer.Option("--dept", help="只看某处室")] = None,
              state: Annotated[Optional[str], typer.Option("--state", help="只看某状态，如 in_progress")] = None,
              overdue: Annotated[bool, typer.Option("--overdue", help="只看已逾期")] = False,
              mine: Annotated[bool, typer.Option("--mine", help="只看操作人所在处室")] = False,
              plan: Annotated[Optional[str], typer.Option("--plan", help="只看某计划")] = None,
              as_json: JSON = False) -> None:
    """列出事项，最紧急的在前（逾期、临期、正常）。"""
    rows = run_list(app_of(ctx), dept=dept, state=state, overdue=overdue, mine=mine, plan=plan)
    app = app_of(ctx)
    if as_json:
        print_json(app, rows)
    else:
        _print_assignments(app, rows)


@task_app.command("show", epilog=ex("duban task show 12", "duban task show 12 --json"))
def task_show(ctx: typer.Context, assignment_id: ID, as_json: JSON = False) -> None:
    """显示一个事项的详情与可执行的操作。"""
    from commands import lifecycle
    app = app_of(ctx)
    view = lifecycle.view(app, assignment_id)
    if as_json:
        print_json(app, view)
    else:
        print_view(app, view)


def _register_attachment() -> None:
    from commands.attachments import task_attachment

    task_app.command("attachment", epilog=ex("duban task attachment 12", "duban task attachment 12 --name 公开截图.png --out /tmp/截图.png",
                                             "duban task attachment 12 --out - > 报告.pdf"))(task_attachment)


@task_app.command("history", epilog=ex("duban task history 12", "duban task history 12 --json"))
def task_history(ctx: typer.Context, assignment_id: ID, as_json: JSON = False) -> None:
    """显示一个事项的全部办理记录。"""
    run_history(app_of(ctx), assignment_id, as_json)


@task_app.command("start", epilog=ex("duban task start 12"))
def task_start(ctx: typer.Context, assignment_id: ID, for_user: FOR = None, as_json: JSON = False) -> None:
    """签收事项，开始办理。"""
    from commands import lifecycle

    lifecycle.transition(app_of(ctx), assignment_id, "start", on_behalf=for_user, as_json=as_json)


@task_app.command("submit", epilog=ex("duban task submit 12 --summary 已在门户网站公开2021年部门预算",
                                     "duban task submit 12 --summary 见附件 --attach 公开截图.png",
                                     "duban task submit 12 --summary-file 办理情况.txt",
                                     "cat 办理情况.txt | duban task submit 12 --summary -"))
def task_submit(ctx: typer.Context, assignment_id: ID,
                summary: Annotated[Optional[str], typer.Option("--summary", help="办理情况（必填；写 - 则从标准输入读取）")] = None,
                summary_file: Annotated[Optional[Path], typer.Option("--summary-file", help="从文件读取办理情况（UTF-8 文本）")] = None,
                attach: Annotated[Optional[list[Path]], typer.Option("--attach", help="附件文件，可多次使用")] = None,
                for_user: FOR = None, as_json: JSON = False) -> None:
    """报送办理结果，等待政务公开办审核。"""
    from commands import lifecycle
    from workflow.lifecycle.engine import Fields

    text = summary_text(summary, summary_file)
    lifecycle.transition(app_of(ctx), assignment_id, "submit", Fields(summary=text),
                         on_behalf=for_user, attach=attach, as_json=as_json)


def summary_text(summary: str | None, summary_file: Path | None, stdin=None) -> str | None:
    """The summary as given: the option's text, `-` for all of stdin, or a UTF-8 file."""
    import sys

    from workflow.errors import BadInput
    from workflow.files import read_text

    if summary is not None and summary_file is not None:
        raise BadInput("--summary 与 --summary-file 只能二选一。")
    if summary == "-" or (summary_file is not None and str(summary_file) == "-"):
        text = (stdin or sys.stdin).read()
        if not text.strip():
            raise BadInput("标准输入中没有办理情况：请用管道或重定向提供文字，例如 duban task submit 12 --summary - < 办理情况.txt。")
        return text.rstrip("\n")
    if summary_file is None:
        return summary
    text = read_text(summary_file, "--summary-file 应为一个文本文件")
    if not text.strip():
        raise BadInput(f"文件 {summary_file} 是空的；办理情况不能为空。")
    return text.rstrip("\n")


@task_app.command("cancel", epilog=ex("duban task cancel 12 --reason 方案调整，本项取消"))
def task_cancel(ctx: typer.Context, assignment_id: ID,
                reason: Annotated[Optional[str], typer.Option("--reason", help="撤销理由（必填）")] = None,
                as_json: JSON = False) -> None:
    """撤销事项（计划调整时）。"""
    from commands import lifecycle
    from workflow.lifecycle.engine import Fields

    lifecycle.transition(app_of(ctx), assignment_id, "cancel", Fields(reason=reason), as_json=as_json)


@task_app.command("reopen", epilog=ex("duban task reopen 12 --reason 公开内容需更新"))
def task_reopen(ctx: typer.Context, assignment_id: ID,
                reason: Annotated[Optional[str], typer.Option("--reason", help="重新办理的理由（必填）")] = None,
                as_json: JSON = False) -> None:
    """重新办理已办结的事项。"""
    from commands import lifecycle
    from workflow.lifecycle.engine import Fields

    lifecycle.transition(app_of(ctx), assignment_id, "reopen", Fields(reason=reason), as_json=as_json)


@task_app.command("escalate", epilog=ex("duban task escalate 12 --comment 已逾期两周，请处室负责人督促办理"))
def task_escalate(ctx: typer.Context, assignment_id: ID,
                  comment: Annotated[Optional[str], typer.Option("--comment", help="督办意见（必填）")] = None,
                  as_json: JSON = False) -> None:
    """督办升级：把已逾期的事项升级给处室负责人督办（审核人；通知处室负责人和督查）。"""
    from commands import lifecycle
    from workflow.lifecycle.engine import Fields

    lifecycle.transition(app_of(ctx), assignment_id, "escalate", Fields(comment=comment), as_json=as_json)


_register_attachment()
