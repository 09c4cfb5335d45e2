"""The `report` and `calendar` command groups: the annual-report section and the .ics export.

Parsing and printing only: the numbers come from `workflow.ledger`, the wording and
layout from `workflow.reports.annual`, the events from `workflow.reports.ics`. Heavy
modules are imported inside the commands so `duban --help` stays fast.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Optional

import typer

from workflow.clock import parse_date
from commands.common import ex, group as _group
from commands.common import app_of
from workflow.errors import BadInput

report_app = _group("report", "报告：年度报告中的政务公开工作要点落实情况。",
                    "duban report annual 1 --out 落实情况.docx",
                    "duban report annual 1 --format md --out 落实情况.md --as-of 2021-12-31")
calendar_app = _group("calendar", "日历：把未办结事项的完成时限导出为日历文件（.ics），导入 Outlook、WPS 或手机日历。",
                      "duban calendar export --dept 科监处 --out 科监处.ics",
                      "duban calendar export --plan 1 --out 督办.ics")

FORMATS = ("md", "html", "docx")
SUFFIXES = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".docx": "docx"}
FORMAT_NAMES = {"md": "Markdown", "html": "HTML", "docx": "Word"}


def output_format(fmt: str | None, out: Path) -> str:
    """--format, or the one the --out suffix names; a clear sentence when neither works."""
    if fmt is not None:
        fmt = fmt.strip().lower()
        if fmt not in FORMATS:
            raise BadInput(f"--format {fmt} 无效，应为 md、html 或 docx。")
        return fmt
    guessed = SUFFIXES.get(out.suffix.lower())
    if guessed is None:
        raise BadInput(f"无法从文件名“{out.name}”判断格式：请用 --format 指定 md、html 或 docx,"
                       "或使用 .md/.html/.docx 扩展名。")
    return guessed


def write_atomically(out: Path, data: str | bytes) -> None:
    """Write `out.part` then rename, so a failed run never leaves half a file behind."""
    from commands.common import check_out
    from workflow.reports import atomic_path

    check_out(out)

    with atomic_path(out) as part:
        if isinstance(data, bytes):
            part.write_bytes(data)
        else:
            part.write_text(data, encoding="utf-8")


def _templates_dir(app, templates: Path | None) -> Path | None:
    if templates is not None:
        if not templates.is_dir():
            raise BadInput(f"--templates {templates} 不是一个存在的文件夹。")
        return templates
    return app.config().templates_dir


@report_app.command("annual", epilog=ex("duban report annual 1 --out 落实情况.docx",
                                        "duban report annual 1 --format html --out 落实情况.html --as-of 2021-12-31",
                                        "duban report annual 司法局 --out 落实情况.md --templates 我局模板/"))
def report_annual(ctx: typer.Context,
                  plan: Annotated[str, typer.Argument(help="计划编号或标题中的文字")],
                  out: Annotated[Path, typer.Option("--out", help="写入的文件；扩展名 .md/.html/.docx 决定默认格式")],
                  fmt: Annotated[Optional[str], typer.Option("--format", help="md、html 或 docx（默认按 --out 的扩展名）")] = None,
                  as_of: Annotated[Optional[str], typer.Option("--as-of", help="统计截止日期 YYYY-MM-DD（默认计划年度的12月31日，年度未结束时为今天）")] = None,
                  templates: Annotated[Optional[Path], typer.Option("--templates", help="自定义模板文件夹：其中的 annual.md.j2、annual.html.j2 优先使用（默认取配置中的 templates_dir）")] = None) -> None:
    """生成年度报告中“政务公开工作要点落实情况”一节：总体情况、分章节落实情况、延期和未完成事项、下一步工作。"""
    from commands.common import check_out

    fmt = output_format(fmt, out)
    check_out(out)
    day = parse_date(as_of, "--as-of") if as_of else None
    app = app_of(ctx)
    template_dir = _templates_dir(app, templates)

    from workflow.ledger.service import annual_ledger
    from workflow.reports.annual import render_section

    ledger = annual_ledger(app, plan, day)
    day = ledger.as_of
    data = render_section(ledger, fmt, template_dir)
    write_atomically(out, data)
    app.say(f"已生成{FORMAT_NAMES[fmt]}文件 {out}（截至{day.year}年{day.month}月{day.day}日，{len(ledger.rows)} 项办理事项）。")


@calendar_app.command("export", epilog=ex("duban calendar export --dept 科监处 --out 科监处.ics",
                                          "duban calendar export --plan 1 --out 督办.ics",
                                          "duban calendar export --out 全部事项.ics"))
def calendar_export(ctx: typer.Context,
                    out: Annotated[Path, typer.Option("--out", help="写入的日历文件（.ics）")],
                    dept: Annotated[Optional[str], typer.Option("--dept", help="只导出某处室的事项")] = None,
                    plan: Annotated[Optional[str], typer.Option("--plan", help="只导出某计划的事项（编号或标题中的文字）")] = None) -> None:
    """把未办结事项导出为日历文件：每项一个全天日程（完成时限当天），前一天和当天 9:00 提醒；重新导入会更新而不是重复。"""
    from workflow.lifecycle.service import calendar

    from commands.common import check_out

    if out.suffix.lower() != ".ics":
        raise BadInput(f"--out {out.name} 应以 .ics 结尾（日历文件）。")
    check_out(out)
    app = app_of(ctx)
    data = calendar(app, dept, plan)
    write_atomically(out, data)
    app.say(f"已导出 {data.count(b'BEGIN:VEVENT')} 个未办结事项到 {out}。")
