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

from sqlalchemy import select

import states
from db import tables
from workflow.context import Context as App, Person, person_by_id
from workflow.errors import BadInput, DubanError, NotFound, NotPermitted, shown


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
    from workflow.access.tokens import check_token

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


def person_of(app: App, caller: Person | str) -> Person:
    """The caller as a Person: one the front end already checked, or a bearer token checked
    here (in the worker thread of the write: one thread hop for the request, not two)."""
    return caller if isinstance(caller, Person) else authenticate(app, caller)


def as_user(app: App, person: Person) -> App:
    """The App the library runs a request with: the same engine, acting as `person`
    (already authenticated by token or session above)."""
    return dataclasses.replace(app, actor_name=person.name, authenticate=False, token=None, _user_id=person.id,
                               known_actor=person)


def me(app: App, person: Person) -> dict[str, Any]:
    """`duban whoami --json`'s keys (without token_from: a browser has no token file)."""
    from workflow.access import service

    view = service.whoami(as_user(app, person))
    return {"id": view.id, "name": view.name, "email": view.email, "department": view.department,
            "roles": view.roles}


def department_name(app: App, department_id: int | None) -> str | None:
    if department_id is None:
        return None
    t = tables.department
    with app.reader() as conn:
        return conn.execute(select(t.c.name).where(t.c.id == department_id)).scalar_one_or_none()


_LIGHTS: dict[int, tuple[Any, Any]] = {}


def lights(app: App) -> Any:
    """The library's lights for this server's configuration, built once per process: its
    working-day calendar caches every date it has answered (workflow/calendar)."""
    from workflow.ledger.lights import lights_for

    config = app.config()
    known = _LIGHTS.get(id(config))
    if known is None or known[0] is not config:
        known = _LIGHTS[id(config)] = (config, lights_for(app))
    return known[1]


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
    """`task list` with its filters: one page of it in the CLI's order, and the total
    (lifecycle.service.list_tasks reads that page only)."""
    from workflow.lifecycle import service

    found = service.list_tasks(as_user(app, person), service.TaskQuery(dept=dept or None, state=state or None,
                                                                        overdue=overdue, mine=mine, plan=plan or None),
                               page, per_page)
    return found.items, found.total


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
    comes from overview())."""
    from workflow.lifecycle import service

    return service.review_queue(as_user(app, person), limit)


def overdue_first(app: App, person: Person, limit: int) -> list[dict[str, Any]]:
    """The most overdue items first (task list --overdue), at most `limit`."""
    return list_tasks(app, person, overdue=True, per_page=limit)[0]


def allowed_triggers(app: App, person: Person, view: dict[str, Any]) -> list[str]:
    """The triggers `person` may fire on this assignment now (lifecycle.service.allowed_triggers:
    fire()'s own checks that need no typed input)."""
    from workflow.lifecycle import service

    return service.allowed_triggers(as_user(app, person), view["id"])


async def save_upload(value: Any, folder: Path) -> Upload:
    """An uploaded file saved under `folder`, refused as soon as it passes the library's
    attachment limit (counted while it streams in, not trusted from its headers)."""
    from workflow.lifecycle.attachments import DEFAULT_MAX_BYTES

    folder.mkdir()
    path = folder / "upload"
    size = 0
    with open(path, "wb") as out:
        while chunk := await value.read(1 << 20):
            size += len(chunk)
            if size > DEFAULT_MAX_BYTES:
                raise BadInput(f"附件“{value.filename[:40]}”超过 {DEFAULT_MAX_BYTES // (1024 * 1024)} MB 的上限。")
            out.write(chunk)
    return Upload(value.filename, path)


def attachment_content(app: App, person: Person, assignment_id: int, sha256: str) -> Any:
    """An attachment of an assignment the person may see, picked by its sha256, as the
    library streams it (lifecycle.service.attachment: name, size, sha256, chunks)."""
    from workflow.lifecycle.service import attachment

    show_task(app, person, assignment_id)  # the read rule: absent or not visible is "not found"
    t = tables.attachment
    with app.reader() as conn:
        row = conn.execute(select(t.c.name).where(
            t.c.assignment_id == assignment_id, t.c.sha256 == sha256).order_by(t.c.id.desc()).limit(1)).first()
    if row is None:
        raise NotFound(f"事项 {assignment_id} 没有这个附件。")
    content = attachment(as_user(app, person), assignment_id, row.name)
    if content.sha256 != sha256:
        raise NotFound(f"事项 {assignment_id} 没有这个附件。")
    return content


def data_dir(app: App) -> Path:
    return Path(app.data_dir)


# ---------------------------------------------------------------- moves
def transition(app: App, person: Person, assignment_id: int, trigger: str, fields: dict[str, Any],
               uploads: list[Upload] | None = None, expected_version: int | None = None,
               on_behalf: str | None = None) -> dict[str, Any]:
    """Fire one trigger as `person` (lifecycle.service.transition); returns the assignment as
    `task show --json` shows it."""
    from workflow.lifecycle import service

    _check_trigger(trigger)
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


@dataclass
class Asked:
    """What one request asks of transitions(): a trigger without files, as transition() takes it."""

    caller: Person | str  # checked already, or a bearer token still to check
    assignment_id: int
    trigger: str
    fields: dict[str, Any]
    expected_version: int | None = None
    on_behalf: str | None = None


def transitions(app: App, asked: list[Asked]) -> list[dict[str, Any] | DubanError]:
    """What transition() answers each request (the view after its move, or its refusal, in
    its place), the moves committed together (lifecycle.service.transition_each): the
    SQLite writer of the server hands over the requests that queued up behind the last
    write. A failure of the database fails them all, and is raised."""
    from workflow.lifecycle import service

    outcomes: list[Any] = [None] * len(asked)
    moves: list[tuple[int, service.Move]] = []
    for i, a in enumerate(asked):
        try:
            _check_trigger(a.trigger)
            runner = as_user(app, person_of(app, a.caller))
            moves.append((i, service.Move(runner, a.assignment_id, a.trigger, _fields(a.fields), a.on_behalf,
                                          a.expected_version)))
        except DubanError as exc:
            outcomes[i] = exc
    done = service.transition_each([m for _, m in moves]) if moves else []
    for (i, move), outcome in zip(moves, done):
        try:
            outcomes[i] = outcome if isinstance(outcome, DubanError) else service.show(move.ctx, move.assignment_id)
        except DubanError as exc:
            outcomes[i] = exc
    return outcomes


def _check_trigger(trigger: str) -> None:
    if trigger not in states.TRANSITION_BY_TRIGGER:
        raise BadInput(f"未知操作“{shown(trigger)}”；可用操作：{'、'.join(states.TRANSITION_BY_TRIGGER)}。")


def _safe_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name.strip() or "附件"
    return base[:200]


def _fields(values: dict[str, Any]):
    from workflow.clock import parse_date
    from workflow.lifecycle.engine import Fields

    known = {"summary", "comment", "reason", "until"}
    unknown = [k for k in values if k not in known]
    if unknown:
        raise BadInput(f"字段“{'、'.join(shown(k) for k in unknown)}”无法识别，可用字段：summary、comment、reason、until。")
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
    from workflow.plans import service

    return _jsonable(service.list_plans(as_user(app, person)))


def plan_import(app: App, person: Person, upload: Upload, *, dry_run: bool, year: int | None) -> dict[str, Any]:
    """`plan import [--dry-run] --json`: the plan as understood, its warnings, and its id once stored."""
    from workflow.plans import service

    path = upload.path.with_name(_safe_name(upload.name))
    upload.path.rename(path)
    result = service.import_plan(as_user(app, person), path, service.ImportOptions(dry_run=dry_run, year=year))
    out = _jsonable(result.plan.to_dict()) | {"warnings": result.warnings, "dry_run": result.dry_run}
    if result.plan_id is not None:
        out["id"] = result.plan_id
    return out


def pending_groups(app: App, person: Person, ref: str) -> tuple[list[Any], list[str]]:
    """The "相关" groups the office must name before publishing, and the directory's names."""
    from workflow.plans import service

    groups, departments = service.pending(as_user(app, person), ref, {})
    return groups, [d.name for d in departments]


def resolution(raw: Any) -> dict:
    """The API's "resolve" object, checked as the CLI checks a --resolve file."""
    from workflow.plans.publish import parse_resolution

    return parse_resolution(raw, "resolve")


def plan_publish(app: App, person: Person, ref: str, resolution: dict) -> dict[str, Any]:
    """`plan publish --json`'s keys."""
    from workflow.plans import service

    report = service.publish(as_user(app, person), ref, resolution)
    return _jsonable({"plan": report.plan_id, "created": report.created, "existing": report.existing,
                      "per_department": report.per_department,
                      "summary": [dataclasses.asdict(s) for s in report.summary]})


def plan_export(app: App, person: Person, ref: str) -> tuple[str, str]:
    """(file name, canonical YAML) of a plan."""
    from workflow.plans import service

    runner = as_user(app, person)
    view = service.show(runner, ref)
    return f"plan-{view.id}.yaml", service.export(runner, ref, "yaml")


# ---------------------------------------------------------------- ledger, report, audit
LEDGER_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8"}


def ledger(app: App, person: Person, *, plan: str | None = None, quarter: str | None = None,
           as_of: str | None = None, by: str = "task", dept: str | None = None):
    from workflow.clock import parse_date
    from workflow.ledger.service import LedgerQuery, build

    if by not in ("task", "department"):
        raise BadInput(f"by 的值“{shown(by)}”无效，应为 task（按任务）或 department（按处室）。")
    return build(as_user(app, person), LedgerQuery(plan=plan or None, quarter=quarter or None,
                                                   as_of=parse_date(as_of, "as_of") if as_of else None,
                                                   dept=dept or None))


def ledger_file(ledger_obj, fmt: str, by: str) -> bytes:
    """The ledger rendered by the library's writers (workflow/reports)."""
    if fmt not in LEDGER_TYPES:
        raise BadInput(f"format 的值“{shown(fmt)}”无效，应为：{'、'.join(LEDGER_TYPES)}。")
    if fmt == "json":
        return json.dumps(_jsonable(ledger_obj.as_dict()), ensure_ascii=False).encode("utf-8")
    import tempfile

    from workflow.reports import write_ledger

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"ledger.{fmt}"
        write_ledger(ledger_obj, fmt, out, by)
        return out.read_bytes()


def annual_report(app: App, person: Person, plan: str | None, fmt: str, as_of: str | None) -> bytes:
    """The annual-report section (年度报告落实情况一节) as docx/md/html bytes."""
    from workflow.clock import parse_date
    from workflow.ledger.service import annual_ledger
    from workflow.reports.annual import render_section

    if fmt not in ("md", "html", "docx"):
        raise BadInput(f"format 的值“{shown(fmt)}”无效，应为 md、html 或 docx。")
    ledger_obj = annual_ledger(as_user(app, person), plan or "", parse_date(as_of, "as_of") if as_of else None)
    data = render_section(ledger_obj, fmt, app.config().templates_dir)
    return data if isinstance(data, bytes) else data.encode("utf-8")


def audit_verify(app: App, person: Person) -> dict[str, Any]:
    """`audit verify --json`'s keys, and a sentence saying what was found."""
    from workflow.lifecycle import service

    result = service.verify_result(service.verify_events(as_user(app, person)))
    result.pop("problems")
    return result


def audit_export(app: App, person: Person) -> str:
    from workflow.lifecycle import service

    out = io.StringIO()
    service.export_events(as_user(app, person), out)
    return out.getvalue()


# ---------------------------------------------------------------- users and departments
def user_list(app: App, person: Person) -> list[dict[str, Any]]:
    from workflow.directory import service

    return [dataclasses.asdict(v) for v in service.list_users(as_user(app, person))]


def department_names(app: App) -> list[str]:
    """The directory's names, for a filter's choices (a Core read: no ORM objects)."""
    d = tables.department
    with app.reader() as conn:
        return list(conn.execute(select(d.c.name).order_by(d.c.id)).scalars())


def department_list(app: App) -> list[dict[str, Any]]:
    from workflow.directory.store import KINDS
    from workflow.directory import service

    return [d.model_dump() | {"kind_label": KINDS.get(d.kind, d.kind)} for d in service.list_departments(app)]


def user_add(app: App, person: Person, name: str, email: str, roles: list[str], dept: str | None) -> tuple[dict, str]:
    from workflow.access import service

    user, token = service.add_user(as_user(app, person), name, email, roles, dept or None)
    return {"id": user.id, "name": user.name, "email": user.email, "roles": user.roles}, token


def user_revoke(app: App, person: Person, name: str) -> None:
    from workflow.access import service

    service.revoke(as_user(app, person), name)


def user_rotate(app: App, person: Person, name: str) -> str:
    from workflow.access import service

    return service.rotate_token(as_user(app, person), name).token


def department_add(app: App, person: Person, name: str, email: str | None, kind: str) -> None:
    from workflow.directory import service

    service.add_department(as_user(app, person), name, email or None, [], kind)


def delegation_add(app: App, person: Person, to: str, start: str, until: str) -> None:
    from workflow.clock import parse_date
    from workflow.directory import service

    service.add_delegation(as_user(app, person), to, parse_date(start, "from"), parse_date(until, "until"))


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
    """Counts by state and, per department, how many assignments have each light
    (lifecycle.service.overview: one aggregate read)."""
    from workflow.lifecycle import service

    by_state: dict[str, int] = {}
    per_dept: dict[str, dict[str, int]] = {}
    for group in service.overview(as_user(app, person)):
        by_state[group["state"]] = by_state.get(group["state"], 0) + group["count"]
        bucket = per_dept.setdefault(group["department"], {"red": 0, "yellow": 0, "green": 0, "closed": 0})
        for colour in bucket:
            bucket[colour] += group[colour]
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
        raise NotPermitted("链接所属的审核人已停用，链接失效；请登录督办网页办理。")
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
            raise NotPermitted("链接所属的审核人已停用，链接失效；请登录督办网页办理。")
        fire(session, link.assignment_id, trigger, user, clock=app.clock, fields=_fields(fields),
             notifier=notifier(app), before_write=lambda: mail_links.spend(session.connection(), link))
        person = person_by_id(session.connection(), user.id)
    return show_task(app, person, link.assignment_id)
