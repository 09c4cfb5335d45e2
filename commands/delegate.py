"""`duban delegate`: let someone act for you while you are away."""
from __future__ import annotations

from typing import Annotated

import typer

from commands.common import JSON, app_of, ex, group, print_json
from commands.output import print_table
from workflow.clock import parse_date


delegate_app = group("delegate", "代办：请假期间授权他人代为办理。",
                      "duban delegate add --to 赵六 --from 2021-10-01 --until 2021-10-15",
                      "duban delegate list", "duban delegate revoke 3")


@delegate_app.command("add", epilog=ex("duban delegate add --to 赵六 --from 2021-10-01 --until 2021-10-15"))
def delegate_add(ctx: typer.Context,
                 to: Annotated[str, typer.Option("--to", help="代办人姓名")],
                 start: Annotated[str, typer.Option("--from", help="开始日期 YYYY-MM-DD")],
                 until: Annotated[str, typer.Option("--until", help="结束日期 YYYY-MM-DD（含）")],
                 as_json: JSON = False) -> None:
    """授权他人在指定期间以本人名义办理（办理记录同时记下代办人和本人）。"""
    from workflow.directory.service import add_delegation

    app = app_of(ctx)
    row, delegate = add_delegation(app, to, parse_date(start, "--from"), parse_date(until, "--until"))
    if as_json:
        print_json(app, {"id": row.id, "to": delegate.name, "from": row.starts_on, "until": row.ends_on})
    app.say(f"已授权 {delegate.name} 于 {row.starts_on} 至 {row.ends_on} 代为办理。")



def _view(d) -> dict:
    return {"id": d.id, "from": d.principal, "to": d.delegate, "starts_on": d.starts_on,
            "ends_on": d.ends_on, "status": d.status}


@delegate_app.command("list", epilog=ex("duban delegate list", "duban delegate list --all --json"))
def delegate_list(ctx: typer.Context,
                  everyone: Annotated[bool, typer.Option("--all", help="列出所有人的代办授权（审核人、督查和管理员）")] = False,
                  as_json: JSON = False) -> None:
    """列出本人给出和收到的代办授权（含已结束和已撤销的），最新的在前。"""
    from workflow.directory.service import list_delegations

    app = app_of(ctx)
    rows = list_delegations(app, everyone)
    if as_json:
        print_json(app, [_view(d) for d in rows])
        return
    if not rows:
        print("没有代办授权；可用 duban delegate add 授权他人代为办理。", file=app.out)
        return
    print_table(app.out, ["编号", "授权人", "代办人", "开始", "结束", "状态"],
                [[d.id, d.principal, d.delegate, d.starts_on, d.ends_on, d.status] for d in rows])


@delegate_app.command("revoke", epilog=ex("duban delegate revoke 3"))
def delegate_revoke(ctx: typer.Context,
                    delegation_id: Annotated[int, typer.Argument(help="代办授权编号（见 duban delegate list）", min=1, max=2**62)],
                    as_json: JSON = False) -> None:
    """撤销代办授权：立即失效，记录保留（授权人本人、代办人或管理员可以撤销）。"""
    from workflow.directory.service import revoke_delegation

    app = app_of(ctx)
    d = revoke_delegation(app, delegation_id)
    if as_json:
        print_json(app, _view(d))
        return
    print(f"已撤销代办授权 {d.id}：{d.delegate}自即日起不再代{d.principal}办理。", file=app.out)
