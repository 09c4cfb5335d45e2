"""Run functions for `plan` and `dept import`: import, list, show, publish, export."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workflow.app import App
from workflow.commands.common import print_json
from workflow.commands.output import clip, print_table
from workflow.errors import BadInput, DubanError
from workflow.plan import RECURRENCES, RESPONSIBILITY_ROLES, Plan

if TYPE_CHECKING:  # pragma: no cover
    from workflow.commands.resolve_prompt import Prompt
    from workflow.publish import PublishReport


def load_plan_file(path: Path, year: int | None) -> Plan:
    from workflow.importers import load_plan

    return load_plan(path, year=year)


def _roles(task, role: str) -> str:
    return "、".join(r.department for r in task.responsibilities if r.role == role)


def _others(task) -> str:
    return ";".join(f"{RESPONSIBILITY_ROLES[r.role]}:{r.department}" for r in task.responsibilities
                    if r.role not in ("lead", "cooperate"))


def print_plan(app: App, plan: Plan) -> None:
    out = app.out
    print(f"{plan.title}", file=out)
    print(f"发文单位:{plan.issuer or '—'}  日期:{plan.issued_on or '—'}  年度:{plan.year}  "
          f"下发时限:{plan.distribute_by or '—'}  完成时限:{plan.due or '—'}", file=out)
    if plan.delay_rule:
        print(f"延期规则:{plan.delay_rule}", file=out)
    rows = []
    for t in plan.tasks:
        where = t.section or t.chapter or ""
        due = plan.due_of(t).isoformat() + ("(持续)" if t.ongoing else "")
        rows.append([t.seq, clip(where, 24), clip(t.requirement, 30), clip(_roles(t, "lead"), 24),
                     clip(_roles(t, "cooperate"), 20), clip(_others(t), 28), due,
                     RECURRENCES.get(t.recurrence or "", "—")])
    print_table(out, ["序号", "章节", "具体要求", "牵头", "配合", "其他", "完成时限", "周期"], rows)
    print(f"共 {len(plan.tasks)} 项任务。", file=out)


def print_warnings(app: App, warnings: list[str]) -> None:
    for w in warnings:
        print(f"警告:{w}", file=app.err)


def run_import(app: App, path: Path, *, dry_run: bool, year: int | None, as_json: bool) -> None:
    if not dry_run:  # refuse before parsing and printing: a dry run needs no login
        _require_office(app)
    plan = load_plan_file(path, year)
    plan.warnings += _publish_warnings(app, plan)
    if as_json:
        print_json(app, plan.to_dict() | {"warnings": plan.warnings, "dry_run": dry_run})
    else:
        print_plan(app, plan)
    print_warnings(app, plan.warnings)
    if dry_run:
        app.say("(试运行,未写入数据库)")
        return
    from workflow.plans import store_plan

    with app.session() as session:
        row = store_plan(session, plan, app.clock)
    if not as_json:
        print(f"已导入计划 {row.id}:{row.title}({len(plan.tasks)} 项任务)。下一步:duban plan publish {row.id}", file=app.out)


def _require_office(app: App) -> None:
    import states
    from workflow.commands.auth_cmds import PLAN_OFFICE

    with app.session() as session:
        app.require(session, states.manages_plans, PLAN_OFFICE)


def _publish_warnings(app: App, plan: Plan) -> list[str]:
    """Unknown departments (when a directory exists) and groups the office must name."""
    from workflow.groups import review_warnings

    return review_warnings(plan, _directory_for_review(app))


def _directory_for_review(app: App) -> list | None:
    """The directory to check the plan's names against, None if there is none yet.

    A SQLite file is read directly, so the dry run stays off the database layer (it would
    cost several times the whole dry run); other databases go through the usual session."""
    from workflow.directory_peek import peek_departments, sqlite_path

    path = sqlite_path(app.db_url)
    if path is not None:
        if not path.exists():
            return None  # a first import: no database, so no directory
        found = peek_departments(path)
        if found is not None:
            return found or None
    try:
        from workflow.directory import list_departments

        with app.session() as session:
            return list_departments(session) or None
    except DubanError:  # not initialised or unreachable: check what can be checked without it
        return None


def run_list(app: App, as_json: bool) -> None:
    from workflow.plans import list_plans

    with app.session() as session:
        app.viewer(session)  # any signed-in user
        rows = list_plans(session)
    if as_json:
        print_json(app, rows)
        return
    print_table(app.out, ["编号", "标题", "年度", "任务", "事项", "已下发"],
                [[r["id"], clip(r["title"], 40), r["year"], r["tasks"], r["assignments"],
                  "是" if r["published"] else "否"] for r in rows])


def run_show(app: App, ref: str, as_json: bool) -> None:
    from workflow.plans import find_plan, plan_of

    with app.session() as session:
        app.viewer(session)  # any signed-in user
        row = find_plan(session, ref)
        plan = plan_of(row)
    if as_json:
        print_json(app, {"id": row.id, "published": row.published_at is not None} | plan.to_dict())
    else:
        print(f"计划编号 {row.id}{'(已下发)' if row.published_at else '(未下发)'}", file=app.out)
        print_plan(app, plan)


def run_export(app: App, ref: str, fmt: str, out: Path | None) -> None:
    from workflow.plans import find_plan, plan_of

    if fmt not in ("yaml", "json"):
        raise BadInput(f"--format {fmt} 无效,应为 yaml 或 json。")
    if out is not None:
        from workflow.commands.common import check_out

        check_out(out)
    with app.session() as session:
        app.viewer(session)  # any signed-in user
        plan = plan_of(find_plan(session, ref))
    data = plan.to_dict()
    if fmt == "json":
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    else:
        import yaml

        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)
    if out is None:
        app.out.write(text)
        return
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    app.say(f"已导出到 {out}。")


def run_publish(app: App, ref: str, resolve: Path | None, as_json: bool,
                prompt: "Prompt | None" = None) -> None:
    """Publish a plan. Without --resolve, the "relevant" groups are asked for on a terminal
    (`prompt`, or the terminal when there is one); when piped, publish refuses and says
    which flag is missing."""
    from workflow.notify import Notifier
    from workflow.plans import find_plan
    from workflow.publish import load_resolution, publish

    resolution = _ask_for_groups(app, ref, prompt, load_resolution(resolve) if resolve else {})
    with app.session() as session:
        actor = app.actor(session)
        plan = find_plan(session, ref)
        with _progress(app, "正在下发") as progress:
            report = publish(session, plan, actor, app.clock, resolution, progress,
                             Notifier(app.config().templates_dir))
    if as_json:
        print_json(app, {"plan": report.plan_id, "created": report.created, "existing": report.existing,
                         "per_department": report.per_department,
                         "summary": [asdict(s) for s in report.summary]})
        return
    print_summary(app, report)


def _ask_for_groups(app: App, ref: str, prompt: "Prompt | None", resolution: dict) -> dict:
    """`resolution` completed by the office for the "relevant" groups it leaves open, asked
    before anything is written; unchanged when nobody can answer (publish then refuses).

    The reads happen in their own short session, so no database lock is held while
    someone thinks about the answers."""
    from workflow.commands.resolve_prompt import Prompt, ask_resolution, offer_to_save
    from workflow.directory import list_departments
    from workflow.plans import find_plan
    from workflow.publish import check_can_publish, pending_groups

    prompt = prompt or Prompt.terminal(app)
    if prompt is None:
        return resolution
    with app.session() as session:
        check_can_publish(app.actor(session))
        pending = pending_groups(session, find_plan(session, ref), resolution)
        departments = list_departments(session)
    if not pending or not departments:
        return resolution
    merged = {key: dict(groups) for key, groups in resolution.items()}
    for key, groups in ask_resolution(prompt, pending, departments).items():
        merged.setdefault(key, {}).update(groups)
    offer_to_save(prompt, merged)
    return merged


def print_summary(app: App, report: "PublishReport") -> None:
    """Per department, most urgent first, with the count per role: whom to chase first."""
    if report.summary:
        roles = [r for r in RESPONSIBILITY_ROLES if any(r in s.roles for s in report.summary)]
        print_table(app.out, ["处室", "最早完成时限", "新事项", *(RESPONSIBILITY_ROLES[r] for r in roles)],
                    [[s.department, s.first_due.isoformat(), s.total, *(s.roles.get(r, "") for r in roles)]
                     for s in report.summary])
    print(f"新建 {report.created} 项事项,已存在 {report.existing} 项。", file=app.out)


class _progress:
    """A progress bar on a terminal; nothing when piped."""

    def __init__(self, app: App, label: str):
        self.app, self.label, self.bar = app, label, None

    def __enter__(self):
        return self.update if self.app.interactive else None

    def update(self, done: int, total: int) -> None:
        import typer

        if self.bar is None:
            self.bar = typer.progressbar(length=total, label=self.label, file=self.app.err)
            self.bar.__enter__()
        self.bar.update(done - self.bar.pos)

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def run_dept_import(app: App, path: Path, as_json: bool) -> None:
    from workflow.directory_import import parse_directory
    from workflow.directory import upsert_departments

    import states
    from workflow.commands.auth_cmds import DIRECTORY_ADMIN

    with app.session() as session:
        app.require(session, states.administers, DIRECTORY_ADMIN)
        records = parse_directory(path)
        created, updated = upsert_departments(session, records)
    if as_json:
        print_json(app, {"created": created, "updated": updated})
    else:
        print(f"处室名录:新增 {len(created)} 个,更新 {len(updated)} 个。", file=app.out)
