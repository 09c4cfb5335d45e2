"""`duban states`: the state machine as a table, Mermaid or JSON."""
from __future__ import annotations

from typing import Annotated

import typer

from commands.common import JSON, app_of, print_json
from commands.output import print_table


def states_show(ctx: typer.Context, mermaid: Annotated[bool, typer.Option("--mermaid", help="输出 Mermaid 状态图")] = False,
                as_json: JSON = False) -> None:
    """显示状态机：每个操作的起止状态、谁可以执行、需要填写什么。"""
    import states

    app = app_of(ctx)
    if mermaid:
        print(states.mermaid(), file=app.out)
    elif as_json:
        print_json(app, states.table_rows())
    else:
        rows = states.table_rows()
        print_table(app.out, ["操作", "中文", "从", "到", "谁", "必填"],
                    [[r["trigger"], r["label"], r["from"], r["to"], r["who"], r["requires"]] for r in rows])

