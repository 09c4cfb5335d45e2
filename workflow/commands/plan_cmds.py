"""Run functions for `plan` and `dept import`: import, list, show, publish, export."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workflow.app import App
from workflow.commands.common import print_json
from workflow.commands.output import clip, print_table
from workflow.errors import BadInput, DubanError
from workflow.plan import RECURRENCES, RESPONSIBILITY_ROLES, Plan


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

    if not _database_exists(app):  # keep the dry run of a first import light: no database layer
        return review_warnings(plan, None)
    try:
        from workflow.directory import list_departments

        with app.session() as session:
            departments = list_departments(session) or None
    except DubanError:  # no database yet: check what can be checked without it
        departments = None
    return review_warnings(plan, departments)


def _database_exists(app: App) -> bool:
    url = app.db_url or "duban.db"
    if "://" not in url:
        return Path(url).exists()
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///"):]).exists()
    return True


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


def run_publish(app: App, ref: str, resolve: Path | None, as_json: bool) -> None:
    from workflow.plans import find_plan
    from workflow.notify import Notifier
    from workflow.publish import load_resolution, publish

    resolution = load_resolution(resolve) if resolve else None
    with app.session() as session:
        actor = app.actor(session)
        plan = find_plan(session, ref)
        with _progress(app, "正在下发") as progress:
            report = publish(session, plan, actor, app.clock, resolution, progress,
                             Notifier(app.config().templates_dir))
    if as_json:
        print_json(app, {"plan": report.plan_id, "created": report.created, "existing": report.existing,
                         "per_department": report.per_department})
        return
    print_table(app.out, ["处室", "事项数"], sorted(report.per_department.items(), key=lambda kv: -kv[1]))
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
