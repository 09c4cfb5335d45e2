"""`duban task attachment` (fetch one) and `duban attachments gc` (remove unused content).
Both call workflow.lifecycle.service; attachments live in the database (see README)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from commands.common import JSON, App, app_of, ex, group, print_json
from workflow.errors import BadInput

attachments_app = group("attachments", "附件存储：附件保存在数据库中；清理不再被任何记录使用的内容。",
                        "duban --as 吴管理 attachments gc --dry-run")


def fetch(app: App, assignment_id: int, name: str | None, out: str | None, as_json: bool = False) -> Path | None:
    """Write one attachment to `out` (default: its own name in the current folder; `-`:
    standard output). The file appears only when every byte has arrived and checked out."""
    from workflow.lifecycle import service
    from workflow.reports import atomic_path

    content = service.attachment(app, assignment_id, name)
    if out == "-":
        stream = getattr(app.out, "buffer", None)
        if stream is None:
            raise BadInput("当前输出不能写入二进制内容；请用 --out 文件名。")
        for piece in content.chunks:
            stream.write(piece)
        stream.flush()
        return None
    target = Path(out) if out else Path(content.name)
    if target.is_dir():
        target = target / content.name
    if not target.parent.is_dir():
        raise BadInput(f"--out 的文件夹 {target.parent} 不存在。")
    try:
        with atomic_path(target) as part, open(part, "wb") as fh:
            for piece in content.chunks:
                fh.write(piece)
    except OSError as exc:
        raise BadInput(f"无法写入 {target}（{exc.strerror or type(exc).__name__}）。") from None
    if as_json:
        print_json(app, {"name": content.name, "size": content.size, "sha256": content.sha256,
                         "path": str(target)})
    else:
        print(f"已保存附件“{content.name}”（{content.size} 字节，sha256 {content.sha256[:12]}…）到 {target}。",
              file=app.out)
    return target


def task_attachment(ctx: typer.Context,
                    assignment_id: Annotated[int, typer.Argument(help="事项编号（见 duban task list）", min=1, max=2**62)],
                    name: Annotated[Optional[str], typer.Option("--name", help="附件名称（事项有多个附件时必填；见 duban task show）")] = None,
                    out: Annotated[Optional[str], typer.Option("--out", help="保存到此文件或文件夹；- 表示标准输出；默认为当前文件夹中的附件原名")] = None,
                    as_json: JSON = False) -> None:
    """取回事项的附件（从数据库读取，任何使用该数据库的机器上都一样）。"""
    fetch(app_of(ctx), assignment_id, name, out, as_json)


@attachments_app.command("gc", epilog=ex("duban --as 吴管理 attachments gc --dry-run", "duban --as 吴管理 attachments gc"))
def attachments_gc(ctx: typer.Context,
                   dry_run: Annotated[bool, typer.Option("--dry-run", help="只统计，不删除")] = False,
                   as_json: JSON = False) -> None:
    """删除不再被任何附件记录使用的内容（管理员；清理期间其他命令暂不能保存附件）。"""
    from workflow.lifecycle import service

    app = app_of(ctx)
    found = service.collect_attachment_garbage(app, dry_run)
    if as_json:
        print_json(app, {"contents": found.contents, "bytes": found.size, "removed": found.removed})
    elif dry_run:
        print(f"有 {found.contents} 份附件内容（{found.size} 字节）不再被使用；未删除（--dry-run）。", file=app.out)
    else:
        print(f"已删除 {found.contents} 份不再被使用的附件内容（{found.size} 字节）。", file=app.out)
