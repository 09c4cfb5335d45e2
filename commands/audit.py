"""`duban audit`: verify the event hash chain, export the events."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from commands.common import JSON, app_of, check_out, ex, group, print_json


audit_app = group("audit", "审计：校验办理记录的哈希链、打印锚点、导出记录。", "duban audit verify", "duban audit anchor",
                  "duban audit export --out events.jsonl")


@audit_app.command("verify", epilog=ex("duban audit verify", "duban audit verify --json",
                                        "duban audit verify --anchor duban-anchor:v1：…", "duban audit verify --anchor 锚点.txt"))
def audit_verify(ctx: typer.Context,
                 anchor: Annotated[Optional[str], typer.Option("--anchor", help="锚点（duban audit anchor 打印的一行），或含有锚点的文本文件")] = None,
                 as_json: JSON = False) -> None:
    """重新计算每个计划的办理记录哈希链，按办理记录重演每个事项的状态、时限和版本，并核对办理人的姓名、角色和处室；
    给出锚点时还证明锚点之前的记录未被改写。发现问题时逐条指出记录（退出码 1）。"""
    from workflow.errors import Refused
    from workflow.lifecycle.service import verify_events, verify_result

    app = app_of(ctx)
    result = verify_result(verify_events(app, _read_anchor(anchor) if anchor else None))
    message = result.pop("message")
    if as_json:
        print_json(app, {k: v for k, v in result.items() if k != "problems"})
    if result["problems"]:
        raise Refused(message)
    if not as_json:
        print(message, file=app.out)


def _read_anchor(value: str):
    """--anchor LINE, or a file that holds one (the last anchor line in it)."""
    from workflow.errors import BadInput
    from workflow.lifecycle.audit import parse_anchor

    text = value
    if not value.strip().startswith("duban-anchor:"):
        try:
            text = Path(value).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            raise BadInput(f"--anchor {value} 既不是锚点（以 duban-anchor:v1: 开头），也不是存在的文件。") from None
        except (IsADirectoryError, PermissionError):
            raise BadInput(f"无法读取 --anchor 文件 {value}：请给出含有锚点的文本文件。") from None
    try:
        return parse_anchor(text)
    except ValueError as exc:
        raise BadInput(f"{exc}。") from None


@audit_app.command("anchor", epilog=ex("duban audit anchor", "duban audit anchor >> 锚点.txt"))
def audit_anchor(ctx: typer.Context) -> None:
    """打印锚点：每个计划记录链的链尾和条数，一行。把它保存在数据库之外（纸面、邮件、另一台电脑），
    以后用 duban audit verify --anchor 证明锚点之前的记录没有被改写。"""
    from workflow.lifecycle.service import anchor_line

    app = app_of(ctx)
    print(anchor_line(app), file=app.out)


@audit_app.command("export", epilog=ex("duban audit export --out events.jsonl", "duban audit export > events.jsonl"))
def audit_export(ctx: typer.Context,
                 out: Annotated[Optional[Path], typer.Option("--out", help="写入文件（默认输出到屏幕）")] = None) -> None:
    """把全部办理记录按顺序导出为 JSON Lines，供归档（审核人、督查或管理员）。"""
    from workflow.lifecycle.service import export_events
    from workflow.reports import atomic_path

    app = app_of(ctx)
    if out is not None:
        check_out(out)
    if out is None:
        n = export_events(app, app.out)
    else:
        with atomic_path(out) as part, open(part, "w", encoding="utf-8") as fh:
            n = export_events(app, fh)
    app.say(f"已导出 {n} 条办理记录。")

