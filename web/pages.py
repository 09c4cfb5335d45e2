"""Server-rendered pages (Chinese). Every action is a plain HTML form with a CSRF token;
the one script (static/app.js) only adds "select all" to the review queue.

Handlers parse the form, call one function of web/lib, and render a template or
redirect (POST → 303 → GET). What a viewer may do is the library's answer
(lib.allowed_triggers); refusals are shown as the library's sentence.
"""
from __future__ import annotations

import hashlib
import base64
import re
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates

import states
from workflow.clock import shown_time
from workflow.errors import BadInput, DubanError, NotAuthenticated, NotFound
from workflow.ledger.lights import LABELS as LIGHT_LABELS

from web import lib, store
from web.auth import COOKIE, PRE_COOKIE, Visitor, check_csrf, core, is_https, page_user
from web.writing import run_write

# The pages' Content-Security-Policy (web/app.py sets it on every response; the ledger page
# adds the hashes of its inline styles).
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.globals["LIGHT_LABELS"] = LIGHT_LABELS  # the library's words for its lights
templates.env.filters["shown_time"] = shown_time  # as the CLI's tables show times
PER_PAGE = 50
FIELD_LABELS = {"summary": "办理情况", "comment": "意见", "reason": "理由", "until": "申请延期至",
                "attachments": "附件"}


def trigger_fields(trigger: str) -> list[str]:
    """The inputs an action's form shows: what states/ says the trigger requires or takes."""
    t = states.TRANSITION_BY_TRIGGER.get(trigger)
    return [*t.requires, *t.optional] if t else []


def url(request: Request, path: str) -> str:
    return (request.scope.get("root_path") or "") + path


def render(request: Request, name: str, visitor: Visitor | None, status: int = 200,
           csp: str | None = None, **context: Any) -> HTMLResponse:
    context.update(request=request, visitor=visitor, base=request.scope.get("root_path") or "",
                   states=states, lib=lib, nav=_nav(visitor), today=core(request).clock.today())
    response = templates.TemplateResponse(request, name, context, status_code=status)
    if csp:
        response.headers["Content-Security-Policy"] = csp
    return response


def _nav(visitor: Visitor | None) -> list[tuple[str, str]]:
    if visitor is None:
        return []
    p = visitor.person
    items = [("/", "首页"), ("/tasks", "事项")]
    if states.reads_all(p.roles) or "reviewer" in p.roles:
        items.append(("/review", "待审核"))
    items += [("/ledger", "台账"), ("/plans", "计划")]
    if states.reads_all(p.roles):
        items.append(("/audit", "审计"))
    if states.administers(p.roles):
        items.append(("/admin", "用户与处室"))
    return items


def error_page(request: Request, message: str, status: int) -> Response:
    visitor = None
    try:
        visitor = page_user(request)
    except Exception:  # an error page never needs a session
        pass
    if status == 401:
        return _to_login(request)
    return render(request, "error.html", visitor, status=status, message=message)


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    root = request.scope.get("root_path") or ""
    if target.startswith(root):
        target = target[len(root):] or "/"
    return RedirectResponse(url(request, "/login?next=" + urllib.parse.quote(target)), status_code=303)


def visitor_of(request: Request) -> Visitor:
    visitor = page_user(request)
    visitor.department = lib.department_name(core(request), visitor.person.department_id)
    return visitor


def _back(request: Request, path: str, **flash: str) -> RedirectResponse:
    query = urllib.parse.urlencode({k: v for k, v in flash.items() if v})
    return RedirectResponse(url(request, path + (("&" if "?" in path else "?") + query if query else "")),
                            status_code=303)


async def _form(request: Request, visitor: Visitor) -> Any:
    form = await request.form(max_files=10, max_fields=2000)
    check_csrf(visitor, form.get("csrf"))
    return form


# ---------------------------------------------------------------- sign in / out
@router.get("/login")
def login_page(request: Request, next: str = "/", error: str = "") -> Response:
    import secrets

    pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", None, next=_safe_next(next), error=error, csrf=pre)
    response.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="strict", secure=is_https(request),
                        path=url(request, "/login"))
    return response


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@router.post("/login")
async def login(request: Request) -> Response:
    import hmac

    form = await request.form()
    pre = request.cookies.get(PRE_COOKIE) or ""
    sent = str(form.get("csrf") or "")
    nxt = _safe_next(str(form.get("next") or "/"))
    if not pre or not hmac.compare_digest(pre.encode(), sent.encode()):
        return _back(request, "/login?next=" + urllib.parse.quote(nxt), error="表单已过期，请重新输入令牌。")
    app = core(request)
    try:
        person = await run_in_threadpool(lib.authenticate, app, str(form.get("token") or "").strip())
    except NotAuthenticated as exc:
        return _back(request, "/login?next=" + urllib.parse.quote(nxt), error=exc.message)
    hours = request.app.state.settings.session_hours
    cookie, _ = await run_write(request, store.open_session, app.engine(), person.id, person.token_hash, hours)
    response = RedirectResponse(url(request, nxt), status_code=303)
    response.set_cookie(COOKIE, cookie, httponly=True, samesite="strict", secure=is_https(request),
                        path=url(request, "/") , max_age=hours * 3600)
    response.delete_cookie(PRE_COOKIE, path=url(request, "/login"))
    return response


@router.post("/logout")
async def logout(request: Request, visitor: Visitor = Depends(visitor_of)) -> Response:
    await _form(request, visitor)
    store.close_session(core(request).engine(), request.cookies.get(COOKIE))
    response = RedirectResponse(url(request, "/login"), status_code=303)
    response.delete_cookie(COOKIE, path=url(request, "/"))
    return response


# ---------------------------------------------------------------- home
@router.get("/")
def home(request: Request, visitor: Visitor = Depends(visitor_of)) -> Response:
    app, p = core(request), visitor.person
    if states.reads_all(p.roles):
        overview = lib.front_page_cached(app, p, "overview", lambda: lib.overview(app, p))
        counts = {s["state"]: s["count"] for s in overview["by_state"]}
        queue = lib.front_page_cached(app, p, "queue", lambda: lib.review_first(app, p, 20))
        overdue = lib.front_page_cached(app, p, "overdue", lambda: lib.overdue_first(app, p, 20))
        return render(request, "home_office.html", visitor, overview=overview, queue=queue,
                      queue_total=sum(counts[s] for s in states.AWAITING_REVIEW), overdue=overdue,
                      overdue_total=sum(d["red"] for d in overview["departments"]))
    mine, total = ([], 0)
    if p.department_id is not None:
        mine, total = lib.list_tasks(app, p, mine=True, per_page=PER_PAGE)
    return render(request, "home_staff.html", visitor, mine=mine, total=total)


# ---------------------------------------------------------------- tasks
@router.get("/tasks")
def task_list(request: Request, visitor: Visitor = Depends(visitor_of), dept: str = "", state: str = "",
              overdue: str = "", mine: str = "", plan: str = "", page: int = 1) -> Response:
    app = core(request)
    page = max(1, min(page, 1_000_000))
    filters = {"dept": dept, "state": state, "overdue": overdue, "mine": mine, "plan": plan}
    rows, total = lib.list_tasks(app, visitor.person, dept=dept, state=state, overdue=bool(overdue),
                                 mine=bool(mine), plan=plan, page=page, per_page=PER_PAGE)
    pages = max(1, (total + PER_PAGE - 1) // PER_PAGE)
    departments = lib.department_names(app) if states.reads_all(visitor.person.roles) else []
    query = urllib.parse.urlencode({k: v for k, v in filters.items() if v})
    return render(request, "tasks.html", visitor, rows=rows, total=total, page=page, pages=pages,
                  filters=filters, departments=departments, query=query)


@router.get("/tasks/{assignment_id}")
def task_page(request: Request, assignment_id: int, visitor: Visitor = Depends(visitor_of),
              done: str = "", error: str = "") -> Response:
    app = core(request)
    view = lib.show_task(app, visitor.person, assignment_id)
    history = lib.task_history(app, visitor.person, assignment_id)
    actions = [(t, states.trigger_label(t), trigger_fields(t)) for t in lib.allowed_triggers(app, visitor.person, view)]
    return render(request, "task.html", visitor, view=view, history=history, actions=actions,
                  field_labels=FIELD_LABELS, done=done, error=error)


@router.post("/tasks/{assignment_id}/{trigger}")
async def task_action(request: Request, assignment_id: int, trigger: str,
                      visitor: Visitor = Depends(visitor_of)) -> Response:
    form = await _form(request, visitor)
    fields = {k: str(form.get(k) or "").strip() for k in ("summary", "comment", "reason", "until")
              if k in trigger_fields(trigger) and str(form.get(k) or "").strip()}
    version = form.get("version")
    tmp = tempfile.TemporaryDirectory(prefix="duban-upload-")
    try:
        uploads = await _uploads(form, Path(tmp.name))
        try:
            await run_write(request, lib.transition, core(request), visitor.person, assignment_id, trigger,
                                    fields, uploads, int(version) if str(version or "").isdigit() else None)
        except (NotFound,) as exc:
            raise exc
        except DubanError as exc:
            return _back(request, f"/tasks/{assignment_id}", error=exc.message)
    finally:
        tmp.cleanup()
    return _back(request, f"/tasks/{assignment_id}", done=f"{states.trigger_label(trigger)}成功。")


async def _uploads(form: Any, folder: Path) -> list[lib.Upload]:
    uploads = []
    for value in form.getlist("attachments"):
        if isinstance(value, str) or not getattr(value, "filename", ""):
            continue
        uploads.append(await lib.save_upload(value, folder / str(len(uploads))))
    return uploads


@router.get("/tasks/{assignment_id}/files/{sha256}")
def attachment(request: Request, assignment_id: int, sha256: str, visitor: Visitor = Depends(visitor_of)) -> Response:
    from urllib.parse import quote

    content = lib.attachment_content(core(request), visitor.person, assignment_id, sha256)
    chunks = iter(content.chunks)
    first = next(chunks, b"")  # read before the headers go out: a missing or damaged content is an error page

    def body():
        yield first
        yield from chunks

    return StreamingResponse(body(), media_type="application/octet-stream", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(content.name)}",
        "Content-Length": str(content.size)})


# ---------------------------------------------------------------- review
@router.get("/review")
def review_page(request: Request, visitor: Visitor = Depends(visitor_of), approved: int = -1,
                skipped: str = "") -> Response:
    queue = lib.review_list(core(request), visitor.person)
    groups: dict[str, list[dict]] = {}
    for item in queue:
        groups.setdefault(item["department"], []).append(item)
    skipped_rows = []
    if skipped:
        import json

        try:
            skipped_rows = json.loads(skipped)[:200]
        except ValueError:
            skipped_rows = []
    return render(request, "review.html", visitor, groups=groups, total=len(queue), approved=approved,
                  skipped=skipped_rows)


@router.post("/review/approve")
async def review_approve(request: Request, visitor: Visitor = Depends(visitor_of)) -> Response:
    import json

    form = await _form(request, visitor)
    ids = [int(v) for v in form.getlist("ids") if str(v).isdigit()]
    if not ids:
        return _back(request, "/review", skipped=json.dumps([{"id": 0, "reason": "没有勾选任何事项。"}],
                                                          ensure_ascii=False), approved="0")
    result = await run_write(request, lib.bulk_approve, core(request), visitor.person, ids, None,
                                     str(form.get("comment") or "").strip() or None)
    return _back(request, "/review", approved=str(len(result["approved"])),
                 skipped=json.dumps(result["skipped"], ensure_ascii=False) if result["skipped"] else "")


# ---------------------------------------------------------------- ledger
_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.S | re.I)
_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S | re.I)


@router.get("/ledger")
def ledger_page(request: Request, visitor: Visitor = Depends(visitor_of), plan: str = "", quarter: str = "",
                as_of: str = "", by: str = "task", dept: str = "") -> Response:

    app = core(request)
    query = {"plan": plan, "quarter": quarter, "as_of": as_of, "by": by, "dept": dept}
    error = ""
    body = ""
    styles: list[str] = []
    try:
        ledger = lib.ledger(app, visitor.person, plan=plan, quarter=quarter, as_of=as_of, by=by, dept=dept)
        html = lib.ledger_file(ledger, "html", by).decode("utf-8")
        # The ledger document's page-wide rules apply to its own block here, not to the page.
        styles = [re.sub(r"(^|[},;\s])(html|body)(?=[\s,{:])", r"\1.ledger-doc", st) for st in _STYLE.findall(html)]
        found = _BODY.search(html)
        body = found.group(1) if found else html
        body = re.sub(r"<script.*?</script>", "", body, flags=re.S | re.I)
    except DubanError as exc:
        error = exc.message
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in styles)
    csp = CSP.replace("style-src 'self'", f"style-src 'self' {hashes}") if hashes else None
    plans = lib.plan_list(app, visitor.person)
    qs = urllib.parse.urlencode({k: v for k, v in query.items() if v})
    return render(request, "ledger.html", visitor, csp=csp, body=body, styles=styles, error=error, query=query,
                  qs=qs, plans=plans, reads_all=states.reads_all(visitor.person.roles))


@router.get("/ledger/download")
def ledger_download(request: Request, visitor: Visitor = Depends(visitor_of), plan: str = "", quarter: str = "",
                    as_of: str = "", by: str = "task", dept: str = "", format: str = "xlsx") -> Response:
    from web.api import ledger_response

    ledger = lib.ledger(core(request), visitor.person, plan=plan, quarter=quarter, as_of=as_of, by=by, dept=dept)
    response = ledger_response(ledger, format, by)
    if format == "json":
        response.headers["Content-Disposition"] = f'attachment; filename="ledger-{ledger.as_of}.json"'
    return response


@router.get("/report/annual")
def annual(request: Request, visitor: Visitor = Depends(visitor_of), plan: str = "", format: str = "docx",
           as_of: str = "") -> Response:
    data = lib.annual_report(core(request), visitor.person, plan or None, format, as_of or None)
    kinds = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "md": "text/markdown; charset=utf-8", "html": "text/html; charset=utf-8"}
    return Response(data, media_type=kinds[format],
                    headers={"Content-Disposition": f'attachment; filename="annual-section.{format}"'})


# ---------------------------------------------------------------- plans
@router.get("/plans")
def plans_page(request: Request, visitor: Visitor = Depends(visitor_of), done: str = "", error: str = "") -> Response:
    plans = lib.plan_list(core(request), visitor.person)
    return render(request, "plans.html", visitor, plans=plans, done=done, error=error,
                  office=states.manages_plans(visitor.person.roles))


@router.post("/plans/import")
async def plans_import(request: Request, visitor: Visitor = Depends(visitor_of)) -> Response:
    form = await _form(request, visitor)
    confirm = form.get("confirm") == "1"
    year = str(form.get("year") or "").strip()
    tmp = tempfile.TemporaryDirectory(prefix="duban-plan-")
    try:
        if confirm:  # the preview's file, kept by content hash in the page's hidden field
            text = str(form.get("content") or "")
            name = str(form.get("name") or "plan.txt")
            path = Path(tmp.name) / "upload"
            path.write_bytes(base64.b64decode(text.encode()))
            upload = lib.Upload(name, path)
        else:
            files = await _uploads_named(form, "file", Path(tmp.name))
            if not files:
                return _back(request, "/plans", error="请选择要导入的计划文件。")
            upload = files[0]
        raw = upload.path.read_bytes()
        try:
            result = await run_write(request, lib.plan_import, core(request), visitor.person, upload,
                                             dry_run=not confirm, year=int(year) if year.isdigit() else None)
        except DubanError as exc:
            return _back(request, "/plans", error=exc.message)
    finally:
        tmp.cleanup()
    if confirm:
        return _back(request, "/plans", done=f"已导入计划 {result['id']}：{result['title']}。")
    return render(request, "plan_preview.html", visitor, plan=result, content=base64.b64encode(raw).decode(),
                  name=upload.name, year=year)


async def _uploads_named(form: Any, field: str, folder: Path) -> list[lib.Upload]:
    out = []
    for value in form.getlist(field):
        if isinstance(value, str) or not getattr(value, "filename", ""):
            continue
        path = folder / f"f{len(out)}"
        path.mkdir()
        target = path / "upload"
        target.write_bytes(await value.read(20 * 1024 * 1024 + 1))
        if target.stat().st_size > 20 * 1024 * 1024:
            raise BadInput("计划文件超过 20 MB。")
        out.append(lib.Upload(value.filename, target))
    return out


@router.get("/plans/{plan_id}/publish")
def publish_page(request: Request, plan_id: int, visitor: Visitor = Depends(visitor_of), error: str = "") -> Response:
    groups, names = lib.pending_groups(core(request), visitor.person, str(plan_id))
    return render(request, "plan_publish.html", visitor, plan_id=plan_id, groups=groups, names=names, error=error)


@router.post("/plans/{plan_id}/publish")
async def publish(request: Request, plan_id: int, visitor: Visitor = Depends(visitor_of)) -> Response:
    form = await _form(request, visitor)
    resolution: dict[str, dict[str, list[str]]] = {}
    for key in form.keys():
        if key.startswith("group:"):
            group = key[len("group:"):]
            resolution.setdefault("*", {})[group] = [str(v) for v in form.getlist(key) if str(v)]
    try:
        report = await run_write(request, lib.plan_publish, core(request), visitor.person, str(plan_id), resolution)
    except DubanError as exc:
        return _back(request, f"/plans/{plan_id}/publish", error=exc.message)
    return _back(request, "/plans", done=f"计划 {plan_id} 已下发：新建 {report['created']} 项事项，已存在 {report['existing']} 项。")


@router.get("/plans/{plan_id}/export")
def plan_export(request: Request, plan_id: int, visitor: Visitor = Depends(visitor_of)) -> Response:
    name, text = lib.plan_export(core(request), visitor.person, str(plan_id))
    return Response(text.encode("utf-8"), media_type="application/yaml; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ---------------------------------------------------------------- audit
@router.get("/audit")
def audit_page(request: Request, visitor: Visitor = Depends(visitor_of)) -> Response:
    from workflow.errors import NotPermitted

    if not states.reads_all(visitor.person.roles):  # the same rule as audit export's
        raise NotPermitted(f"{visitor.person.name}无权查看审计：只有审核人、督查或管理员可以查看。")
    result = lib.audit_verify(core(request), visitor.person)
    return render(request, "audit.html", visitor, result=result)


@router.get("/audit/export")
def audit_export(request: Request, visitor: Visitor = Depends(visitor_of)) -> Response:
    text = lib.audit_export(core(request), visitor.person)
    return Response(text.encode("utf-8"), media_type="application/x-ndjson",
                    headers={"Content-Disposition": 'attachment; filename="events.jsonl"'})


# ---------------------------------------------------------------- users and departments
@router.get("/admin")
def admin_page(request: Request, visitor: Visitor = Depends(visitor_of), done: str = "", error: str = "") -> Response:
    from workflow.errors import NotPermitted

    app = core(request)
    if not states.administers(visitor.person.roles):
        raise NotPermitted(f"{visitor.person.name}无权管理用户与处室：只有管理员可以。")
    return render(request, "admin.html", visitor, users=lib.user_list(app, visitor.person),
                  departments=lib.department_list(app), roles=states.ROLES, done=done, error=error, token=None)


@router.post("/admin/{action}")
async def admin_action(request: Request, action: str, visitor: Visitor = Depends(visitor_of)) -> Response:
    form = await _form(request, visitor)
    app, p = core(request), visitor.person
    get = lambda k: str(form.get(k) or "").strip()  # noqa: E731
    try:
        token = None
        if action == "user-add":
            user, token = await run_write(request, lib.user_add, app, p, get("name"), get("email"),
                                                  [str(r) for r in form.getlist("roles")], get("dept"))
            shown_to = user["name"]
        elif action == "revoke":
            await run_write(request, lib.user_revoke, app, p, get("name"))
            return _back(request, "/admin", done=f"已停用{get('name')}，其令牌和网页登录已失效。")
        elif action == "rotate":
            token = await run_write(request, lib.user_rotate, app, p, get("name"))
            shown_to = get("name")
        elif action == "dept-add":
            await run_write(request, lib.department_add, app, p, get("name"), get("email"), get("kind") or "business")
            return _back(request, "/admin", done=f"已添加处室 {get('name')}。")
        elif action == "delegate":
            await run_write(request, lib.delegation_add, app, p, get("to"), get("from"), get("until"))
            return _back(request, "/admin", done=f"已授权 {get('to')} 代为办理。")
        else:
            raise NotFound("没有这个操作。")
    except DubanError as exc:
        if isinstance(exc, NotFound) and action not in ("user-add", "revoke", "rotate", "dept-add", "delegate"):
            raise
        return _back(request, "/admin", error=exc.message)
    # The token is shown in this one response only (never in a URL, never stored).
    return render(request, "admin.html", visitor, users=lib.user_list(app, p), departments=lib.department_list(app),
                  roles=states.ROLES, done="", error="", token=token, token_user=shown_to)


# ---------------------------------------------------------------- API docs (local)
@router.get("/api/v1/docs")
def api_docs(request: Request) -> Response:
    schema = request.app.openapi()
    return render(request, "docs.html", None, schema=schema)


# ---------------------------------------------------------------- approve from the mail
@router.get("/m/{secret}")
def mail_link(request: Request, secret: str) -> Response:
    """Shows the item and its buttons; nothing changes on GET."""
    try:
        view, reviewer, offered = lib.link_view(core(request), secret)
    except DubanError as exc:

        return render(request, "mail_link.html", None, status=exc.http_status, error=exc.message,
                      view=None, offered=[], secret=secret)
    actions = [(t, states.trigger_label(t), trigger_fields(t)) for t in offered]
    return render(request, "mail_link.html", None, view=view, reviewer=reviewer, actions=actions,
                  field_labels=FIELD_LABELS, secret=secret)


@router.post("/m/{secret}/{trigger}")
async def mail_link_act(request: Request, secret: str, trigger: str) -> Response:
    """The link is the credential (bound to one reviewer and one item, single-use)."""
    form = await request.form()
    fields = {k: str(form.get(k) or "").strip() for k in ("comment",)
              if k in trigger_fields(trigger) and str(form.get(k) or "").strip()}
    try:
        view = await run_write(request, lib.link_transition, core(request), secret, trigger, fields)
    except DubanError as exc:

        return render(request, "mail_link.html", None, status=exc.http_status, error=exc.message,
                      view=None, actions=[], secret=secret)
    return render(request, "mail_link.html", None, view=view, actions=[], secret=secret,
                  done=f"事项 {view['id']}：{states.trigger_label(trigger)}成功，现为“{view['state_label']}”。")
