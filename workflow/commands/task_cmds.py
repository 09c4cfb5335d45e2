"""Run functions for reading assignments: task list/show/history and review list."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import states
from workflow.app import App
from workflow.commands.common import print_json
from workflow.commands.output import LIGHTS, clip, print_table
from workflow.errors import BadInput, NotFound, NotPermitted, shown

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Connection


def run_list(app: App, *, dept: str | None, state: str | None, overdue: bool, mine: bool,
             plan: str | None) -> list[dict[str, Any]]:
    """Over a Core connection: the listing builds no ORM class (see db/tables.py)."""
    from workflow.queries import list_assignments, visible_departments

    if mine and dept:
        raise BadInput("--mine 与 --dept 只能二选一。")
    with app.reader() as conn:
        viewer = app.read_viewer(conn)
        visible = visible_departments(viewer)
        department_id = None
        if mine:
            actor = app.read_actor(conn)
            if actor.department_id is None:
                raise BadInput(f"{actor.name}不属于任何处室,--mine 无法使用;请改用 --dept。")
            department_id = actor.department_id
        elif dept:
            found = _named_department(conn, dept)
            if found is None:
                raise NotFound(f"处室“{shown(dept)}”不存在;可用 duban dept list 查看。")
            _check_visible(viewer, visible, found.id)
            department_id = found.id
        plan_id = _named_plan(conn, plan) if plan else None
        return list_assignments(conn, app.clock.today(), plan_id=plan_id,
                                department_id=department_id, state=state, overdue=overdue,
                                visible=visible)


def _named_department(conn: "Connection", name: str) -> Any:
    """find_department, on an ORM session over `conn` (built only when --dept is given)."""
    from sqlmodel import Session

    from workflow.directory import find_department

    with Session(bind=conn) as session:
        return find_department(session, name)


def _named_plan(conn: "Connection", ref: str) -> int:
    """find_plan's id, on an ORM session over `conn` (built only when --plan is given)."""
    from sqlmodel import Session

    from workflow.plans import find_plan

    with Session(bind=conn) as session:
        return find_plan(session, ref).id


def _check_visible(viewer, visible, department_id: int) -> None:
    """Asking for another department by name is refused plainly, not answered with nothing."""
    if visible is not None and department_id not in visible:
        raise NotPermitted(f"{viewer.name}只能查看本处室的事项;审核人、督查和管理员可以查看所有处室。")


def print_view(app: App, v: dict[str, Any]) -> None:
    out = app.out
    print(f"事项 {v['id']}  {v['plan_title']} 第 {v['task']} 项", file=out)
    print(f"处室:{v['department']}({v['role_label']})  期次:{v['period'] or '—'}", file=out)
    print(f"状态:{v['state_label']}  完成时限:{v['due_date']}  {LIGHTS[v['light']]}  版本:{v['version']}", file=out)
    print(f"具体要求:{v['requirement']}", file=out)
    allowed = "、".join(f"{states.trigger_label(t)}({t})" for t in v["valid_triggers"]) or "无(已结束)"
    print(f"可执行:{allowed}", file=out)
    for a in v["attachments"]:
        print(f"附件:{a['name']}  {a['size']} 字节  sha256 {a['sha256']}", file=out)


def run_history(app: App, assignment_id: int, as_json: bool) -> None:
    from workflow.queries import history, visible_departments

    with app.reader() as conn:  # Core only, as run_list
        rows = history(conn, assignment_id, visible_departments(app.read_viewer(conn)))
    if as_json:
        print_json(app, rows)
        return
    print_table(app.out, ["时间", "操作", "从", "到", "操作人", "说明"],
                [[r["at"].replace("T", " "), r["trigger_label"], states.state_label(r["from"]) if r["from"] else "—",
                  states.state_label(r["to"]),
                  r["actor"] + (f"(代{r['on_behalf_of']})" if r["on_behalf_of"] else ""),
                  clip(_detail(r), 50)] for r in rows])


def _detail(r: dict[str, Any]) -> str:
    data = r["data"] or {}
    if r["trigger"] in ("request_delay", "approve_delay", "reject_delay"):
        extra = f"{data.get('old_due')} → {data.get('requested_due')}"
        return f"{r['comment'] or ''}({extra})" if r["comment"] else extra
    return r["comment"] or ""


def run_review_list(app: App) -> list[dict[str, Any]]:
    from workflow.queries import review_queue, visible_departments

    with app.reader() as conn:  # Core only, as run_list
        return review_queue(conn, app.clock.today(), visible_departments(app.read_viewer(conn)))
