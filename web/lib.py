"""The web front end's one seam to the workflow library.

Every page and every API route calls these functions and nothing else of workflow/:
when a library service moves or appears, only this file changes. Nothing here decides
who may do what: permissions, read scope, separation of duties, lights and refusal
sentences are the library's (states/ and workflow/); this file passes the signed-in
user along and returns what the library answers.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import case, func, select

import states
from db import tables
from workflow.context import Context as App, Person
from workflow.errors import BadInput, NotFound, NotPermitted, Refused, shown


@dataclass
class Upload:
    """An uploaded file, already written to a private temporary file."""

    name: str
    path: Path


# ---------------------------------------------------------------- who is asking
_TOKENS: dict[str, tuple[int, str]] = {}  # sha256(token) -> (user id, token hash it matched)
_TOKENS_LOCK = threading.Lock()


def authenticate(app: App, token: str | None) -> Person:
    """The active user a bearer token belongs to (the library's check, once per token per
    process: scrypt is slow on purpose). Every later request re-reads the user row, so a
    rotated token or a revoked user is refused at once."""
    from workflow.access.tokens import check_token  # TODO(lib): workflow.access.tokens

    key = hashlib.sha256((token or "").encode("utf-8", "replace")).hexdigest()
    with app.reader() as conn:
        known = _TOKENS.get(key)
        if known is not None:
            person = person_by_id(conn, known[0])
            if person is not None and person.active and person.token_hash == known[1]:
                return person
        person = check_token(token, lambda user_id: person_by_id(conn, user_id))
    with _TOKENS_LOCK:
        if len(_TOKENS) > 10_000:
            _TOKENS.clear()
        _TOKENS[key] = (person.id, person.token_hash)
    return person


def person_by_id(conn, user_id: int) -> Person | None:
    t = tables.app_user
    row = conn.execute(select(t.c.id, t.c.name, t.c.roles, t.c.department_id, t.c.active, t.c.token_hash)
                       .where(t.c.id == user_id)).first()
    return Person(row.id, row.name, row.roles, row.department_id, row.active, row.token_hash) if row else None


def as_user(app: App, person: Person) -> App:
    """The App the library runs a request with: the same engine, acting as `person`
    (already authenticated by token or session above)."""
    return dataclasses.replace(app, actor_name=person.name, authenticate=False, token=None, _user_id=person.id)


def me(app: App, person: Person) -> dict[str, Any]:
    """`duban whoami --json`'s keys (without token_from: a browser has no token file)."""
    from workflow.directory.store import user_views  # TODO(lib): workflow.directory

    with app.session() as s:
        view = next(v for v in user_views(s) if v.id == person.id)
    return {"id": view.id, "name": view.name, "email": view.email, "department": view.department,
            "roles": view.roles}


def department_name(app: App, department_id: int | None) -> str | None:
    if department_id is None:
        return None
    t = tables.department
    with app.reader() as conn:
        return conn.execute(select(t.c.name).where(t.c.id == department_id)).scalar_one_or_none()


def reads_all(person: Person) -> bool:
    return states.reads_all(person.roles)


def manages_plans(person: Person) -> bool:
    return states.manages_plans(person.roles)


def administers(person: Person) -> bool:
    return states.administers(person.roles)


# ---------------------------------------------------------------- reads
def list_tasks(app: App, person: Person, *, dept: str | None = None, state: str | None = None,
               overdue: bool = False, mine: bool = False, plan: str | None = None,
               page: int = 1, per_page: int = 50) -> tuple[list[dict[str, Any]], int]:
    """`task list` with its filters, one page of it in the CLI's order, and the total.

    The CLI's order (red, yellow, green by due date, then the closed ones) is, for open
    states, the due-date order itself (a light depends only on how far off the due date
    is: workflow/ledger/lights), so a page is `ORDER BY closed, due, seq, id LIMIT …
    OFFSET …` and the database reads one page, not the whole list. The filters, their
    refusals and the views are the library's (lifecycle.service.list_tasks does the same
    for the whole list; tests/test_web_api.py checks the two orders agree)."""
    # TODO(lib): a paginated lifecycle.service.list_tasks; this reuses its pieces.
    from workflow.access.scope import check_visible, visible_departments
    from workflow.ledger.lights import lights_for
    from workflow.lifecycle import queries
    from workflow.lifecycle.service import _named_department, _named_plan

    if state and state not in states.STATE_BY_NAME:
        queries.list_assignments(None, app.clock.today(), state=state)  # raises the library's sentence
    if mine and dept:
        raise BadInput("--mine 与 --dept 只能二选一。")
    a, t = tables.assignment, tables.task
    today = app.clock.today()
    visible = visible_departments(person)
    conditions = []
    with app.reader() as conn:
        if mine:
            if person.department_id is None:
                raise BadInput(f"{person.name}不属于任何处室,--mine 无法使用;请改用 --dept。")
            conditions.append(a.c.department_id == person.department_id)
        elif dept:
            found = _named_department(conn, dept)
            if found is None:
                raise NotFound(f"处室“{shown(dept)}”不存在;可用 duban dept list 查看。")
            check_visible(person, visible, found.id, "事项")
            conditions.append(a.c.department_id == found.id)
        if plan:
            conditions.append(a.c.plan_id == _named_plan(conn, plan))
        if visible is not None:
            conditions.append(a.c.department_id.in_(sorted(visible)))
        if state:
            conditions.append(a.c.state == state)
        if overdue:
            conditions += [a.c.due_date < today, a.c.state.in_(states.OPEN_STATES)]
        total = conn.execute(select(func.count()).select_from(a).where(*conditions)).scalar_one()
        closed = case((a.c.state.in_(states.OPEN_STATES), 0), else_=1)
        q = (queries._base().where(*conditions).order_by(closed, a.c.due_date, t.c.seq, a.c.id)
             .limit(per_page).offset((page - 1) * per_page))
        light = lights_for(app)
        return [queries._view(r, today, light) for r in conn.execute(q)], total


def show_task(app: App, person: Person, assignment_id: int) -> dict[str, Any]:
    from workflow.lifecycle import service

    return service.show(as_user(app, person), assignment_id)


def task_history(app: App, person: Person, assignment_id: int) -> list[dict[str, Any]]:
    from workflow.lifecycle import service

    return service.history(as_user(app, person), assignment_id)


def review_list(app: App, person: Person) -> list[dict[str, Any]]:
    from workflow.lifecycle import service

    return service.review_queue(as_user(app, person))


def review_first(app: App, person: Person, limit: int) -> list[dict[str, Any]]:
    """The first `limit` items of the review queue (the front page shows a few; the count
    comes from overview()): review_queue's own query and view, with a LIMIT."""
    from workflow.access.scope import visible_departments  # TODO(lib): a paginated review-queue read
    from workflow.ledger.lights import lights_for
    from workflow.lifecycle import queries

    a = tables.assignment
    first = select(a.c.id).where(a.c.state.in_(("submitted", "delay_requested")))
    visible = visible_departments(person)
    if visible is not None:
        first = first.where(a.c.department_id.in_(sorted(visible)))
    first = first.order_by(a.c.updated_at, a.c.id).limit(limit)  # narrow rows sort fast; join only these
    q = queries._base().where(a.c.id.in_(first)).order_by(a.c.updated_at, a.c.id)
    today, light = app.clock.today(), lights_for(app)
    with app.reader() as conn:
        return [queries._view(r, today, light) | {"waiting_since": r.updated_at.isoformat(timespec="seconds")}
                for r in conn.execute(q)]


def overdue_first(app: App, person: Person, limit: int) -> list[dict[str, Any]]:
    """The most overdue items first (task list --overdue), at most `limit`."""
    return list_tasks(app, person, overdue=True, per_page=limit)[0]


def allowed_triggers(app: App, person: Person, view: dict[str, Any]) -> list[str]:
    """The triggers `person` may fire on this assignment now: the state machine's valid
    ones that its permission rule does not refuse (states.permission_problem, with the
    row's last actors as fire() reads them: states.last_actor_columns)."""
    from db.models import Assignment  # TODO(lib): lifecycle.allowed_triggers, if it comes

    a = Assignment.__table__
    columns = states.last_actor_columns()
    wanted = sorted({c for cols in columns.values() for c in cols})
    with app.reader() as conn:
        row = conn.execute(select(a.c.department_id, *(a.c[c] for c in wanted)).where(a.c.id == view["id"])).first()
    if row is None:
        return []
    row = row._mapping
    last = {trigger: {row[c] for c in cols if row[c]} for trigger, cols in columns.items()}
    actor = states.Actor(person.id, frozenset(person.roles), person.department_id)
    return [t for t in states.triggers_from(view["state"])
            if states.permission_problem(states.TRANSITION_BY_TRIGGER[t], actor, row["department_id"], last) is None
            and _preconditions_hold(app, states.TRANSITION_BY_TRIGGER[t], view)]


def _preconditions_hold(app: App, transition: Any, view: dict[str, Any]) -> bool:
    """The transition's validators that judge the row itself (督办升级 needs an overdue item)
    and refuse it as an invalid move; the ones that judge typed input are left to the form."""
    from workflow.errors import InvalidMove
    from workflow.lifecycle.engine import _VALIDATORS  # TODO(lib): a public "may fire now" check

    row = {"id": view["id"], "due_date": dt.date.fromisoformat(view["due_date"])}
    for name in transition.validators:
        try:
            _VALIDATORS[name](transition, {}, row, app.clock.today())
        except InvalidMove:
            return False
        except Exception:  # noqa: BLE001 - a check of the typed input: judged when it is sent
            pass
    return True


def attachment_file(app: App, person: Person, assignment_id: int, sha256: str) -> tuple[str, Path]:
    """(name, stored file) of an attachment of an assignment the person may see."""
    show_task(app, person, assignment_id)  # the read rule: absent or not visible is "not found"
    t = tables.attachment
    with app.reader() as conn:
        row = conn.execute(select(t.c.name, t.c.stored_path).where(
            t.c.assignment_id == assignment_id, t.c.sha256 == sha256).limit(1)).first()
    if row is None:
        raise NotFound(f"事项 {assignment_id} 没有这个附件。")
    path = Path(row.stored_path)
    if not path.is_absolute():
        path = data_dir(app) / "attachments" / path
    return row.name, path


def data_dir(app: App) -> Path:
    return Path(app.data_dir)


# ---------------------------------------------------------------- moves
def transition(app: App, person: Person, assignment_id: int, trigger: str, fields: dict[str, Any],
               uploads: list[Upload] | None = None, expected_version: int | None = None,
               on_behalf: str | None = None) -> dict[str, Any]:
    """Fire one trigger as `person` (lifecycle.service.transition); returns the assignment as
    `task show --json` shows it."""
    from workflow.lifecycle import service

    if trigger not in states.TRANSITION_BY_TRIGGER:
        raise BadInput(f"未知操作“{shown(trigger)}”;可用操作:{'、'.join(states.TRANSITION_BY_TRIGGER)}。")
    named = []
    for up in uploads or []:  # the stored label is the uploaded file's own name
        target = up.path.with_name(_safe_name(up.name))
        up.path.rename(target)
        up.path = target
        named.append(target)
    runner = as_user(app, person)
    service.transition(runner, assignment_id, trigger, _fields(fields), named, on_behalf=on_behalf,
                       expected_version=expected_version)
    return service.show(runner, assignment_id)


def _safe_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name.strip() or "附件"
    return base[:200]


def _fields(values: dict[str, Any]):
    from workflow.clock import parse_date
    from workflow.lifecycle.engine import Fields

    known = {"summary", "comment", "reason", "until"}
    unknown = [k for k in values if k not in known]
    if unknown:
        raise BadInput(f"字段“{'、'.join(shown(k) for k in unknown)}”无法识别,可用字段:summary、comment、reason、until。")
    text = {k: (str(values[k]) if values.get(k) not in (None, "") else None) for k in ("summary", "comment", "reason")}
    until = values.get("until")
    return Fields(summary=text["summary"], comment=text["comment"], reason=text["reason"],
                  until=parse_date(str(until), "until") if until else None)


def bulk_approve(app: App, person: Person, ids: list[int] | None = None, department: str | None = None,
                 comment: str | None = None) -> dict[str, Any]:
    """lifecycle.service.approve_all: the given ids (or every submitted one, optionally of one
    department); one event each; what fire() refuses is skipped with its sentence."""
    from workflow.lifecycle import service

    report = service.approve_all(as_user(app, person), department or None, comment or None, ids=ids)
    return {"approved": report.approved, "skipped": [{"id": i, "reason": r} for i, r in report.skipped]}


# ---------------------------------------------------------------- plans
def plan_list(app: App, person: Person) -> list[dict[str, Any]]:
    from workflow.plans.store import list_plans  # TODO(lib): plans service

    with app.session() as s:
        return _jsonable(list_plans(s))


def plan_import(app: App, person: Person, upload: Upload, *, dry_run: bool, year: int | None) -> dict[str, Any]:
    """`plan import [--dry-run] --json`: the plan as understood, its warnings, and its id once stored."""
    from commands import plan as plan_cmds  # TODO(lib): plans.import_plan(ctx, source, options)

    runner = as_user(app, person)
    if not dry_run:
        plan_cmds._require_office(runner)
    path = upload.path.with_name(_safe_name(upload.name))
    upload.path.rename(path)
    plan = plan_cmds.load_plan_file(path, year)
    plan.warnings += plan_cmds._publish_warnings(runner, plan)
    result = _jsonable(plan.to_dict()) | {"warnings": plan.warnings, "dry_run": dry_run}
    if not dry_run:
        from workflow.plans.store import store_plan

        with runner.session() as session:
            row = store_plan(session, plan, app.clock)
        result["id"] = row.id
    return result


def pending_groups(app: App, person: Person, ref: str) -> tuple[list[Any], list[str]]:
    """The "相关" groups the office must name before publishing, and the directory's names."""
    from workflow.directory.store import list_departments  # TODO(lib): plans.publish service
    from workflow.plans.store import find_plan
    from workflow.plans.publish import check_can_publish, pending_groups as pending

    with as_user(app, person).session() as session:
        check_can_publish(as_user(app, person).actor(session))
        groups = pending(session, find_plan(session, ref), {})
        names = [d.name for d in list_departments(session)]
    return groups, names


def plan_publish(app: App, person: Person, ref: str, resolution: dict) -> dict[str, Any]:
    from workflow.lifecycle.notify import Notifier  # TODO(lib): plans.publish(ctx, plan, resolution)
    from workflow.plans.store import find_plan
    from workflow.plans.publish import publish

    runner = as_user(app, person)
    with runner.session() as session:
        actor = runner.actor(session)
        plan = find_plan(session, ref)
        report = publish(session, plan, actor, app.clock, resolution, None,
                         Notifier(app.config().templates_dir))
    return _jsonable({"plan": report.plan_id, "created": report.created, "existing": report.existing,
                      "per_department": report.per_department,
                      "summary": [dataclasses.asdict(s) for s in report.summary]})


def plan_export(app: App, person: Person, ref: str) -> tuple[str, str]:
    """(file name, canonical YAML) of a plan."""
    import yaml

    from workflow.plans.store import find_plan, plan_of  # TODO(lib): plans service

    with app.session() as session:
        row = find_plan(session, ref)
        plan = plan_of(row)
    text = yaml.safe_dump(plan.to_dict(), allow_unicode=True, sort_keys=False, width=1000)
    return f"plan-{row.id}.yaml", text


# ---------------------------------------------------------------- ledger, report, audit
LEDGER_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8"}


def ledger(app: App, person: Person, *, plan: str | None = None, quarter: str | None = None,
           as_of: str | None = None, by: str = "task", dept: str | None = None):
    from workflow.clock import parse_date
    from workflow.ledger.service import LedgerQuery, build

    if by not in ("task", "department"):
        raise BadInput(f"by 的值“{shown(by)}”无效,应为 task(按任务)或 department(按处室)。")
    return build(as_user(app, person), LedgerQuery(plan=plan or None, quarter=quarter or None,
                                                   as_of=parse_date(as_of, "as_of") if as_of else None,
                                                   dept=dept or None))


def ledger_file(ledger_obj, fmt: str, by: str) -> bytes:
    """The ledger rendered by the library's writers (workflow/reports)."""
    if fmt not in LEDGER_TYPES:
        raise BadInput(f"format 的值“{shown(fmt)}”无效,应为:{'、'.join(LEDGER_TYPES)}。")
    if fmt == "json":
        return json.dumps(_jsonable(ledger_obj.as_dict()), ensure_ascii=False).encode("utf-8")
    import tempfile

    from workflow.reports import write_ledger

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"ledger.{fmt}"
        write_ledger(ledger_obj, fmt, out, by)
        return out.read_bytes()


def annual_report(app: App, person: Person, plan: str | None, fmt: str, as_of: str | None) -> bytes:
    from workflow.clock import parse_date  # TODO(lib): reports annual service
    from commands.report import _render, default_as_of
    from workflow.ledger.compute import compute_ledger
    from workflow.plans.store import find_plan

    if fmt not in ("md", "html", "docx"):
        raise BadInput(f"format 的值“{shown(fmt)}”无效,应为 md、html 或 docx。")
    runner = as_user(app, person)
    with runner.session() as session:
        runner.require(session, states.reads_all, "无权生成年度报告:报告涉及所有处室,只有审核人、督查和管理员可以生成。")
        row = find_plan(session, plan)
        day = parse_date(as_of, "as_of") if as_of else default_as_of(app.clock.today(), row.year)
        ledger_obj = compute_ledger(session, row.id, day)
    if not ledger_obj.rows:
        raise Refused(f"计划 {row.id} 截至{day.year}年{day.month}月{day.day}日没有已下发的事项,无法统计落实情况。")
    data = _render(ledger_obj, fmt, app.config().templates_dir)
    return data if isinstance(data, bytes) else data.encode("utf-8")


def audit_verify(app: App, person: Person) -> dict[str, Any]:
    """`audit verify --json`'s keys, and the library's sentence for the first break."""
    from workflow.lifecycle.audit import verify  # TODO(lib): audit service

    with app.reader() as conn:
        checked, breaks = verify(conn)
    result = {"checked": checked, "ok": not breaks,
              "breaks": [{"plan": b.plan_id, "event": b.event_id, "problem": b.problem} for b in breaks]}
    if breaks:
        first = breaks[0]
        where = f"第 {first.event_id} 号记录" if first.event_id else "链尾"
        result["message"] = f"办理记录校验失败:计划 {first.plan_id} 的{where}{first.problem}。"
    else:
        result["message"] = f"已校验 {checked} 条办理记录,哈希链完整。"
    return result


def audit_export(app: App, person: Person) -> str:
    from workflow.access.scope import EXPORT_EVENTS
    from workflow.lifecycle.audit import export  # TODO(lib): audit service

    runner = as_user(app, person)
    with runner.session() as s:
        runner.require(s, states.reads_all, EXPORT_EVENTS)
    out = io.StringIO()
    with app.reader() as conn:
        export(conn, out)
    return out.getvalue()


# ---------------------------------------------------------------- users and departments
def user_list(app: App, person: Person) -> list[dict[str, Any]]:
    from workflow.directory.store import user_views  # TODO(lib): directory service

    with app.session() as s:
        return [dataclasses.asdict(v) for v in user_views(s)]


def department_names(app: App) -> list[str]:
    """The directory's names, for a filter's choices (a Core read: no ORM objects)."""
    d = tables.department
    with app.reader() as conn:
        return list(conn.execute(select(d.c.name).order_by(d.c.id)).scalars())


def department_list(app: App) -> list[dict[str, Any]]:
    from workflow.directory.store import KINDS, list_departments

    with app.session() as s:
        return [d.model_dump() | {"kind_label": KINDS.get(d.kind, d.kind)} for d in list_departments(s)]


def user_add(app: App, person: Person, name: str, email: str, roles: list[str], dept: str | None) -> tuple[dict, str]:
    from commands.auth import add_user_with_token  # TODO(lib): access service

    user, token = add_user_with_token(as_user(app, person), name, email, roles, dept or None)
    return {"id": user.id, "name": user.name, "email": user.email, "roles": user.roles}, token


def user_revoke(app: App, person: Person, name: str) -> None:
    from workflow.access.scope import REVOKE_USER
    from workflow.access.tokens import revoke  # TODO(lib): access service
    from commands.auth import _find_user

    runner = as_user(app, person)
    with runner.session() as s:
        runner.require(s, states.administers, REVOKE_USER)
        revoke(s, _find_user(s, name))


def user_rotate(app: App, person: Person, name: str) -> str:
    from workflow.access.tokens import issue_token  # TODO(lib): access service
    from commands.auth import _find_user, _not_admin

    runner = as_user(app, person)
    with runner.session() as s:
        me_ = runner.viewer(s)
        target = _find_user(s, name)
        if target.id != me_.id and not states.administers(me_.roles):
            raise _not_admin(me_)
        target.active = True
        return issue_token(s, target)


def department_add(app: App, person: Person, name: str, email: str | None, kind: str) -> None:
    from workflow.access.scope import DIRECTORY_ADMIN  # TODO(lib): directory service
    from workflow.directory.store import add_department

    runner = as_user(app, person)
    with runner.session() as s:
        runner.require(s, states.administers, DIRECTORY_ADMIN)
        add_department(s, name, email or None, [], kind)


def delegation_add(app: App, person: Person, to: str, start: str, until: str) -> None:
    from workflow.clock import parse_date  # TODO(lib): directory service
    from workflow.directory.store import add_delegation

    runner = as_user(app, person)
    with runner.session() as s:
        add_delegation(s, runner.actor(s), to, parse_date(start, "from"), parse_date(until, "until"), app.clock)


# ---------------------------------------------------------------- the front page
_FRONT: dict[tuple, Any] = {}
_FRONT_LOCK = threading.Lock()


def front_page_cached(app: App, person: Person, kind: str, compute) -> Any:
    """The front page's reads, kept per process until the record changes: every change of
    an assignment writes an event and moves its plan's chain head (one transaction), so
    the set of chain heads is a watermark of the whole record. A cached answer is reused
    only for the same watermark, the same day and the same read scope."""
    from db.models import ChainHead
    from workflow.lifecycle.queries import visible_departments

    h = ChainHead.__table__
    with app.reader() as conn:
        mark = tuple(conn.execute(select(h.c.plan_id, h.c.last_hash).order_by(h.c.plan_id)).all())
    visible = visible_departments(person)
    key = (kind, app.db_url, app.clock.today(), None if visible is None else tuple(sorted(visible)), mark)
    with _FRONT_LOCK:
        if key in _FRONT:
            return _FRONT[key]
    value = compute()
    with _FRONT_LOCK:
        if len(_FRONT) > 256:
            _FRONT.clear()
        _FRONT[key] = value
    return value


def overview(app: App, person: Person) -> dict[str, Any]:
    """Counts by state and, per department, how many assignments have each light (the
    library's light function, applied to (department, state, due date) groups)."""
    from workflow.access.scope import visible_departments
    from workflow.ledger.lights import lights_for

    a, d = tables.assignment, tables.department
    visible = visible_departments(person)
    q = (select(a.c.department_id, a.c.state, a.c.due_date, func.count().label("n"))
         .group_by(a.c.department_id, a.c.state, a.c.due_date))
    if visible is not None:
        q = q.where(a.c.department_id.in_(sorted(visible)))
    today, light = app.clock.today(), lights_for(app)
    by_state: dict[str, int] = {}
    per_dept: dict[str, dict[str, int]] = {}
    with app.reader() as conn:
        names = dict(conn.execute(select(d.c.id, d.c.name)).all())
        for dept_id, state, due, n in conn.execute(q):
            by_state[state] = by_state.get(state, 0) + n
            colour = light(state, due, today) or "closed"
            bucket = per_dept.setdefault(names.get(dept_id, ""), {"red": 0, "yellow": 0, "green": 0, "closed": 0})
            bucket[colour] += n
    rows = sorted(per_dept.items(), key=lambda kv: (-kv[1]["red"], -kv[1]["yellow"], kv[0]))
    return {"by_state": [{"state": s.name, "label": s.label, "count": by_state.get(s.name, 0)}
                         for s in states.STATES],
            "departments": [{"name": k, **v, "total": sum(v.values())} for k, v in rows]}


def _jsonable(value: Any) -> Any:
    """Dates as ISO strings (what `--json` prints)."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


jsonable = _jsonable


# ---------------------------------------------------------------- approve from the mail
LINK_TRIGGERS = ("approve", "send_back", "approve_delay", "reject_delay")


def link_view(app: App, secret: str) -> tuple[dict[str, Any], str, list[str]]:
    """What a reviewer's mail link opens: (the item, the reviewer's name, the moves it offers).
    Changes nothing; refuses an unknown, used or expired link with the library's sentence."""
    from workflow import mail_links

    with app.reader() as conn:
        link = mail_links.find(conn, secret)
        person = person_by_id(conn, link.user_id)
    if person is None or not person.active:
        raise NotPermitted("链接所属的审核人已停用,链接失效;请登录督办网页办理。")
    view = show_task(app, person, link.assignment_id)
    offered = [t for t in allowed_triggers(app, person, view) if t in LINK_TRIGGERS]
    return view, person.name, offered


def link_transition(app: App, secret: str, trigger: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Make the move a mail link offers, as its reviewer; the link is spent in the same
    transaction, so it works once (a second click, even at the same moment, is refused)."""
    from db.models import User
    from workflow import mail_links
    from workflow.lifecycle.engine import fire
    from workflow.lifecycle.service import notifier

    if trigger not in LINK_TRIGGERS:
        raise BadInput(f"邮件链接只能用于{'、'.join(states.trigger_label(t) for t in LINK_TRIGGERS)}。")
    with app.session() as session:
        link = mail_links.find(session.connection(), secret)
        user = session.get(User, link.user_id)
        if user is None or not user.active:
            raise NotPermitted("链接所属的审核人已停用,链接失效;请登录督办网页办理。")
        fire(session, link.assignment_id, trigger, user, clock=app.clock, fields=_fields(fields),
             notifier=notifier(app), before_write=lambda: mail_links.spend(session.connection(), link))
        person = person_by_id(session.connection(), user.id)
    return show_task(app, person, link.assignment_id)
