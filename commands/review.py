"""`duban review`: the review queue, approve (one or --all), send back."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from commands.common import ID, JSON, app_of, ex, group, print_json
from commands.task import _print_assignments


review_app = group("review", "审核：待审核清单、审核通过、退回。",
                    "duban review list", "duban review approve 12",
                    "duban review send-back 12 --comment 请补充公开网址")


@review_app.command("list", epilog=ex("duban review list", "duban review list --json"))
def review_list(ctx: typer.Context, as_json: JSON = False) -> None:
    """待审核的报送和延期申请，等待最久的在前。"""
    from commands import task as task_cmds

    app = app_of(ctx)
    rows = task_cmds.run_review_list(app)
    if as_json:
        print_json(app, rows)
    else:
        _print_assignments(app, rows)


@review_app.command("approve", epilog=ex("duban review approve 12", "duban review approve --all --dept 装财处"))
def review_approve(ctx: typer.Context,
                   assignment_id: Annotated[Optional[int], typer.Argument(help="事项编号", min=1, max=2**62)] = None,
                   all_: Annotated[bool, typer.Option("--all", help="审核通过所有可审核的已报送事项（每项单独记录）")] = False,
                   dept: Annotated[Optional[str], typer.Option("--dept", help="配合 --all：只审核某处室")] = None,
                   comment: Annotated[Optional[str], typer.Option("--comment", help="审核意见")] = None,
                   as_json: JSON = False) -> None:
    """审核通过（办结）。不能审核本人报送的事项。"""
    from commands import lifecycle
    from workflow.lifecycle.engine import Fields
    from workflow.errors import BadInput

    app = app_of(ctx)
    if all_ == (assignment_id is not None):
        raise BadInput("请指定一个事项编号，或使用 --all（二者选一）。")
    if dept and not all_:
        raise BadInput("--dept 只能与 --all 一起使用。")
    if all_:
        lifecycle.approve_all(app, dept, comment, as_json)
    else:
        lifecycle.transition(app, assignment_id, "approve", Fields(comment=comment), as_json=as_json)


@review_app.command("send-back", epilog=ex("duban review send-back 12 --comment 请补充公开网址"))
def review_send_back(ctx: typer.Context, assignment_id: ID,
                     comment: Annotated[Optional[str], typer.Option("--comment", help="退回意见（必填）")] = None,
                     as_json: JSON = False) -> None:
    """退回报送，要求修改后重新报送。"""
    from commands import lifecycle
    from workflow.lifecycle.engine import Fields

    lifecycle.transition(app_of(ctx), assignment_id, "send_back", Fields(comment=comment), as_json=as_json)

