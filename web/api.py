"""REST API under /api/v1: bearer token, JSON with the CLI's `--json` keys.

Errors are `{"error": sentence, "code": kind}` with the status of web.app.ERROR_KINDS.
Handlers parse, call one function of web/lib (the library's seam), and answer.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Optional

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from workflow.context import Person
from workflow.errors import BadInput

from web import lib
from web.auth import api_user, bearer, core
from web.writing import run_grouped, run_write

router = APIRouter(prefix="/api/v1", tags=["duban"])
TRIGGERS = ("start", "submit", "approve", "send_back", "request_delay", "approve_delay", "reject_delay",
            "cancel", "reopen")
MAX_UPLOAD_FILES = 10


@router.get("/me", summary="当前令牌的用户（同 duban whoami --json）")
def get_me(request: Request, person: Person = Depends(api_user)) -> dict:
    return lib.me(core(request), person)


@router.get("/tasks", summary="事项清单（同 duban task list --json），最紧急的在前，分页")
def get_tasks(request: Request, person: Person = Depends(api_user),
              dept: Optional[str] = None, state: Optional[str] = None, overdue: bool = False,
              mine: bool = False, plan: Optional[str] = None,
              page: int = Query(1, ge=1, le=1_000_000), per_page: int = Query(50, ge=1, le=500)) -> dict:
    items, total = lib.list_tasks(core(request), person, dept=dept, state=state, overdue=overdue,
                                  mine=mine, plan=plan, page=page, per_page=per_page)
    return {"items": items, "total": total, "page": page, "per_page": per_page}


@router.get("/tasks/{assignment_id}", summary="事项详情（同 duban task show --json）")
def get_task(request: Request, assignment_id: int, person: Person = Depends(api_user)) -> dict:
    return lib.show_task(core(request), person, _id(assignment_id))


@router.get("/tasks/{assignment_id}/history", summary="办理记录（同 duban task history --json）")
def get_history(request: Request, assignment_id: int, person: Person = Depends(api_user)) -> list:
    return lib.task_history(core(request), person, _id(assignment_id))


@router.post("/tasks/{assignment_id}/{trigger}",
             summary="办理：start、submit、approve、send_back、request_delay、approve_delay、reject_delay、cancel、reopen",
             description="字段以 JSON 提交（summary、comment、reason、until、on_behalf_of），或以 multipart 表单提交"
                         "并附文件 attachments;If-Match: <version> 要求事项仍是该版本，否则 409。")
async def post_transition(request: Request, assignment_id: int, trigger: str) -> dict:
    # bearer() is called, not declared a dependency: solving one is a visible share of this hot path
    caller = await _uploader(request, bearer(request))
    fields, uploads, tmp = await _read_body(request)
    try:
        on_behalf = fields.pop("on_behalf_of", None)
        if uploads:
            view = await run_write(request, as_caller, core(request), caller, lib.transition, _id(assignment_id),
                                   trigger, fields, uploads, _if_match(request), on_behalf)
        else:  # committed with the other moves queued meanwhile (web/writing.py)
            asked = lib.Asked(caller, _id(assignment_id), trigger, fields, _if_match(request), on_behalf)
            view = await run_grouped(request, lib.transitions, asked)
        return JSONResponse(view)  # plain JSON values already: no second serialisation
    finally:
        if tmp is not None:
            tmp.cleanup()


@router.get("/review", summary="待审核的报送和延期申请（同 duban review list --json）")
def get_review(request: Request, person: Person = Depends(api_user)) -> list:
    return lib.review_list(core(request), person)


@router.post("/review/approve", summary="批量审核通过：{\"ids\": [...]} 或 {\"dept\": 处室}；跳过的事项附原因")
async def post_bulk_approve(request: Request, token: str = Depends(bearer)) -> dict:
    body = await _json(request)
    ids = body.get("ids")
    if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, int) and i > 0 for i in ids)):
        raise BadInput("ids 应为事项编号（正整数）的列表。")
    return await run_write(request, as_caller, core(request), token, lib.bulk_approve, ids, body.get("dept"),
                           body.get("comment"))


@router.get("/plans", summary="计划清单（同 duban plan list --json）")
def get_plans(request: Request, person: Person = Depends(api_user)) -> list:
    return lib.plan_list(core(request), person)


@router.post("/plans", summary="导入计划：multipart 文件 file,dry_run=true 只看识别结果")
async def post_plan(request: Request, person: Person = Depends(api_user)) -> dict:
    # api_user, not bearer: the file is read only for someone signed in
    fields, uploads, tmp = await _read_body(request, field="file")
    try:
        if len(uploads) != 1:
            raise BadInput("请以 multipart 表单上传一个计划文件（字段名 file）。")
        dry_run = str(fields.get("dry_run", "false")).lower() in ("1", "true", "yes", "on")
        year = _int(fields.get("year"), "year") if fields.get("year") else None
        return await run_write(request, lib.plan_import, core(request), person, uploads[0],
                               dry_run=dry_run, year=year)
    finally:
        if tmp is not None:
            tmp.cleanup()


@router.post("/plans/{plan_id}/publish",
             summary="下发计划；JSON {\"resolve\": {任务序号或\"*\": {群组: [处室, …]}}} 指定“相关”处室")
async def post_publish(request: Request, plan_id: int, token: str = Depends(bearer)) -> dict:
    body = await _json(request)
    resolution = lib.resolution(body.get("resolve") or {})
    return await run_write(request, as_caller, core(request), token, lib.plan_publish, str(_id(plan_id)),
                           resolution)


@router.get("/ledger", summary="工作台账；format=json|xlsx|csv|html|md")
def get_ledger(request: Request, person: Person = Depends(api_user), plan: Optional[str] = None,
               quarter: Optional[str] = None, as_of: Optional[str] = None, by: str = "task",
               dept: Optional[str] = None, format: str = "json") -> Response:
    ledger = lib.ledger(core(request), person, plan=plan, quarter=quarter, as_of=as_of, by=by, dept=dept)
    return ledger_response(ledger, format, by)


def ledger_response(ledger: Any, fmt: str, by: str) -> Response:
    data = lib.ledger_file(ledger, fmt, by)
    headers = {}
    if fmt != "json":
        name = f"ledger-{ledger.as_of}.{fmt}"
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(data, media_type=lib.LEDGER_TYPES[fmt], headers=headers)


@router.get("/audit/verify", summary="校验办理记录的哈希链（同 duban audit verify --json）")
def get_audit(request: Request, person: Person = Depends(api_user)) -> dict:
    result = lib.audit_verify(core(request), person)
    return result


# ---------------------------------------------------------------- helpers
def as_caller(app: Any, caller: Person | str, action: Any, *args: Any) -> Any:
    """action(app, person, *args) for the caller (lib.person_of)."""
    return action(app, lib.person_of(app, caller), *args)


async def _uploader(request: Request, token: str) -> Person | str:
    """A multipart body's caller is checked before its files are read (nobody uploads
    without a valid token); a JSON body's later, by as_caller."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await run_in_threadpool(lib.authenticate, core(request), token)
    return token


def _id(value: int) -> int:
    if value < 1 or value > 2**62:
        raise BadInput(f"编号 {value} 无效：应为正整数。")
    return value


def _int(value: Any, name: str) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise BadInput(f"{name} 应为整数。") from None


def _if_match(request: Request) -> int | None:
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    text = raw.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise BadInput("If-Match 应为事项的版本号（整数），见 GET /api/v1/tasks/{id} 的 version。")
    return int(text)


async def _json(request: Request) -> dict:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadInput("请求体不是有效的 JSON。") from None
    if not isinstance(body, dict):
        raise BadInput("请求体应为 JSON 对象。")
    return body


async def _read_body(request: Request, field: str = "attachments"):
    """(fields, uploads, temporary folder) from a JSON or multipart body."""
    kind = request.headers.get("content-type", "")
    if not kind.startswith("multipart/form-data"):
        return await _json(request), [], None
    form = await request.form(max_files=MAX_UPLOAD_FILES, max_fields=50)
    fields: dict[str, Any] = {}
    uploads: list[lib.Upload] = []
    tmp = tempfile.TemporaryDirectory(prefix="duban-upload-")
    try:
        for key, value in form.multi_items():
            if hasattr(value, "filename") and not isinstance(value, str):
                if key != field or not value.filename:
                    continue
                uploads.append(await lib.save_upload(value, Path(tmp.name) / str(len(uploads))))
            else:
                fields[key] = value
    except BaseException:
        tmp.cleanup()
        raise
    return fields, uploads, tmp
