"""`duban delay`: request, approve or reject a new due date."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from commands.common import FOR, ID, JSON, app_of, ex, group
from workflow.clock import parse_date


delay_app = group("delay", "延期：书面说明并申请新的完成时限，审核同意或不同意。",
                   "duban delay request 7 --reason 需等待上级平台 --until 2021-12-15",
                   "duban delay approve 7")


@delay_app.command("request", epilog=ex("duban delay request 7 --reason 需等待市级平台上线 --until 2021-12-15"))
def delay_request(ctx: typer.Context, assignment_id: ID,
                  reason: Annotated[Optional[str], typer.Option("--reason", help="无法按时完成的书面说明（必填）")] = None,
                  until: Annotated[Optional[str], typer.Option("--until", help="申请的新完成时限 YYYY-MM-DD（必填）")] = None,
                  for_user: FOR = None, as_json: JSON = False) -> None:
    """书面说明无法按时完成的原因，申请新的完成时限。"""
    from commands import lifecycle
    from workflow.lifecycle.engine import Fields

    date = parse_date(until, "--until") if until else None
    lifecycle.transition(app_of(ctx), assignment_id, "request_delay", Fields(reason=reason, until=date),
                         on_behalf=for_user, as_json=as_json)


@delay_app.command("approve", epilog=ex("duban delay approve 7"))
def delay_approve(ctx: typer.Context, assignment_id: ID,
                  comment: Annotated[Optional[str], typer.Option("--comment", help="意见")] = None,
                  as_json: JSON = False) -> None:
    """同意延期：完成时限改为申请的日期。"""
    from commands import lifecycle
    from workflow.lifecycle.engine import Fields

    lifecycle.transition(app_of(ctx), assignment_id, "approve_delay", Fields(comment=comment), as_json=as_json)


@delay_app.command("reject", epilog=ex("duban delay reject 7 --comment 请按原时限完成"))
def delay_reject(ctx: typer.Context, assignment_id: ID,
                 comment: Annotated[Optional[str], typer.Option("--comment", help="不同意的理由（必填）")] = None,
                 as_json: JSON = False) -> None:
    """不同意延期：完成时限不变。"""
    from commands import lifecycle
    from workflow.lifecycle.engine import Fields

    lifecycle.transition(app_of(ctx), assignment_id, "reject_delay", Fields(comment=comment), as_json=as_json)

