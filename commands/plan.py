"""Run functions for `plan` and `dept import`: import, list, show, publish, export."""
from __future__ import annotations
from typing import Annotated, Optional

import typer

from commands.common import JSON, app_of, ex, group

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from commands.common import App
from workflow.errors import BadInput
from commands.common import check_out, print_json
from commands.output import clip, print_table

from workflow.plans.model import RECURRENCES, RESPONSIBILITY_ROLES, Plan

if TYPE_CHECKING:  # pragma: no cover
    from commands.resolve_prompt import Prompt
    from workflow.plans.publish import PublishReport


def load_plan_file(path: Path, year: int | None) -> Plan:
    from workflow.importers import load_plan

    return load_plan(path, year=year)


def _roles(task, role: str) -> str:
    return "、".join(r.department for r in task.responsibilities if r.role == role)


def _others(task) -> str:
    return "；".join(f"{RESPONSIBILITY_ROLES[r.role]}：{r.department}" for r in task.responsibilities
                    if r.role not in ("lead", "cooperate"))


def print_plan(app: App, plan: Plan) -> None:
    out = app.out
    print(f"{plan.title}", file=out)
    print(f"发文单位：{plan.issuer or '—'}  日期：{plan.issued_on or '—'}  年度：{plan.year}  "
          f"下发时限：{plan.distribute_by or '—'}  完成时限：{plan.due or '—'}", file=out)
    if plan.delay_rule:
        print(f"延期规则：{plan.delay_rule}", file=out)
    rows = []
    for t in plan.tasks:
        where = t.section or t.chapter or ""
        due = plan.due_of(t).isoformat() + ("（持续）" if t.ongoing else "")
        rows.append([t.seq, clip(where, 24), clip(t.requirement, 30), clip(_roles(t, "lead"), 24),
                     clip(_roles(t, "cooperate"), 20), clip(_others(t), 28), due,
                     RECURRENCES.get(t.recurrence or "", "—")])
    print_table(out, ["序号", "章节", "具体要求", "牵头", "配合", "其他", "完成时限", "周期"], rows)
    print(f"共 {len(plan.tasks)} 项任务。", file=out)


def print_warnings(app: App, warnings: list[str]) -> None:
    for w in warnings:
        print(f"警告：{w}", file=app.err)


def run_import(app: App, path: Path, *, dry_run: bool, year: int | None, as_json: bool,
               draft: Path | None = None) -> None:
    from workflow.plans.service import ImportOptions, import_plan, write_draft

    if draft is not None:  # a draft imports nothing: no login needed
        report = write_draft(path, draft, year)
        if as_json:
            print_json(app, {"draft": str(report.path), "tasks": report.tasks, "marked": report.marked})
        else:
            print(f"已写出草稿 {report.path}：{report.tasks} 项任务，{report.marked} 处需要核对"
                  f"{'(已标黄)' if draft.suffix.lower() == '.xlsx' else '(“# 请核对”)'}，未导入。"
                  f"改正后导入：duban plan import {report.path}", file=app.out)
        return
    result = import_plan(app, path, ImportOptions(dry_run=dry_run, year=year))
    plan = result.plan
    if as_json:
        print_json(app, plan.to_dict() | {"warnings": result.warnings, "dry_run": dry_run})
    else:
        print_plan(app, plan)
    print_warnings(app, result.warnings)
    if dry_run:
        app.say("（试运行，未写入数据库）")
    elif not as_json:
        print(f"已导入计划 {result.plan_id}：{result.title}（{len(plan.tasks)} 项任务）。"
              f"下一步：duban plan publish {result.plan_id}", file=app.out)


def run_list(app: App, as_json: bool, archived: bool = False) -> None:
    from workflow.plans.service import list_plans

    rows = list_plans(app, archived)
    if as_json:
        print_json(app, rows)
        return
    headers = ["编号", "标题", "年度", "任务", "事项", "已下发"] + (["已归档"] if archived else [])
    print_table(app.out, headers,
                [[r["id"], clip(r["title"], 40), r["year"], r["tasks"], r["assignments"],
                  "是" if r["published"] else "否"] + (["是" if r["archived"] else "否"] if archived else [])
                 for r in rows])


def run_show(app: App, ref: str, as_json: bool) -> None:
    from workflow.plans.service import show

    view = show(app, ref)
    if as_json:
        print_json(app, {"id": view.id, "published": view.published} | view.plan.to_dict())
    else:
        print(f"计划编号 {view.id}{'(已下发)' if view.published else '(未下发)'}", file=app.out)
        print_plan(app, view.plan)


def run_export(app: App, ref: str, fmt: str, out: Path | None) -> None:
    from workflow.plans.service import export
    from workflow.reports import atomic_path

    if out is not None:
        check_out(out)
    if fmt == "xlsx":
        if out is None:
            raise BadInput("导出 xlsx 需要用 --out 指定文件，如 --out 分工方案.xlsx。")
        from workflow.plans.service import export_workbook

        export_workbook(app, ref, out)
        app.say(f"已导出到 {out}。")
        return
    text = export(app, ref, fmt)
    if out is None:
        app.out.write(text)
        return
    with atomic_path(out) as part:
        part.write_text(text, encoding="utf-8")
    app.say(f"已导出到 {out}。")


def run_template(app: App, out: Path) -> None:
    from workflow.importers.workbook import write_template

    write_template(out)
    print(f"已写出空白模板 {out}：在“分工方案”工作表中每行填写一项任务，填好后用 duban plan import {out} 导入。", file=app.out)


def run_publish(app: App, ref: str, resolve: Path | None, as_json: bool,
                prompt: "Prompt | None" = None) -> None:
    """Publish a plan. Without --resolve, the "relevant" groups are asked for on a terminal
    (`prompt`, or the terminal when there is one); when piped, publish refuses and says
    which flag is missing."""
    from workflow.plans.publish import load_resolution
    from workflow.plans.service import publish

    resolution = _ask_for_groups(app, ref, prompt, load_resolution(resolve) if resolve else {})
    with _progress(app, "正在下发") as progress:
        report = publish(app, ref, resolution, progress)
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
    from commands.resolve_prompt import Prompt, ask_resolution, offer_to_save
    from workflow.plans.service import pending

    prompt = prompt or Prompt.terminal(app)
    if prompt is None:
        return resolution
    groups, departments = pending(app, ref, resolution)
    if not groups or not departments:
        return resolution
    merged = {key: dict(g) for key, g in resolution.items()}
    for key, chosen in ask_resolution(prompt, groups, departments).items():
        merged.setdefault(key, {}).update(chosen)
    offer_to_save(prompt, merged)
    return merged


def print_summary(app: App, report: "PublishReport") -> None:
    """Per department, most urgent first, with the count per role: whom to chase first."""
    if report.summary:
        roles = [r for r in RESPONSIBILITY_ROLES if any(r in s.roles for s in report.summary)]
        print_table(app.out, ["处室", "最早完成时限", "新事项", *(RESPONSIBILITY_ROLES[r] for r in roles)],
                    [[s.department, s.first_due.isoformat(), s.total, *(s.roles.get(r, "") for r in roles)]
                     for s in report.summary])
    print(f"新建 {report.created} 项事项，已存在 {report.existing} 项。", file=app.out)


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
    from workflow.directory.service import import_departments

    created, updated = import_departments(app, path)
    if as_json:
        print_json(app, {"created": created, "updated": updated})
    else:
        print(f"处室名录：新增 {len(created)} 个，更新 {len(updated)} 个。", file=app.out)


# ---------------------------------------------------------------- the typer commands
plan_app = group("plan", "计划（分工方案）：导入、查看、下发、导出。",
                  "duban plan import examples/gz-sfj-2021.txt --dry-run", "duban plan list", "duban plan publish 1")


@plan_app.command("import", epilog=ex("duban plan import examples/gz-sfj-2021.txt --dry-run",
                                      "duban plan import examples/gz-sfj-2021.txt",
                                      "duban plan import 分工方案.docx --year 2022",
                                      "duban plan import 分工方案.pdf --draft 草稿.xlsx",
                                      "duban plan import 草稿.xlsx"))
def plan_import(ctx: typer.Context,
                file: Annotated[Path, typer.Argument(help="计划文件：网页文本 .txt、.docx/.doc/.wps、.xlsx/.xls、.pdf 或规范格式 .yaml/.json")],
                dry_run: Annotated[bool, typer.Option("--dry-run", help="只显示识别结果和警告，不写入数据库")] = False,
                year: Annotated[Optional[int], typer.Option("--year", help="文件未写明年度时使用的年度", min=2000, max=2100)] = None,
                draft: Annotated[Optional[Path], typer.Option("--draft", help="不导入，把识别结果写成草稿（.xlsx 或 .yaml），需核对处标黄或加“# 请核对”注释")] = None,
                as_json: JSON = False) -> None:
    """导入计划：先显示识别出的表格和警告；不加 --dry-run 时写入数据库。

    有任务没识别出落实处室等需要核对时不导入，而是提示用 --draft 生成草稿：改正草稿后再导入草稿。"""
    run_import(app_of(ctx), file, dry_run=dry_run, year=year, as_json=as_json, draft=draft)


@plan_app.command("template", epilog=ex("duban plan template --out 分工方案模板.xlsx",
                                        "duban plan import 分工方案模板.xlsx --dry-run"))
def plan_template(ctx: typer.Context,
                  out: Annotated[Path, typer.Option("--out", help="写入的 Excel 文件，如 分工方案模板.xlsx")]) -> None:
    """生成空白的分工方案 Excel 模板（含“填写说明”工作表），填好后用 duban plan import 导入。"""
    run_template(app_of(ctx), out)


@plan_app.command("list", epilog=ex("duban plan list", "duban plan list --all", "duban plan list --json"))
def plan_list(ctx: typer.Context,
              archived: Annotated[bool, typer.Option("--all", help="连同已归档的计划一起列出")] = False,
              as_json: JSON = False) -> None:
    """列出已导入的计划（已归档的除外，加 --all 一起列出）。"""
    run_list(app_of(ctx), as_json, archived)


@plan_app.command("archive", epilog=ex("duban plan archive 1", "duban plan list --all"))
def plan_archive(ctx: typer.Context, plan: Annotated[str, typer.Argument(help="计划编号或标题中的文字")],
                 as_json: JSON = False) -> None:
    """归档计划：不再列出，其标题可以重新导入；记录全部保留（只有审核人或管理员可以归档）。"""
    from workflow.plans.service import archive

    app = app_of(ctx)
    row = archive(app, plan)
    if as_json:
        print_json(app, {"id": row.id, "title": row.title, "archived": True})
        return
    print(f"已归档计划 {row.id}“{clip(row.title, 40)}”：不再列出（duban plan list --all 可见），"
          "标题可以重新导入；所有记录保留。", file=app.out)


@plan_app.command("show", epilog=ex("duban plan show 1", "duban plan show 司法局 --json"))
def plan_show(ctx: typer.Context, plan: Annotated[str, typer.Argument(help="计划编号或标题中的文字")],
              as_json: JSON = False) -> None:
    """显示计划的每一项任务及落实处室。"""
    run_show(app_of(ctx), plan, as_json)


@plan_app.command("publish", epilog=ex("duban plan publish 1",
                                       "duban plan publish 1 --resolve resolve.yaml"))
def plan_publish(ctx: typer.Context, plan: Annotated[str, typer.Argument(help="计划编号或标题中的文字")],
                 resolve: Annotated[Optional[Path], typer.Option("--resolve", help="“相关处室”的指定文件（YAML：任务序号 → 群组 → 处室列表）")] = None,
                 as_json: JSON = False) -> None:
    """下发计划：为每项任务 × 处室 × 角色 × 期次创建事项；重复下发不会重复创建。

    “相关”处室群组（如“各相关业务处室”）须指定具体处室：用 --resolve 文件，或在终端中逐项选择
    （可把选择保存为文件供下次使用）。下发后按紧迫程度列出各处室的新事项。"""
    run_publish(app_of(ctx), plan, resolve, as_json)


@plan_app.command("export", epilog=ex("duban plan export 1 --format yaml > plan.yaml",
                                      "duban plan export 1 --format json --out plan.json",
                                      "duban plan export 1 --format xlsx --out 分工方案.xlsx"))
def plan_export(ctx: typer.Context, plan: Annotated[str, typer.Argument(help="计划编号或标题中的文字")],
                fmt: Annotated[str, typer.Option("--format", help="yaml、json 或 xlsx（分工方案模板的格式，需 --out）")] = "yaml",
                out: Annotated[Optional[Path], typer.Option("--out", help="写入文件（默认输出到屏幕）")] = None) -> None:
    """导出计划的规范格式，可手工修改后重新导入。"""
    run_export(app_of(ctx), plan, fmt, out)

