"""`duban demo`: a whole plan year, replayed."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from commands.common import app_of


def demo(ctx: typer.Context,
         folder: Annotated[Path, typer.Option("--dir", help="演示数据放在这个文件夹(数据库、邮件)")] = Path("demo")) -> None:
    """演示:导入示例计划(广州市司法局 2021),按时间线走完一年,打印结果表。"""
    from workflow.demo.run import run_demo

    run_demo(app_of(ctx), folder)

