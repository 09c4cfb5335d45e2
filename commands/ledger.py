"""`duban ledger`: the quarterly ledger (台账) of a plan, on screen or as a file.

An options object plus a run function (the gh habit): tests call `run_ledger`
directly with an App whose streams and clock they chose.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from commands.common import App
from workflow.clock import parse_date
from commands.common import app_of, print_json
from commands.output import LIGHTS, clip, print_table
from workflow.errors import BadInput
from workflow.ledger.lights import LATE_HEADER

if TYPE_CHECKING:
    from workflow.ledger.compute import Ledger

FORMATS = ("table", "csv", "xlsx", "html", "md", "json")
SUFFIX_FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".html": "html", ".htm": "html", ".md": "md", ".json": "json"}
VIEWS = ("task", "department")


@dataclass
class LedgerOptions:
    plan: str | None = None
    quarter: str | None = None
    as_of: str | None = None
    by: str = "task"
    dept: str | None = None
    fmt: str | None = None
    out: Path | None = None


def run_ledger(app: App, opts: LedgerOptions) -> "Ledger":
    """Compute the ledger the options ask for (refusing bad options before any work)."""
    from workflow.ledger.service import LedgerQuery, build

    if opts.by not in VIEWS:
        raise BadInput(f"--by 的值“{opts.by}”无效，应为 task（按任务）或 department（按处室）。")
    as_of = parse_date(opts.as_of, "--as-of") if opts.as_of else None
    return build(app, LedgerQuery(plan=opts.plan, quarter=opts.quarter, as_of=as_of, dept=opts.dept))


def pick_format(opts: LedgerOptions) -> str:
    """--format, else the --out file's suffix, else a table on screen."""
    if opts.fmt:
        if opts.fmt not in FORMATS:
            raise BadInput(f"--format 的值“{opts.fmt}”无效，应为：{'、'.join(FORMATS)}。")
        return opts.fmt
    if opts.out is not None:
        fmt = SUFFIX_FORMATS.get(opts.out.suffix.lower())
        if fmt is None:
            raise BadInput(f"无法从文件名“{opts.out.name}”判断格式；请用 --format 指定（{'、'.join(FORMATS[1:])}）。")
        return fmt
    return "table"


def emit(app: App, ledger: "Ledger", fmt: str, opts: LedgerOptions) -> None:
    """Print or write the ledger; files are written whole or not at all."""
    if fmt == "table":
        if opts.out is not None:
            raise BadInput("table 格式只输出到屏幕；写入文件请用 --format csv/xlsx/html/md/json。")
        print_ledger(app, ledger, opts.by)
        return
    if fmt == "json" and opts.out is None:
        print_json(app, ledger.as_dict())
        return
    if fmt == "xlsx" and opts.out is None:
        raise BadInput("xlsx 格式需要用 --out 指定文件名，例如 --out 台账.xlsx。")
    from workflow.reports import write_ledger

    write_ledger(ledger, fmt, opts.out if opts.out is not None else app.out, opts.by)
    if opts.out is not None:
        app.say(f"已写入 {opts.out}：{len(ledger.rows)} 项事项，统计截至 {ledger.as_of}。")


# The detail columns a terminal has room for, from the shared column model of every format.
TERMINAL_COLUMNS = ("序号", "处室", "职责", "期次", "状态", "完成时限", "灯", "报送日期", "办结日期",
                    LATE_HEADER, "退回次数", "延期情况", "具体要求")


def print_ledger(app: App, ledger: "Ledger", by: str) -> None:
    """The totals, then one line per assignment: the shared DETAIL_COLUMNS (reports/tabular.py)
    a terminal has room for, long text clipped."""
    from workflow.reports.tabular import DETAIL_COLUMNS, LIGHT, detail_rows

    print_totals(app, ledger)
    out = app.out
    print(file=out)
    columns = [c for c in DETAIL_COLUMNS if c.header in TERMINAL_COLUMNS]

    def cell(column, row) -> str:
        if column.kind == LIGHT:
            return LIGHTS[row.light]
        text = column.text(row)
        return clip(text, 30) if column.wide else text

    print_table(out, ["事项"] + [c.header for c in columns],
                [[r.assignment_id] + [cell(c, r) for c in columns] for r in detail_rows(ledger, by)])


def print_totals(app: App, ledger: "Ledger") -> None:
    """The title, one summary sentence and the per-department totals."""
    import states

    out = app.out
    total = ledger.total
    print(ledger.title, file=out)
    print(f"统计截至 {ledger.as_of}：共 {total.total} 项，已办结 {total.states.get('done', 0)} 项，"
          f"逾期未办结 {total.overdue} 项，按时办结率 {_rate(total.on_time_rate)}。", file=out)
    print(file=out)
    shown = [s for s in states.STATES if total.states.get(s.name)]
    print_table(out, ["处室", "合计"] + [s.label for s in shown] + ["逾期", "按时办结率", "退回", "延期"],
                [[t.name, t.total] + [t.states.get(s.name, 0) or "" for s in shown]
                 + [t.overdue or "", _rate(t.on_time_rate), t.send_backs or "", t.delays or ""]
                 for t in ledger.by_department + [total]])


def _delays(row) -> str:
    return "；".join(f"{d.old_due:%m-%d}→{d.requested_due:%m-%d} {d.outcome_label}" for d in row.delays)


def _rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def ledger(ctx: typer.Context,
           plan: Annotated[Optional[str], typer.Argument(help="计划编号或标题的一部分（默认最新的计划）")] = None,
           quarter: Annotated[Optional[str], typer.Option("--quarter", help="按季度统计，如 2021Q3（截至该季度最后一天）")] = None,
           as_of: Annotated[Optional[str], typer.Option("--as-of", help="统计截至日期 YYYY-MM-DD（默认今天）")] = None,
           by: Annotated[str, typer.Option("--by", help="明细排列方式：task（按任务）或 department（按处室，最紧急的在前）")] = "task",
           dept: Annotated[Optional[str], typer.Option("--dept", help="只看一个处室")] = None,
           fmt: Annotated[Optional[str], typer.Option("--format", help="格式：table、csv、xlsx、html、md、json（默认按 --out 的扩展名，否则 table）")] = None,
           out: Annotated[Optional[Path], typer.Option("--out", help="写入文件（xlsx 必须指定）")] = None,
           as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出（等同 --format json）")] = False) -> None:
    """工作台账：每项任务、每个处室的办理状态、时限、红黄绿灯、报送与办结日期、退回和延期情况，以及汇总与按时办结率。

    按季度统计时，台账按办理记录还原到该季度最后一天的情况。"""
    app = app_of(ctx)
    opts = LedgerOptions(plan=plan, quarter=quarter, as_of=as_of, by=by, dept=dept,
                         fmt="json" if as_json and not fmt else fmt, out=out)
    fmt_name = pick_format(opts)
    if out is not None:
        from commands.common import check_out

        check_out(out)
    emit(app, run_ledger(app, opts), fmt_name, opts)


EXAMPLES = ("duban ledger --quarter 2021Q3", "duban ledger 1 --as-of 2021-12-31 --out 台账.xlsx",
            "duban ledger --by department --dept 科监处", "duban ledger --quarter 2021Q4 --format html --out 台账.html")
