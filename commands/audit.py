"""`duban audit`: verify the event hash chain, export the events."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from commands.common import JSON, app_of, ex, group, print_json


audit_app = group("audit", "审计:校验办理记录的哈希链、导出记录。", "duban audit verify", "duban audit export --out events.jsonl")


@audit_app.command("verify", epilog=ex("duban audit verify", "duban audit verify --json"))
def audit_verify(ctx: typer.Context, as_json: JSON = False) -> None:
    """重新计算每个计划的办理记录哈希链;发现被修改、删除、插入或调换的记录时报告第一处断点(退出码 1)。"""
    from workflow.errors import Refused
    from workflow.lifecycle.service import verify_events

    app = app_of(ctx)
    checked, breaks = verify_events(app)
    if as_json:
        print_json(app, {"checked": checked, "ok": not breaks,
                         "breaks": [{"plan": b.plan_id, "event": b.event_id, "problem": b.problem} for b in breaks]})
    if breaks:
        first = breaks[0]
        where = f"第 {first.event_id} 号记录" if first.event_id else "链尾"
        raise Refused(f"办理记录校验失败:计划 {first.plan_id} 的{where}{first.problem}"
                      + (f";另有 {len(breaks) - 1} 个计划的记录链断开" if len(breaks) > 1 else "") + "。")
    if not as_json:
        print(f"已校验 {checked} 条办理记录,哈希链完整。", file=app.out)


@audit_app.command("export", epilog=ex("duban audit export --out events.jsonl", "duban audit export > events.jsonl"))
def audit_export(ctx: typer.Context,
                 out: Annotated[Optional[Path], typer.Option("--out", help="写入文件(默认输出到屏幕)")] = None) -> None:
    """把全部办理记录按顺序导出为 JSON Lines,供归档(审核人、督查或管理员)。"""
    from workflow.lifecycle.service import export_events
    from workflow.reports import atomic_path

    app = app_of(ctx)
    if out is None:
        n = export_events(app, app.out)
    else:
        with atomic_path(out) as part, open(part, "w", encoding="utf-8") as fh:
            n = export_events(app, fh)
    app.say(f"已导出 {n} 条办理记录。")

