"""Ledger services: the ledger a reader may see, as of a day or a quarter's end."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workflow.errors import BadInput, NotFound, shown

if TYPE_CHECKING:  # pragma: no cover
    from workflow.context import Context
    from workflow.ledger.compute import Ledger


@dataclass
class LedgerQuery:
    plan: str | None = None  # plan id or words of its title; None: the latest plan
    quarter: str | None = None  # "2021Q3": as of the quarter's last day (or today, if earlier)
    as_of: dt.date | None = None  # default today; never in the future
    dept: str | None = None  # one department (staff and heads always see only their own)


def as_of_day(ctx: "Context", query: LedgerQuery) -> tuple[str | None, dt.date]:
    """The ledger's day: a quarter's last day, `as_of`, or today; never in the future."""
    from workflow.ledger.compute import quarter_end

    today = ctx.clock.today()
    if query.quarter and query.as_of:
        raise BadInput("--quarter 与 --as-of 只能二选一。")
    if query.quarter:
        try:
            quarter, end = quarter_end(query.quarter)
        except ValueError as exc:
            raise BadInput(str(exc)) from None
        return quarter, min(end, today)
    as_of = query.as_of or today
    if as_of > today:
        raise BadInput(f"--as-of {as_of} 晚于今天（{today}）；台账只能反映已经发生的情况。")
    return None, as_of


def build(ctx: "Context", query: LedgerQuery) -> "Ledger":
    """The plan's ledger replayed to its day, limited to what the reader may see."""
    from db.models import Department
    from workflow.access.scope import check_visible, visible_departments
    from workflow.directory.store import find_department
    from workflow.ledger.compute import compute_ledger
    from workflow.ledger.lights import from_config
    from workflow.plans.store import find_plan

    quarter, as_of = as_of_day(ctx, query)
    config = ctx.config()
    with ctx.session() as session:
        viewer = ctx.viewer(session)
        visible = visible_departments(viewer)
        plan = find_plan(session, query.plan)
        dept = None
        if query.dept:
            found = find_department(session, query.dept)
            if found is None:
                raise NotFound(f"处室“{shown(query.dept)}”不存在；可用 duban dept list 查看。")
            check_visible(viewer, visible, found.id, "台账")
            dept = found.name
        elif visible is not None:  # staff and heads: their own department, as if dept were given
            own = session.get(Department, next(iter(visible))) if visible else None
            dept = own.name if own else ""
        ledger = compute_ledger(session, plan.id, as_of, quarter=quarter,
                                warn_days=config.remind.warn_window, light=from_config(config))
    return ledger.for_department(dept) if dept is not None else ledger


ANNUAL_REFUSAL = "无权生成年度报告：报告涉及所有处室，只有审核人、督查和管理员可以生成。"


def annual_ledger(ctx: "Context", plan: str, as_of: dt.date | None = None) -> "Ledger":
    """The whole plan's ledger for the annual report (roles that read all), as of 31 December
    of the plan's year, or today while the year runs; refused when nothing was published."""
    import states
    from workflow.errors import Refused
    from workflow.ledger.compute import compute_ledger
    from workflow.ledger.lights import from_config
    from workflow.plans.store import find_plan

    config = ctx.config()
    with ctx.session() as session:
        ctx.require(session, states.reads_all, ANNUAL_REFUSAL)
        row = find_plan(session, plan)
        day = as_of or min(ctx.clock.today(), dt.date(row.year, 12, 31))
        ledger = compute_ledger(session, row.id, day, warn_days=config.remind.warn_window,
                                light=from_config(config))
    if not ledger.rows:
        raise Refused(f"计划 {row.id} 截至{day.year}年{day.month}月{day.day}日没有已下发的事项，无法统计落实情况；"
                      f"请先运行 duban plan publish {row.id}。")
    return ledger
