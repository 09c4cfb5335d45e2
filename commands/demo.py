"""`duban demo`: a whole plan year, replayed through the services; this module prints it."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from commands.common import App, app_of


class _Printer:
    """The demo's narrator on the terminal."""

    def __init__(self, app: App):
        self.app = app

    def line(self, text: str) -> None:
        print(text, file=self.app.out)

    def totals(self, ledger) -> None:
        from commands.ledger import print_totals

        print_totals(self.app, ledger)


def demo(ctx: typer.Context,
         folder: Annotated[Path, typer.Option("--dir", help="演示数据放在这个文件夹（数据库、邮件）")] = Path("demo")) -> None:
    """演示：导入示例计划（广州市司法局 2021），按时间线走完一年，打印结果表。"""
    from workflow.demo.steps import run_demo

    app = app_of(ctx)
    run_demo(app, folder, _Printer(app))
