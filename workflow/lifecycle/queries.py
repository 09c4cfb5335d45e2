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

from sqlalchemy import and_, select

import states
from db import tables
from workflow.access.scope import Visible, require_item, visible_departments  # noqa: F401  (re-exported)
from workflow.clock import china_iso
from workflow.errors import BadInput
from workflow.ledger.lights import ORDER, Lights
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
    if state and state not in states.STATE_BY_NAME:
        names = "、".join(f"{s.name}({s.label})" for s in states.STATES)
        raise BadInput(f"状态“{state}”无效，应为：{names}。")
    q = _base()
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
    if conditions:
        q = q.where(and_(*conditions))
    q = q.order_by(_A.c.due_date, _T.c.seq, _A.c.id)
    if limit:
        q = q.limit(limit)
    views = [_view(r, today, light) for r in session.execute(q)]
    views.sort(key=lambda v: ORDER[v["light"]])  # stable: keeps due-date order within a light
    return views


def show_assignment(session: Reader, assignment_id: int, today: dt.date,
                    visible: Visible = None, light: Lights = _DEFAULT_LIGHTS) -> dict[str, Any]:
    row = session.execute(_base().where(_A.c.id == assignment_id)).first()
    require_item(visible, assignment_id, row.department_id if row else None)
    view = _view(row, today, light)
    view["valid_triggers"] = states.triggers_from(row.state)
    view["attachments"] = _attachments(session, assignment_id)
    return view


def _attachments(session: Reader, assignment_id: int) -> list[dict[str, Any]]:
    t = tables.attachment
    return [{"name": a.name, "sha256": a.sha256, "size": a.size}
            for a in session.execute(select(t).where(t.c.assignment_id == assignment_id).order_by(t.c.id))]


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
                 light: Lights = _DEFAULT_LIGHTS) -> list[dict[str, Any]]:
    """Submitted assignments and delay requests waiting for the office, oldest first."""
    q = _base().where(_A.c.state.in_(states.AWAITING_REVIEW))
    if visible is not None:
        q = q.where(_A.c.department_id.in_(sorted(visible)))
    q = q.order_by(_A.c.updated_at, _A.c.id)
    return [_view(r, today, light) | {"waiting_since": china_iso(r.updated_at)}
            for r in session.execute(q)]
