"""Read side: assignment lists, one assignment, its history, the review queue.

Each view is a plain dict with stable keys: the CLI prints it as a table or as JSON.
Every read takes `visible`, the departments the reader may see (None: all), computed
by `workflow.access.scope.visible_departments` from states' one rule; an assignment
outside it does not exist as far as the reader can tell. The light of each item comes
from workflow/ledger/lights.py (pass the configured Lights; the default is the
default window on the official calendar).

The reads run on the Core tables of db/tables.py and take either a Core connection or an
ORM session: `task list` reads over a plain connection so that it never builds the
SQLModel classes (see db/tables.py for why).
"""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Union

from sqlalchemy import and_, bindparam, case, func, select

import states
from db import tables
from workflow.access.scope import Visible, require_item, visible_departments  # noqa: F401  (re-exported)
from workflow.clock import china_iso
from workflow.errors import BadInput
from workflow.ledger.lights import Lights
from workflow.plans.model import RESPONSIBILITY_ROLES

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Connection
    from sqlmodel import Session

    Reader = Union[Connection, Session]  # anything that executes a Core statement

_A, _T, _D, _P, _E, _U = (tables.assignment, tables.task, tables.department, tables.plan,
                          tables.event, tables.app_user)
_DEFAULT_LIGHTS = Lights()


def _base():
    return (select(_A, _T.c.seq, _T.c.requirement, _D.c.name.label("department"),
                   _P.c.title.label("plan_title"))
            .join(_T, _T.c.id == _A.c.task_id)
            .join(_D, _D.c.id == _A.c.department_id)
            .join(_P, _P.c.id == _A.c.plan_id))


def _view(row: Any, today: dt.date, light: Lights) -> dict[str, Any]:
    overdue = not states.is_closed(row.state) and row.due_date < today
    return {
        "id": row.id, "plan": row.plan_id, "plan_title": row.plan_title, "task": row.seq,
        "department": row.department, "role": row.role,
        "role_label": RESPONSIBILITY_ROLES.get(row.role, row.role), "period": row.period,
        "state": row.state, "state_label": states.state_label(row.state),
        "due_date": row.due_date.isoformat(), "version": row.version, "overdue": overdue,
        "light": light(row.state, row.due_date, today), "requirement": row.requirement,
    }


def list_assignments(session: Reader, today: dt.date, *, plan_id: int | None = None,
                     department_id: int | None = None, state: str | None = None,
                     overdue: bool = False, limit: int | None = None,
                     visible: Visible = None, light: Lights = _DEFAULT_LIGHTS) -> list[dict[str, Any]]:
    """Assignments, most urgent first (overdue, then nearest due date)."""
    return list_page(session, today, plan_id=plan_id, department_id=department_id, state=state,
                     overdue=overdue, visible=visible, light=light, per_page=limit, count=False)[0]


def list_page(session: Reader, today: dt.date, *, plan_id: int | None = None,
              department_id: int | None = None, state: str | None = None, overdue: bool = False,
              visible: Visible = None, light: Lights = _DEFAULT_LIGHTS, page: int = 1,
              per_page: int | None = None, count: bool = True) -> tuple[list[dict[str, Any]], int]:
    """One page of the list (all of it without `per_page`) in the CLI's order, and how many
    match in all (`count`; else the page's length).

    The order is red, yellow, green, then the closed ones, each by due date. A light depends
    only on how far off an open item's due date is (workflow/ledger/lights), so for the open
    states the due-date order is the light order itself: the database sorts, and a page is
    a LIMIT/OFFSET read of the matching rows only."""
    conditions = _list_conditions(today, plan_id, department_id, state, overdue, visible)
    closed = case((_A.c.state.in_(states.OPEN_STATES), 0), else_=1)
    order = (closed, _A.c.due_date, _T.c.seq, _A.c.id)
    q = _base().where(*conditions).order_by(*order)
    if per_page:  # sort the narrow rows, then join the page's only
        first = (select(_A.c.id).join(_T, _T.c.id == _A.c.task_id).where(*conditions).order_by(*order)
                 .limit(per_page).offset((max(page, 1) - 1) * per_page))
        q = _base().where(_A.c.id.in_(first)).order_by(*order)
    views = [_view(r, today, light) for r in session.execute(q)]
    if not count:
        return views, len(views)
    if not per_page or (page <= 1 and len(views) < per_page):
        return views, len(views)  # the whole list is here: no second read
    total = session.execute(select(func.count()).select_from(_A).where(*conditions)).scalar_one()
    return views, total


def _list_conditions(today: dt.date, plan_id: int | None, department_id: int | None,
                     state: str | None, overdue: bool, visible: Visible) -> list[Any]:
    if state and state not in states.STATE_BY_NAME:
        names = "、".join(f"{s.name}({s.label})" for s in states.STATES)
        raise BadInput(f"状态“{state}”无效，应为：{names}。")
    conditions = []
    if plan_id is not None:
        conditions.append(_A.c.plan_id == plan_id)
    if department_id is not None:
        conditions.append(_A.c.department_id == department_id)
    if visible is not None:
        conditions.append(_A.c.department_id.in_(sorted(visible)))
    if state:
        conditions.append(_A.c.state == state)
    if overdue:
        conditions += [_A.c.due_date < today, _A.c.state.in_(states.OPEN_STATES)]
    return conditions


def light_counts(session: Reader, today: dt.date, visible: Visible = None,
                 light: Lights = _DEFAULT_LIGHTS) -> list[dict[str, Any]]:
    """How many assignments each (department, state) has, and of the open ones how many are
    red, yellow and green today: one aggregate read. The light of an open item grows with
    its due date (red before today, yellow up to the last day of the warning window, green
    after: Lights.yellow_until), so two date bounds split each group."""
    last_yellow = light.yellow_until(today)
    red = func.sum(case((_A.c.due_date < today, 1), else_=0))
    yellow = func.sum(case((and_(_A.c.due_date >= today, _A.c.due_date <= last_yellow), 1), else_=0))
    q = (select(_A.c.department_id, _D.c.name.label("department"), _A.c.state,
                func.count().label("n"), red.label("red"), yellow.label("yellow"))
         .join(_D, _D.c.id == _A.c.department_id)
         .group_by(_A.c.department_id, _D.c.name, _A.c.state))
    if visible is not None:
        q = q.where(_A.c.department_id.in_(sorted(visible)))
    out = []
    for r in session.execute(q):
        if states.is_closed(r.state):
            lit = {"red": 0, "yellow": 0, "green": 0, "closed": r.n}
        else:
            lit = {"red": r.red, "yellow": r.yellow, "green": r.n - r.red - r.yellow, "closed": 0}
        out.append({"department_id": r.department_id, "department": r.department, "state": r.state,
                    "count": r.n, **lit})
    return out


# One assignment and its attachments: built once, since the web answers every move with
# the moved item (SQLAlchemy memoises a statement's cache key on the statement object).
_ONE = _base().where(_A.c.id == bindparam("aid"))
_ATTACHMENTS = (select(tables.attachment.c.name, tables.attachment.c.sha256, tables.attachment.c.size)
                .where(tables.attachment.c.assignment_id == bindparam("aid")).order_by(tables.attachment.c.id))


def show_assignment(session: Reader, assignment_id: int, today: dt.date,
                    visible: Visible = None, light: Lights = _DEFAULT_LIGHTS) -> dict[str, Any]:
    row = session.execute(_ONE, {"aid": assignment_id}).first()
    require_item(visible, assignment_id, row.department_id if row else None)
    view = _view(row, today, light)
    view["valid_triggers"] = states.triggers_from(row.state)
    view["attachments"] = _attachments(session, assignment_id)
    return view


def _attachments(session: Reader, assignment_id: int) -> list[dict[str, Any]]:
    return [{"name": a.name, "sha256": a.sha256, "size": a.size}
            for a in session.execute(_ATTACHMENTS, {"aid": assignment_id})]


def history(session: Reader, assignment_id: int, visible: Visible = None) -> list[dict[str, Any]]:
    found = session.execute(select(_A.c.department_id).where(_A.c.id == assignment_id)).first()
    require_item(visible, assignment_id, found.department_id if found else None)
    actor = _U.alias("actor")
    behalf = _U.alias("behalf")
    q = (select(_E, actor.c.name.label("actor_name"), behalf.c.name.label("behalf_name"))
         .join(actor, actor.c.id == _E.c.actor_id)
         .outerjoin(behalf, behalf.c.id == _E.c.on_behalf_of_id)
         .where(_E.c.assignment_id == assignment_id).order_by(_E.c.id))
    return [
        {"id": r.id, "trigger": r.trigger, "trigger_label": _trigger_label(r.trigger),
         "from": r.from_state, "to": r.to_state, "actor": r.actor_name,
         "on_behalf_of": r.behalf_name, "comment": r.comment, "data": r.data,
         "at": china_iso(r.at)}
        for r in session.execute(q)
    ]


def _trigger_label(trigger: str) -> str:
    return "下发" if trigger == "distribute" else states.trigger_label(trigger)


def review_queue(session: Reader, today: dt.date, visible: Visible = None,
                 light: Lights = _DEFAULT_LIGHTS, limit: int | None = None) -> list[dict[str, Any]]:
    """Submitted assignments and delay requests waiting for the office, oldest first (the
    first `limit` of them: the narrow rows are sorted and only those are joined)."""
    conditions = [_A.c.state.in_(states.AWAITING_REVIEW)]
    if visible is not None:
        conditions.append(_A.c.department_id.in_(sorted(visible)))
    q = _base().where(*conditions)
    if limit:
        first = select(_A.c.id).where(*conditions).order_by(_A.c.updated_at, _A.c.id).limit(limit)
        q = _base().where(_A.c.id.in_(first))
    q = q.order_by(_A.c.updated_at, _A.c.id)
    return [_view(r, today, light) | {"waiting_since": china_iso(r.updated_at)}
            for r in session.execute(q)]
