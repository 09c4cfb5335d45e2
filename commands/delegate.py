"""`duban delegate`: let someone act for you while you are away."""
from __future__ import annotations

from typing import Annotated

import typer

from commands.common import JSON, app_of, ex, group, print_json
from workflow.clock import parse_date


delegate_app = group("delegate", "代办:请假期间授权他人代为办理。",
                      "duban --as 张三 delegate add --to 赵六 --from 2021-10-01 --until 2021-10-15")


@delegate_app.command("add", epilog=ex("duban --as 张三 delegate add --to 赵六 --from 2021-10-01 --until 2021-10-15"))
def delegate_add(ctx: typer.Context,
                 to: Annotated[str, typer.Option("--to", help="代办人姓名")],
                 start: Annotated[str, typer.Option("--from", help="开始日期 YYYY-MM-DD")],
                 until: Annotated[str, typer.Option("--until", help="结束日期 YYYY-MM-DD(含)")],
                 as_json: JSON = False) -> None:
    """授权他人在指定期间以本人名义办理(办理记录同时记下代办人和本人)。"""
    from workflow.directory.service import add_delegation

    app = app_of(ctx)
    row, delegate = add_delegation(app, to, parse_date(start, "--from"), parse_date(until, "--until"))
    if as_json:
        print_json(app, {"id": row.id, "to": delegate.name, "from": row.starts_on, "until": row.ends_on})
    app.say(f"已授权 {delegate.name} 于 {row.starts_on} 至 {row.ends_on} 代为办理。")

