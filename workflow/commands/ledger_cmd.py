"""`duban ledger`: the quarterly ledger (台账) of a plan, on screen or as a file.

An options object plus a run function (the gh habit): tests call `run_ledger`
directly with an App whose streams and clock they chose.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from workflow.app import App
from workflow.clock import parse_date
from workflow.commands.common import app_of, print_json
from workflow.commands.output import LIGHTS, clip, print_table
from workflow.errors import BadInput, NotFound, NotPermitted, shown

if TYPE_CHECKING:
    from workflow.ledger import Ledger

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
    from workflow.calendar import calendar_from_config
    from workflow.directory import find_department
    from workflow.ledger import calendar_light, compute_ledger, quarter_end
    from db.models import Department
    from workflow.plans import find_plan
    from workflow.queries import visible_departments

    if opts.by not in VIEWS:
        raise BadInput(f"--by 的值“{opts.by}”无效,应为 task(按任务)或 department(按处室)。")
    quarter, as_of = _when(app, opts, quarter_end)
    config = app.config()
    calendar = calendar_from_config(config.calendar)
    light = calendar_light(config.remind.warn_window, calendar.workdays_between)
    with app.session() as session:
        viewer = app.viewer(session)
        visible = visible_departments(viewer)
        plan = find_plan(session, opts.plan)
        dept = None
        if opts.dept:
            found = find_department(session, opts.dept)
            if found is None:
                raise NotFound(f"处室“{shown(opts.dept)}”不存在;可用 duban dept list 查看。")
            if visible is not None and found.id not in visible:
                raise NotPermitted(f"{viewer.name}只能查看本处室的台账;审核人、督查和管理员可以查看所有处室。")
            dept = found.name
        elif visible is not None:  # staff and heads: their own department, as if --dept were given
            own = session.get(Department, next(iter(visible))) if visible else None
            dept = own.name if own else ""
        ledger = compute_ledger(session, plan.id, as_of, quarter=quarter,
                                warn_days=config.remind.warn_window, light=light)
    return ledger.for_department(dept) if dept is not None else ledger


def _when(app: App, opts: LedgerOptions, quarter_end) -> tuple[str | None, dt.date]:
    """The ledger's day: a quarter's last day, --as-of, or today; never in the future."""
    today = app.clock.today()
    if opts.quarter and opts.as_of:
        raise BadInput("--quarter 与 --as-of 只能二选一。")
    if opts.quarter:
        try:
            quarter, end = quarter_end(opts.quarter)
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        return quarter, min(end, today)
    as_of = parse_date(opts.as_of, "--as-of") if opts.as_of else today
    if as_of > today:
        raise BadInput(f"--as-of {as_of} 晚于今天({today});台账只能反映已经发生的情况。")
    return None, as_of


def pick_format(opts: LedgerOptions) -> str:
    """--format, else the --out file's suffix, else a table on screen."""
    if opts.fmt:
        if opts.fmt not in FORMATS:
            raise BadInput(f"--format 的值“{opts.fmt}”无效,应为:{'、'.join(FORMATS)}。")
        return opts.fmt
    if opts.out is not None:
        fmt = SUFFIX_FORMATS.get(opts.out.suffix.lower())
        if fmt is None:
            raise BadInput(f"无法从文件名“{opts.out.name}”判断格式;请用 --format 指定({'、'.join(FORMATS[1:])})。")
        return fmt
    return "table"


def emit(app: App, ledger: "Ledger", fmt: str, opts: LedgerOptions) -> None:
    """Print or write the ledger; files are written whole or not at all."""
    if fmt == "table":
        if opts.out is not None:
            raise BadInput("table 格式只输出到屏幕;写入文件请用 --format csv/xlsx/html/md/json。")
        print_ledger(app, ledger, opts.by)
        return
    if fmt == "json" and opts.out is None:
        print_json(app, ledger.as_dict())
        return
    if fmt == "xlsx" and opts.out is None:
        raise BadInput("xlsx 格式需要用 --out 指定文件名,例如 --out 台账.xlsx。")
    from workflow.reports import write_ledger

    write_ledger(ledger, fmt, opts.out if opts.out is not None else app.out, opts.by)
    if opts.out is not None:
        app.say(f"已写入 {opts.out}:{len(ledger.rows)} 项事项,统计截至 {ledger.as_of}。")


def print_ledger(app: App, ledger: "Ledger", by: str) -> None:
    """The totals, then one line per assignment."""
    from workflow.ledger import urgency_key

    print_totals(app, ledger)
    out = app.out
    print(file=out)
    rows = ledger.rows
    if by == "department":
        rows = sorted(rows, key=lambda r: (r.department, urgency_key(r)))
    print_table(out, ["事项", "序号", "处室", "职责", "期次", "状态", "完成时限", "灯", "报送", "办结",
                      "逾期天数", "退回", "延期", "具体要求"],
                [[r.assignment_id, r.task_seq, r.department, r.role_label, r.period or "", r.state_label,
                  r.due, LIGHTS[r.light], r.submitted_on or "", r.approved_on or "", r.days_late or "",
                  r.send_backs or "", _delays(r), clip(r.requirement, 30)] for r in rows])


def print_totals(app: App, ledger: "Ledger") -> None:
    """The title, one summary sentence and the per-department totals."""
    import states

    out = app.out
    total = ledger.total
    print(ledger.title, file=out)
    print(f"统计截至 {ledger.as_of}:共 {total.total} 项,已办结 {total.states.get('done', 0)} 项,"
          f"逾期未办结 {total.overdue} 项,按时办结率 {_rate(total.on_time_rate)}。", file=out)
    print(file=out)
    shown = [s for s in states.STATES if total.states.get(s.name)]
    print_table(out, ["处室", "合计"] + [s.label for s in shown] + ["逾期", "按时办结率", "退回", "延期"],
                [[t.name, t.total] + [t.states.get(s.name, 0) or "" for s in shown]
                 + [t.overdue or "", _rate(t.on_time_rate), t.send_backs or "", t.delays or ""]
                 for t in ledger.by_department + [total]])


def _delays(row) -> str:
    return ";".join(f"{d.old_due:%m-%d}→{d.requested_due:%m-%d} {d.outcome_label}" for d in row.delays)


def _rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def ledger(ctx: typer.Context,
           plan: Annotated[Optional[str], typer.Argument(help="计划编号或标题的一部分(默认最新的计划)")] = None,
           quarter: Annotated[Optional[str], typer.Option("--quarter", help="按季度统计,如 2021Q3(截至该季度最后一天)")] = None,
           as_of: Annotated[Optional[str], typer.Option("--as-of", help="统计截至日期 YYYY-MM-DD(默认今天)")] = None,
           by: Annotated[str, typer.Option("--by", help="明细排列方式:task(按任务)或 department(按处室,最紧急的在前)")] = "task",
           dept: Annotated[Optional[str], typer.Option("--dept", help="只看一个处室")] = None,
           fmt: Annotated[Optional[str], typer.Option("--format", help="格式:table、csv、xlsx、html、md、json(默认按 --out 的扩展名,否则 table)")] = None,
           out: Annotated[Optional[Path], typer.Option("--out", help="写入文件(xlsx 必须指定)")] = None,
           as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出(等同 --format json)")] = False) -> None:
    """工作台账:每项任务、每个处室的办理状态、时限、红黄绿灯、报送与办结日期、退回和延期情况,以及汇总与按时办结率。

    按季度统计时,台账按办理记录还原到该季度最后一天的情况。"""
    app = app_of(ctx)
    opts = LedgerOptions(plan=plan, quarter=quarter, as_of=as_of, by=by, dept=dept,
                         fmt="json" if as_json and not fmt else fmt, out=out)
    fmt_name = pick_format(opts)
    if out is not None:
        from workflow.commands.common import check_out

        check_out(out)
    emit(app, run_ledger(app, opts), fmt_name, opts)


EXAMPLES = ("duban ledger --quarter 2021Q3", "duban ledger 1 --as-of 2021-12-31 --out 台账.xlsx",
            "duban ledger --by department --dept 科监处", "duban ledger --quarter 2021Q4 --format html --out 台账.html")
