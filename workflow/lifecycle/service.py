"""Lifecycle services: move an assignment (one trigger, or approve in bulk) and read them.

Front ends call these with a Context; they return values and raise DubanError with the
sentence to show. Nothing here prints, reads the environment or knows of typer.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import states
from workflow.errors import BadInput, DubanError, NotFound, NotPermitted, shown

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Connection

    from workflow.context import Context
    from workflow.lifecycle.engine import Fields, FireResult
    from workflow.lifecycle.attachments import Content, Garbage
    from workflow.lifecycle.notify import Notifier


def notifier(ctx: "Context") -> "Notifier":
    """Renders with the office's own templates where the config names a folder."""
    from workflow.lifecycle.notify import Notifier

    config = ctx.config()
    return Notifier(config.templates_dir, base_url=config.web.base_url, link_days=config.web.link_days)


def _principal(session, name: str | None):
    from sqlalchemy import select

    from db.models import User

    if not name:
        return None
    user = session.execute(select(User).where(User.name == name)).scalar_one_or_none()
    if user is None or not user.active:  # a revoked user's delegations stop with them
        raise NotFound(f"被代办人“{name}”不存在或已停用；可用 duban user list 查看。")
    return user


def transition(ctx: "Context", assignment_id: int, trigger: str, fields: "Fields | None" = None,
               attachments: Sequence[Path] = (), *, on_behalf: str | None = None,
               before_write: Callable[[], None] | None = None,
               expected_version: int | None = None) -> "FireResult":
    """Fire one trigger as the acting user (for `on_behalf`, with a delegation). The files in
    `attachments` are copied into the database in the same transaction as the event, so a
    refused or failed command leaves none of them behind.

    `before_write` is handed to fire(): tests pause a command inside its transaction with it.
    `expected_version` refuses the move (LostRace) unless the row is still at that version
    (the web API's If-Match)."""
    from sqlalchemy.exc import OperationalError

    from workflow.errors import unsaved
    from workflow.lifecycle.attachments import store
    from workflow.lifecycle.engine import Fields, fire

    fields = fields or Fields()
    with ctx.writing(), ctx.session() as session:  # the attachments are written in it too
        try:  # the actor as plain values: fire() needs no ORM object of them
            actor = ctx.read_actor(session.connection())
            principal = _principal(session, on_behalf)
            fields.attachments = [store(session, path) for path in attachments]
        except OperationalError as exc:  # as fire() answers them: busy, full disk, gone
            session.rollback()
            raise unsaved(exc, "数据库繁忙，附件未保存，本次操作未生效，请稍后重试。") from exc
        except BaseException:
            session.rollback()
            raise
        return fire(session, assignment_id, trigger, actor, clock=ctx.clock, fields=fields,
                    on_behalf_of=principal, notifier=notifier(ctx), before_write=before_write,
                    expected_version=expected_version)


@dataclass
class Move:
    """One transition of transition_each: as transition() takes it, without attachments."""

    ctx: "Context"  # acting as the one who asked (its actor)
    assignment_id: int
    trigger: str
    fields: "Fields | None" = None
    on_behalf: str | None = None
    expected_version: int | None = None


def transition_each(moves: Sequence[Move]) -> list["FireResult | DubanError"]:
    """Several transitions, each as transition() would make it for its own actor (a refused
    one is answered with its error in its place and changes nothing), committed together
    (engine.fire_each): the web server's SQLite writer hands over the moves that queued
    up while it wrote the last ones, and one commit costs more than a move. The moves
    share one database and clock (one server's)."""
    from workflow.lifecycle.engine import Asked, Fields, fire_each

    ctx = moves[0].ctx
    outcomes: list[Any] = [None] * len(moves)
    asked: list[tuple[int, Asked]] = []
    with ctx.writing(), ctx.session() as session:
        conn = session.connection()
        for i, move in enumerate(moves):
            try:
                asked.append((i, Asked(move.assignment_id, move.trigger, move.ctx.read_actor(conn),
                                       move.fields or Fields(), _principal(session, move.on_behalf),
                                       move.expected_version)))
            except DubanError as exc:
                outcomes[i] = exc
        done = fire_each(session, [a for _, a in asked], clock=ctx.clock, notifier=notifier(ctx))
    for (i, _), outcome in zip(asked, done):
        outcomes[i] = outcome
    return outcomes


@dataclass
class BulkReport:
    approved: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (assignment id, why)


def approve_all(ctx: "Context", department: str | None = None, comment: str | None = None,
                trigger: str = "approve", ids: Sequence[int] | None = None) -> BulkReport:
    """Approve many assignments for the acting reviewer: every submitted one (of `department`,
    if given), or those in `ids` (the web's ticked boxes). The one home of bulk approval:
    `review approve --all`, the API's POST /review/approve and the review page call it.

    Each item gets exactly what `transition(ctx, id, "approve")` would give it (visibility,
    separation of duties and state checked per item; its event, hash-chain link and mails);
    an item that would be refused is skipped with the sentence. Committed in batches
    (engine.fire_many): a failure rolls back the batch in hand, never half an item."""
    from sqlalchemy import select

    from db.models import Assignment
    from workflow.directory.store import find_department
    from workflow.lifecycle.engine import Fields, fire_many

    transition_ = states.TRANSITION_BY_TRIGGER[trigger]
    with ctx.writing(), ctx.session() as session:
        actor = ctx.actor(session)
        if not states.may_fire_somewhere(transition_, frozenset(actor.roles)):
            raise NotPermitted(f"{actor.name}不是审核人，不能批量审核。")
        q = (select(Assignment.id).where(Assignment.state.in_(transition_.sources))
             .order_by(Assignment.id))
        if department:
            dept = find_department(session, department)
            if dept is None:
                raise NotFound(f"处室“{shown(department)}”不存在；可用 duban dept list 查看。")
            q = q.where(Assignment.department_id == dept.id)
        ids = list(session.execute(q).scalars()) if ids is None else list(ids)
        done = fire_many(session, ids, trigger, actor, clock=ctx.clock, fields=Fields(comment=comment),
                         notifier=notifier(ctx))
    return BulkReport([r.assignment_id for r in done.fired], done.refused)


# ---------------------------------------------------------------- reads
@dataclass
class TaskQuery:
    """The filters of a task list: by name as a user types them."""

    dept: str | None = None
    state: str | None = None
    overdue: bool = False
    mine: bool = False
    plan: str | None = None


def show(ctx: "Context", assignment_id: int) -> dict[str, Any]:
    """One assignment, if the reader may see it (otherwise it "does not exist")."""
    from workflow.access.scope import visible_departments
    from workflow.lifecycle.queries import show_assignment

    with ctx.reader() as conn:
        visible = visible_departments(ctx.read_viewer(conn))
        return show_assignment(conn, assignment_id, ctx.clock.today(), visible, _lights(ctx))


@dataclass
class TaskPage:
    """One page of a task list (the whole list when no page size was asked) and how many
    assignments match in all."""

    items: list[dict[str, Any]]
    total: int
    page: int = 1
    per_page: int | None = None


def list_tasks(ctx: "Context", query: TaskQuery, page: int = 1, per_page: int | None = None) -> TaskPage:
    """Assignments the reader may see, most urgent first: page `page` of `per_page` (the
    database reads that page only), or all of them. Over a Core connection: the listing
    builds no ORM class (see db/tables.py)."""
    from workflow.access.scope import check_visible, visible_departments
    from workflow.lifecycle.queries import list_page

    if query.mine and query.dept:
        raise BadInput("--mine 与 --dept 只能二选一。")
    with ctx.reader() as conn:
        viewer = ctx.read_viewer(conn)
        visible = visible_departments(viewer)
        department_id = None
        if query.mine:
            actor = ctx.read_actor(conn)
            if actor.department_id is None:
                raise BadInput(f"{actor.name}不属于任何处室，--mine 无法使用；请改用 --dept。")
            department_id = actor.department_id
        elif query.dept:
            found = _named_department(conn, query.dept)
            if found is None:
                raise NotFound(f"处室“{shown(query.dept)}”不存在；可用 duban dept list 查看。")
            check_visible(viewer, visible, found.id, "事项")
            department_id = found.id
        plan_id = _named_plan(conn, query.plan) if query.plan else None
        items, total = list_page(conn, ctx.clock.today(), plan_id=plan_id, department_id=department_id,
                                 state=query.state, overdue=query.overdue, visible=visible,
                                 light=_lights(ctx), page=page, per_page=per_page)
        return TaskPage(items, total, page, per_page)


def allowed_triggers(ctx: "Context", assignment_id: int) -> list[str]:
    """The triggers the acting user may fire on the assignment now (what a page offers as
    buttons): fire()'s own checks that need no input (engine.allowed_triggers)."""
    from workflow.lifecycle.engine import allowed_triggers as allowed

    with ctx.reader() as conn:
        return allowed(conn, assignment_id, ctx.read_actor(conn), ctx.clock.today())


def overview(ctx: "Context") -> list[dict[str, Any]]:
    """Per department and state the reader may see: how many assignments, and how many of
    the open ones are red, yellow and green today (one aggregate read: queries.light_counts)."""
    from workflow.access.scope import visible_departments
    from workflow.lifecycle.queries import light_counts

    with ctx.reader() as conn:
        return light_counts(conn, ctx.clock.today(), visible_departments(ctx.read_viewer(conn)), _lights(ctx))


def history(ctx: "Context", assignment_id: int) -> list[dict[str, Any]]:
    """Every event of one assignment the reader may see, oldest first."""
    from workflow.access.scope import visible_departments
    from workflow.lifecycle.queries import history as read_history

    with ctx.reader() as conn:  # Core only, as list_tasks
        return read_history(conn, assignment_id, visible_departments(ctx.read_viewer(conn)))


def attachment(ctx: "Context", assignment_id: int, name: str | None = None) -> "Content":
    """One attachment of an assignment the reader may see, to stream: its name, size,
    sha256 and an iterator of its bytes (the CLI writes them to a file, the web front end
    sends them). `name` picks one by its label (the latest of that name); without it the
    assignment must have exactly one distinct attachment name."""
    from sqlalchemy import select

    from db import tables
    from workflow.access.scope import require_item, visible_departments
    from workflow.lifecycle.attachments import Content, read_chunks, records

    with ctx.reader() as conn:
        visible = visible_departments(ctx.read_viewer(conn))
        a = tables.assignment
        found = conn.execute(select(a.c.department_id).where(a.c.id == assignment_id)).first()
        require_item(visible, assignment_id, found.department_id if found else None)
        rows = records(conn, assignment_id)
    if not rows:
        raise NotFound(f"事项 {assignment_id} 没有附件。")
    names = list(dict.fromkeys(r.name for r in rows))
    if name is None:
        if len(names) > 1:
            raise BadInput(f"事项 {assignment_id} 有 {len(names)} 个附件：{'、'.join(names)}；请用 --name 指定一个。")
        name = names[0]
    chosen = [r for r in rows if r.name == name]
    if not chosen:
        raise NotFound(f"事项 {assignment_id} 没有名为“{shown(name)}”的附件；现有：{'、'.join(names)}。")
    row = chosen[-1]
    return Content(row.name, row.size, row.sha256, read_chunks(ctx.engine(), row.sha256))


def collect_attachment_garbage(ctx: "Context", dry_run: bool = False) -> "Garbage":
    """Remove stored attachment content no record uses (admins)."""
    from workflow.lifecycle.attachments import collect_garbage

    with ctx.session() as s:
        ctx.require(s, states.administers, "无权清理附件存储：只有管理员可以清理。")
    return collect_garbage(ctx.engine(), dry_run)


def review_queue(ctx: "Context", limit: int | None = None) -> list[dict[str, Any]]:
    """Submissions and delay requests waiting for the office, oldest first (the first
    `limit` of them)."""
    from workflow.access.scope import visible_departments
    from workflow.lifecycle.queries import review_queue as read_queue

    with ctx.reader() as conn:  # Core only, as list_tasks
        return read_queue(conn, ctx.clock.today(), visible_departments(ctx.read_viewer(conn)),
                          _lights(ctx), limit)


def _lights(ctx: "Context"):
    from workflow.ledger.lights import lights_for

    return lights_for(ctx)


def _named_department(conn: "Connection", name: str) -> Any:
    """The department a typed name means (the directory's one rule, names.match_department),
    matched on the Core rows of the directory: no ORM class is built for a listing."""
    from sqlalchemy import select

    from db import tables
    from workflow.directory.names import match_department

    d = tables.department
    return match_department(name, conn.execute(select(d.c.id, d.c.name, d.c.aliases).order_by(d.c.id)).all())


def _named_plan(conn: "Connection", ref: str) -> int:
    """find_plan's id, on an ORM session over `conn` (built only when --plan is given)."""
    from sqlmodel import Session

    from workflow.plans.store import find_plan

    with Session(bind=conn) as session:
        return find_plan(session, ref).id



# ---------------------------------------------------------------- the event chain (audit)
def verify_events(ctx: "Context", anchor: Any = None) -> Any:
    """Recompute every plan's hash chain, replay every assignment against its events, check
    the people against the record and, given a parsed anchor, prove the records before it
    unchanged (any signed-in user). Returns the audit report."""
    from workflow.lifecycle.audit import examine

    with ctx.session() as s:
        ctx.viewer(s)
    with ctx.engine().connect() as conn:
        return examine(conn, anchor=anchor)


def verify_result(report: Any) -> dict[str, Any]:
    """`audit verify --json`'s keys for a report, with every problem found in reading order
    (`problems`) and the one sentence a person reads (`message`): the CLI and the web say
    the same thing."""
    found = [b.problem for b in report.breaks] + report.records + report.people
    if report.anchor:
        found += report.anchor.problems
    result = {"checked": report.checked, "ok": report.ok,
              "breaks": [{"plan": b.plan_id, "event": b.event_id, "problem": b.problem} for b in report.breaks],
              "records": report.records, "people": report.people,
              "anchor": None if report.anchor is None else {
                  "made_on": report.anchor.made_on, "plans": report.anchor.plans,
                  "events": report.anchor.events, "problems": report.anchor.problems,
                  "notes": report.anchor.notes},
              "problems": found}
    if found:
        shown_ = found[:5] + ([f"另有 {len(found) - 5} 处问题（用 --json 查看全部）"] if len(found) > 5 else [])
        result["message"] = "办理记录校验失败：" + "；".join(shown_) + "。"
    else:
        line = f"已校验 {report.checked} 条办理记录：哈希链完整，事项的状态、时限和版本与办理记录一致，办理人与记录相符。"
        if report.anchor:
            a = report.anchor
            line += (f"锚点（{a.made_on}，{a.plans} 个计划共 {a.events} 条记录）之前的记录未被改写"
                     + (f";{';'.join(a.notes)}" if a.notes else "") + "。")
        result["message"] = line
    return result


def anchor_line(ctx: "Context") -> str:
    """The anchor: every plan's chain head and count on one line, to keep outside the database."""
    from workflow.lifecycle.audit import anchor

    with ctx.session() as s:
        ctx.viewer(s)
    with ctx.engine().connect() as conn:
        return anchor(conn, ctx.clock.today()).line


def export_events(ctx: "Context", stream: Any) -> int:
    """Every event in order as JSON Lines to `stream` (roles that read all); how many."""
    from workflow.access.scope import EXPORT_EVENTS
    from workflow.lifecycle.audit import export

    with ctx.session() as s:  # every department's records: only roles that read all
        ctx.require(s, states.reads_all, EXPORT_EVENTS)
    with ctx.engine().connect() as conn:
        return export(conn, stream)


def calendar(ctx: "Context", dept: str | None = None, plan: str | None = None) -> bytes:
    """The open assignments the reader may see as an .ics calendar (staff and heads: their
    own department's)."""
    from workflow.directory.store import closest_names, find_department, list_departments
    from workflow.plans.store import find_plan
    from workflow.access.scope import visible_departments
    from workflow.reports.ics import export_calendar

    with ctx.session() as session:
        viewer = ctx.viewer(session)
        visible = visible_departments(viewer)
        department_id = plan_id = None
        if dept:
            found = find_department(session, dept)
            if found is None:
                near = closest_names(dept, list_departments(session))
                hint = f"是否指“{'”“'.join(near)}”?" if near else "可用 duban dept list 查看处室名录。"
                raise NotFound(f"处室“{shown(dept)}”不存在；{hint}")
            department_id = found.id
            if visible is not None and department_id not in visible:
                raise NotPermitted(f"{viewer.name}只能导出本处室的日历；审核人、督查和管理员可以导出所有处室。")
        elif visible is not None:  # staff and heads: their own department's deadlines
            if not visible:
                raise NotPermitted(f"{viewer.name}不属于任何处室，没有可导出的事项。")
            department_id = next(iter(visible))
        if plan:
            plan_id = find_plan(session, plan).id
        return export_calendar(session, ctx.clock.today(), department_id=department_id, plan_id=plan_id,
                               domain=ctx.config().mail.id_domain)
