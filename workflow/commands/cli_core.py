"""The core command groups: states, db, plan, dept, user, task, review, delay, demo.

Parsing and printing only; every decision is made in workflow/.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from workflow.clock import parse_date
from workflow.commands.common import app_of, print_json
from workflow.commands.output import LIGHTS, clip, print_table

JSON = Annotated[bool, typer.Option("--json", help="以 JSON 输出(供脚本使用)")]
_FOR = Annotated[Optional[str], typer.Option("--for", help="代办:以被代办人的名义操作(需本人授权)")]
ID = Annotated[int, typer.Argument(help="事项编号(见 duban task list)", min=1, max=2**62)]


def ex(*lines: str) -> str:
    return "\b\n示例:\n" + "\n".join(f"  {line}" for line in lines)


def _group(name: str, help_text: str, *example_lines: str) -> typer.Typer:
    group = typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=None,
                        epilog=ex(*example_lines), context_settings={"help_option_names": ["-h", "--help"]})

    @group.callback()
    def _cb() -> None:  # keeps single-command groups from collapsing
        pass

    _cb.__doc__ = help_text
    return group


db_app = _group("db", "数据库:初始化与升级。", "duban db init", "duban --db postgresql://postgres@127.0.0.1/test db init")
plan_app = _group("plan", "计划(分工方案):导入、查看、下发、导出。",
                  "duban plan import examples/gz-sfj-2021.txt --dry-run", "duban plan list", "duban --as 李审核 plan publish 1")
dept_app = _group("dept", "处室名录。", "duban dept add 装财处 --email zc@sfj.gz.gov.cn", "duban dept list")
user_app = _group("user", "用户、角色与登录令牌。", "duban user add 张三 --dept 装财处 --role staff --email zs@sfj.gz.gov.cn",
                  "duban user list", "duban user rotate-token", "duban user revoke 张三")
task_app = _group("task", "事项:查看、签收、报送、撤销、重新办理。",
                  "duban --as 张三 task list --mine", "duban --as 张三 task start 12",
                  "duban --as 张三 task submit 12 --summary 已完成预决算公开")
review_app = _group("review", "审核:待审核清单、审核通过、退回。",
                    "duban --as 李审核 review list", "duban --as 李审核 review approve 12",
                    "duban --as 李审核 review send-back 12 --comment 请补充公开网址")
delay_app = _group("delay", "延期:书面说明并申请新的完成时限,审核同意或不同意。",
                   "duban --as 张三 delay request 7 --reason 需等待上级平台 --until 2021-12-15",
                   "duban --as 李审核 delay approve 7")
audit_app = _group("audit", "审计:校验办理记录的哈希链、打印锚点、导出记录。", "duban audit verify", "duban audit anchor",
                   "duban audit export --out events.jsonl")


# ---------------------------------------------------------------- states
def states_show(ctx: typer.Context, mermaid: Annotated[bool, typer.Option("--mermaid", help="输出 Mermaid 状态图")] = False,
                as_json: JSON = False) -> None:
    """显示状态机:每个操作的起止状态、谁可以执行、需要填写什么。"""
    import states

    app = app_of(ctx)
    if mermaid:
        print(states.mermaid(), file=app.out)
    elif as_json:
        print_json(app, states.table_rows())
    else:
        rows = states.table_rows()
        print_table(app.out, ["操作", "中文", "从", "到", "谁", "必填"],
                    [[r["trigger"], r["label"], r["from"], r["to"], r["who"], r["requires"]] for r in rows])


# ---------------------------------------------------------------- db
@db_app.command("init", epilog=ex("duban db init --admin 吴管理 --email wu@sfj.gz.gov.cn",
                                  "duban db init", "DUBAN_DB=postgresql://postgres@127.0.0.1/test duban db init"))
def db_init(ctx: typer.Context,
            admin: Annotated[Optional[str], typer.Option("--admin", help="同时创建第一位管理员(仅当还没有管理员时),并显示其令牌一次")] = None,
            email: Annotated[Optional[str], typer.Option("--email", help="配合 --admin:管理员的邮箱")] = None,
            as_json: JSON = False) -> None:
    """创建数据库或升级到最新结构;重复执行是安全的。"""
    from db.migrate import current_revision, upgrade
    from workflow.auth import has_admin
    from workflow.errors import BadInput, Refused

    app = app_of(ctx)
    if bool(admin) != bool(email):
        raise BadInput("--admin 与 --email 需要一起使用,例如 duban db init --admin 吴管理 --email wu@sfj.gz.gov.cn。")
    engine = app.engine(check_schema=False)
    if admin and has_admin(engine):  # refuse before changing anything
        raise Refused("数据库中已有管理员;新用户请由管理员用 duban user add 添加。")
    before = current_revision(engine)
    upgrade(engine)
    after = current_revision(engine)
    if not as_json:
        print(f"数据库已是最新结构({after})。" if before == after else
              f"数据库已{'升级' if before else '创建'}:{before or '空'} → {after}。", file=app.out)
    if admin:
        from workflow.commands.auth_cmds import create_first_admin, show_token

        user, token = create_first_admin(app, admin, email)
        show_token(app, user, token, as_json, {"revision": after})
    elif as_json:
        print_json(app, {"revision": after})


# ---------------------------------------------------------------- plan
@plan_app.command("import", epilog=ex("duban plan import examples/gz-sfj-2021.txt --dry-run",
                                      "duban plan import examples/gz-sfj-2021.txt",
                                      "duban plan import 分工方案.docx --year 2022"))
def plan_import(ctx: typer.Context,
                file: Annotated[Path, typer.Argument(help="计划文件:网页文本 .txt、.docx、.xlsx 或规范格式 .yaml/.json")],
                dry_run: Annotated[bool, typer.Option("--dry-run", help="只显示识别结果和警告,不写入数据库")] = False,
                year: Annotated[Optional[int], typer.Option("--year", help="文件未写明年度时使用的年度", min=2000, max=2100)] = None,
                as_json: JSON = False) -> None:
    """导入计划:先显示识别出的表格和警告;不加 --dry-run 时写入数据库。"""
    from workflow.commands import plan_cmds

    plan_cmds.run_import(app_of(ctx), file, dry_run=dry_run, year=year, as_json=as_json)


@plan_app.command("list", epilog=ex("duban plan list", "duban plan list --json"))
def plan_list(ctx: typer.Context, as_json: JSON = False) -> None:
    """列出已导入的计划。"""
    from workflow.commands import plan_cmds

    plan_cmds.run_list(app_of(ctx), as_json)


@plan_app.command("show", epilog=ex("duban plan show 1", "duban plan show 司法局 --json"))
def plan_show(ctx: typer.Context, plan: Annotated[str, typer.Argument(help="计划编号或标题中的文字")],
              as_json: JSON = False) -> None:
    """显示计划的每一项任务及落实处室。"""
    from workflow.commands import plan_cmds

    plan_cmds.run_show(app_of(ctx), plan, as_json)


@plan_app.command("publish", epilog=ex("duban --as 李审核 plan publish 1",
                                       "duban --as 李审核 plan publish 1 --resolve resolve.yaml"))
def plan_publish(ctx: typer.Context, plan: Annotated[str, typer.Argument(help="计划编号或标题中的文字")],
                 resolve: Annotated[Optional[Path], typer.Option("--resolve", help="“相关处室”的指定文件(YAML:任务序号 → 群组 → 处室列表)")] = None,
                 as_json: JSON = False) -> None:
    """下发计划:为每项任务 × 处室 × 角色 × 期次创建事项;重复下发不会重复创建。

    “相关”处室群组(如“各相关业务处室”)须指定具体处室:用 --resolve 文件,或在终端中逐项选择
    (可把选择保存为文件供下次使用)。下发后按紧迫程度列出各处室的新事项。"""
    from workflow.commands import plan_cmds

    plan_cmds.run_publish(app_of(ctx), plan, resolve, as_json)


@plan_app.command("export", epilog=ex("duban plan export 1 --format yaml > plan.yaml",
                                      "duban plan export 1 --format json --out plan.json"))
def plan_export(ctx: typer.Context, plan: Annotated[str, typer.Argument(help="计划编号或标题中的文字")],
                fmt: Annotated[str, typer.Option("--format", help="yaml 或 json")] = "yaml",
                out: Annotated[Optional[Path], typer.Option("--out", help="写入文件(默认输出到屏幕)")] = None) -> None:
    """导出计划的规范格式,可手工修改后重新导入。"""
    from workflow.commands import plan_cmds

    plan_cmds.run_export(app_of(ctx), plan, fmt, out)


# ---------------------------------------------------------------- dept / user
@dept_app.command("add", epilog=ex("duban dept add 规范性文件审查处 --alias 文件审查处 --email gfc@sfj.gz.gov.cn",
                                   "duban dept add 局政务公开办 --kind office --email gk@sfj.gz.gov.cn"))
def dept_add(ctx: typer.Context, name: Annotated[str, typer.Argument(help="处室全称")],
             email: Annotated[Optional[str], typer.Option("--email", help="处室公共邮箱")] = None,
             alias: Annotated[Optional[list[str]], typer.Option("--alias", help="别名或简称,可多次使用")] = None,
             kind: Annotated[str, typer.Option("--kind", help="office(综合)、business(业务处室)或 unit(局属单位)")] = "business",
             as_json: JSON = False) -> None:
    """添加处室(只有管理员可以修改处室名录)。"""
    import states
    from workflow.commands.auth_cmds import DIRECTORY_ADMIN
    from workflow.directory import add_department

    app = app_of(ctx)
    with app.session() as s:
        app.require(s, states.administers, DIRECTORY_ADMIN)
        d = add_department(s, name, email, alias or [], kind)
    if as_json:
        print_json(app, d.model_dump())
    app.say(f"已添加处室 {d.name}(编号 {d.id})。")


@dept_app.command("list", epilog=ex("duban dept list", "duban dept list --json"))
def dept_list(ctx: typer.Context, as_json: JSON = False) -> None:
    """列出处室名录。"""
    from workflow.directory import KINDS, list_departments

    app = app_of(ctx)
    with app.session() as s:
        app.viewer(s)  # any signed-in user
        rows = list_departments(s)
    if as_json:
        print_json(app, [d.model_dump() for d in rows])
        return
    print_table(app.out, ["编号", "名称", "类别", "别名", "邮箱"],
                [[d.id, d.name, KINDS.get(d.kind, d.kind), "、".join(d.aliases), d.email or ""] for d in rows])


@dept_app.command("import", epilog=ex("duban dept import examples/departments.csv"))
def dept_import(ctx: typer.Context, file: Annotated[Path, typer.Argument(help="处室名录 CSV 或 YAML")],
                as_json: JSON = False) -> None:
    """从 CSV/YAML 导入处室名录(名称、别名、邮箱、类别、负责人);已有的处室会更新。"""
    from workflow.commands import plan_cmds

    plan_cmds.run_dept_import(app_of(ctx), file, as_json)


@user_app.command("add", epilog=ex("duban user add 张三 --dept 装财处 --role staff --email zs@sfj.gz.gov.cn",
                                   "duban user add 李审核 --dept 局政务公开办 --role reviewer --email li@sfj.gz.gov.cn"))
def user_add(ctx: typer.Context, name: Annotated[str, typer.Argument(help="姓名(即 --as 使用的名字)")],
             email: Annotated[str, typer.Option("--email", help="邮箱")],
             role: Annotated[list[str], typer.Option("--role", help="staff、head、reviewer、supervisor 或 admin,可多次使用")],
             dept: Annotated[Optional[str], typer.Option("--dept", help="所属处室")] = None,
             as_json: JSON = False) -> None:
    """添加用户(只有管理员可以添加),并显示其登录令牌一次。"""
    from workflow.commands.auth_cmds import add_user_with_token, show_token

    app = app_of(ctx)
    u, token = add_user_with_token(app, name, email, role, dept)
    app.say(f"已添加用户 {u.name}(编号 {u.id},角色 {'、'.join(u.roles)})。")
    show_token(app, u, token, as_json)


@user_app.command("list", epilog=ex("duban user list", "duban user list --json"))
def user_list(ctx: typer.Context, as_json: JSON = False) -> None:
    """列出用户(不含令牌或其哈希)。"""
    from dataclasses import asdict

    from workflow.directory import user_views

    app = app_of(ctx)
    with app.session() as s:
        app.viewer(s)  # any signed-in user
        rows = user_views(s)
    if as_json:
        print_json(app, [asdict(u) for u in rows])
        return
    print_table(app.out, ["编号", "姓名", "处室", "角色", "邮箱"],
                [[u.id, u.name, u.department or "", "、".join(u.roles), u.email] for u in rows])


# ---------------------------------------------------------------- task
def _print_assignments(app, rows: list[dict]) -> None:
    print_table(app.out, ["编号", "任务", "处室", "角色", "期次", "状态", "时限", "提示"],
                [[r["id"], r["task"], clip(r["department"], 18), r["role_label"], r["period"] or "—",
                  r["state_label"], r["due_date"], LIGHTS[r["light"]]] for r in rows])
    print(f"共 {len(rows)} 项。", file=app.out)


@task_app.command("list", epilog=ex("duban --as 张三 task list --mine", "duban task list --dept 装财处 --state in_progress",
                                    "duban task list --overdue --json"))
def task_list(ctx: typer.Context,
              dept: Annotated[Optional[str], typer.Option("--dept", help="只看某处室")] = None,
              state: Annotated[Optional[str], typer.Option("--state", help="只看某状态,如 in_progress")] = None,
              overdue: Annotated[bool, typer.Option("--overdue", help="只看已逾期")] = False,
              mine: Annotated[bool, typer.Option("--mine", help="只看操作人所在处室")] = False,
              plan: Annotated[Optional[str], typer.Option("--plan", help="只看某计划")] = None,
              as_json: JSON = False) -> None:
    """列出事项,最紧急的在前(逾期、临期、正常)。"""
    from workflow.commands import task_cmds

    rows = task_cmds.run_list(app_of(ctx), dept=dept, state=state, overdue=overdue, mine=mine, plan=plan)
    app = app_of(ctx)
    if as_json:
        print_json(app, rows)
    else:
        _print_assignments(app, rows)


@task_app.command("show", epilog=ex("duban task show 12", "duban task show 12 --json"))
def task_show(ctx: typer.Context, assignment_id: ID, as_json: JSON = False) -> None:
    """显示一个事项的详情与可执行的操作。"""
    from workflow.commands import lifecycle, task_cmds

    app = app_of(ctx)
    view = lifecycle.view(app, assignment_id)
    if as_json:
        print_json(app, view)
    else:
        task_cmds.print_view(app, view)


@task_app.command("history", epilog=ex("duban task history 12", "duban task history 12 --json"))
def task_history(ctx: typer.Context, assignment_id: ID, as_json: JSON = False) -> None:
    """显示一个事项的全部办理记录。"""
    from workflow.commands import task_cmds

    task_cmds.run_history(app_of(ctx), assignment_id, as_json)


@task_app.command("start", epilog=ex("duban --as 张三 task start 12"))
def task_start(ctx: typer.Context, assignment_id: ID, for_user: _FOR = None, as_json: JSON = False) -> None:
    """签收事项,开始办理。"""
    from workflow.commands import lifecycle

    lifecycle.transition(app_of(ctx), assignment_id, "start", on_behalf=for_user, as_json=as_json)


@task_app.command("submit", epilog=ex("duban --as 张三 task submit 12 --summary 已在门户网站公开2021年部门预算",
                                     "duban --as 张三 task submit 12 --summary 见附件 --attach 公开截图.png"))
def task_submit(ctx: typer.Context, assignment_id: ID,
                summary: Annotated[Optional[str], typer.Option("--summary", help="办理情况(必填)")] = None,
                attach: Annotated[Optional[list[Path]], typer.Option("--attach", help="附件文件,可多次使用")] = None,
                for_user: _FOR = None, as_json: JSON = False) -> None:
    """报送办理结果,等待政务公开办审核。"""
    from workflow.commands import lifecycle
    from workflow.engine import Fields

    lifecycle.transition(app_of(ctx), assignment_id, "submit", Fields(summary=summary),
                         on_behalf=for_user, attach=attach, as_json=as_json)


@task_app.command("cancel", epilog=ex("duban --as 李审核 task cancel 12 --reason 方案调整,本项取消"))
def task_cancel(ctx: typer.Context, assignment_id: ID,
                reason: Annotated[Optional[str], typer.Option("--reason", help="撤销理由(必填)")] = None,
                as_json: JSON = False) -> None:
    """撤销事项(计划调整时)。"""
    from workflow.commands import lifecycle
    from workflow.engine import Fields

    lifecycle.transition(app_of(ctx), assignment_id, "cancel", Fields(reason=reason), as_json=as_json)


@task_app.command("reopen", epilog=ex("duban --as 李审核 task reopen 12 --reason 公开内容需更新"))
def task_reopen(ctx: typer.Context, assignment_id: ID,
                reason: Annotated[Optional[str], typer.Option("--reason", help="重新办理的理由(必填)")] = None,
                as_json: JSON = False) -> None:
    """重新办理已办结的事项。"""
    from workflow.commands import lifecycle
    from workflow.engine import Fields

    lifecycle.transition(app_of(ctx), assignment_id, "reopen", Fields(reason=reason), as_json=as_json)


# ---------------------------------------------------------------- review
@review_app.command("list", epilog=ex("duban --as 李审核 review list", "duban review list --json"))
def review_list(ctx: typer.Context, as_json: JSON = False) -> None:
    """待审核的报送和延期申请,等待最久的在前。"""
    from workflow.commands import task_cmds

    app = app_of(ctx)
    rows = task_cmds.run_review_list(app)
    if as_json:
        print_json(app, rows)
    else:
        _print_assignments(app, rows)


@review_app.command("approve", epilog=ex("duban --as 李审核 review approve 12", "duban --as 李审核 review approve --all --dept 装财处"))
def review_approve(ctx: typer.Context,
                   assignment_id: Annotated[Optional[int], typer.Argument(help="事项编号", min=1, max=2**62)] = None,
                   all_: Annotated[bool, typer.Option("--all", help="审核通过所有可审核的已报送事项(每项单独记录)")] = False,
                   dept: Annotated[Optional[str], typer.Option("--dept", help="配合 --all:只审核某处室")] = None,
                   comment: Annotated[Optional[str], typer.Option("--comment", help="审核意见")] = None,
                   as_json: JSON = False) -> None:
    """审核通过(办结)。不能审核本人报送的事项。"""
    from workflow.commands import lifecycle
    from workflow.engine import Fields
    from workflow.errors import BadInput

    app = app_of(ctx)
    if all_ == (assignment_id is not None):
        raise BadInput("请指定一个事项编号,或使用 --all(二者选一)。")
    if dept and not all_:
        raise BadInput("--dept 只能与 --all 一起使用。")
    if all_:
        lifecycle.approve_all(app, dept, comment, as_json)
    else:
        lifecycle.transition(app, assignment_id, "approve", Fields(comment=comment), as_json=as_json)


@review_app.command("send-back", epilog=ex("duban --as 李审核 review send-back 12 --comment 请补充公开网址"))
def review_send_back(ctx: typer.Context, assignment_id: ID,
                     comment: Annotated[Optional[str], typer.Option("--comment", help="退回意见(必填)")] = None,
                     as_json: JSON = False) -> None:
    """退回报送,要求修改后重新报送。"""
    from workflow.commands import lifecycle
    from workflow.engine import Fields

    lifecycle.transition(app_of(ctx), assignment_id, "send_back", Fields(comment=comment), as_json=as_json)


# ---------------------------------------------------------------- delay
@delay_app.command("request", epilog=ex("duban --as 张三 delay request 7 --reason 需等待市级平台上线 --until 2021-12-15"))
def delay_request(ctx: typer.Context, assignment_id: ID,
                  reason: Annotated[Optional[str], typer.Option("--reason", help="无法按时完成的书面说明(必填)")] = None,
                  until: Annotated[Optional[str], typer.Option("--until", help="申请的新完成时限 YYYY-MM-DD(必填)")] = None,
                  for_user: _FOR = None, as_json: JSON = False) -> None:
    """书面说明无法按时完成的原因,申请新的完成时限。"""
    from workflow.commands import lifecycle
    from workflow.engine import Fields

    date = parse_date(until, "--until") if until else None
    lifecycle.transition(app_of(ctx), assignment_id, "request_delay", Fields(reason=reason, until=date),
                         on_behalf=for_user, as_json=as_json)


@delay_app.command("approve", epilog=ex("duban --as 李审核 delay approve 7"))
def delay_approve(ctx: typer.Context, assignment_id: ID,
                  comment: Annotated[Optional[str], typer.Option("--comment", help="意见")] = None,
                  as_json: JSON = False) -> None:
    """同意延期:完成时限改为申请的日期。"""
    from workflow.commands import lifecycle
    from workflow.engine import Fields

    lifecycle.transition(app_of(ctx), assignment_id, "approve_delay", Fields(comment=comment), as_json=as_json)


@delay_app.command("reject", epilog=ex("duban --as 李审核 delay reject 7 --comment 请按原时限完成"))
def delay_reject(ctx: typer.Context, assignment_id: ID,
                 comment: Annotated[Optional[str], typer.Option("--comment", help="不同意的理由(必填)")] = None,
                 as_json: JSON = False) -> None:
    """不同意延期:完成时限不变。"""
    from workflow.commands import lifecycle
    from workflow.engine import Fields

    lifecycle.transition(app_of(ctx), assignment_id, "reject_delay", Fields(comment=comment), as_json=as_json)


@audit_app.command("verify", epilog=ex("duban audit verify", "duban audit verify --json",
                                        "duban audit verify --anchor duban-anchor:v1:…", "duban audit verify --anchor 锚点.txt"))
def audit_verify(ctx: typer.Context,
                 anchor: Annotated[Optional[str], typer.Option("--anchor", help="锚点(duban audit anchor 打印的一行),或含有锚点的文本文件")] = None,
                 as_json: JSON = False) -> None:
    """重新计算每个计划的办理记录哈希链,按办理记录重演每个事项的状态、时限和版本,并核对办理人的姓名、角色和处室;
    给出锚点时还证明锚点之前的记录未被改写。发现问题时逐条指出记录(退出码 1)。"""
    from workflow.audit import examine
    from workflow.errors import Refused

    app = app_of(ctx)
    parsed = _read_anchor(anchor) if anchor else None
    with app.session() as s:
        app.viewer(s)  # any signed-in user
    with app.engine().connect() as conn:
        report = examine(conn, anchor=parsed)
    found = [b.problem for b in report.breaks] + report.records + report.people
    if report.anchor:
        found += report.anchor.problems
    if as_json:
        print_json(app, {"checked": report.checked, "ok": report.ok,
                         "breaks": [{"plan": b.plan_id, "event": b.event_id, "problem": b.problem} for b in report.breaks],
                         "records": report.records, "people": report.people,
                         "anchor": None if report.anchor is None else {
                             "made_on": report.anchor.made_on, "plans": report.anchor.plans,
                             "events": report.anchor.events, "problems": report.anchor.problems,
                             "notes": report.anchor.notes}})
    if found:
        shown_ = found[:5] + ([f"另有 {len(found) - 5} 处问题(用 --json 查看全部)"] if len(found) > 5 else [])
        raise Refused("办理记录校验失败:" + ";".join(shown_) + "。")
    if not as_json:
        line = f"已校验 {report.checked} 条办理记录:哈希链完整,事项的状态、时限和版本与办理记录一致,办理人与记录相符。"
        if report.anchor:
            a = report.anchor
            line += (f"锚点({a.made_on},{a.plans} 个计划共 {a.events} 条记录)之前的记录未被改写"
                     + (f";{';'.join(a.notes)}" if a.notes else "") + "。")
        print(line, file=app.out)


def _read_anchor(value: str):
    """--anchor LINE, or a file that holds one (the last anchor line in it)."""
    from workflow.audit import parse_anchor
    from workflow.errors import BadInput

    text = value
    if not value.strip().startswith("duban-anchor:"):
        try:
            text = Path(value).read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            raise BadInput(f"--anchor {value} 既不是锚点(以 duban-anchor:v1: 开头),也不是存在的文件。") from None
        except (IsADirectoryError, PermissionError):
            raise BadInput(f"无法读取 --anchor 文件 {value}:请给出含有锚点的文本文件。") from None
    try:
        return parse_anchor(text)
    except ValueError as exc:
        raise BadInput(f"{exc}。") from None


@audit_app.command("anchor", epilog=ex("duban audit anchor", "duban audit anchor >> 锚点.txt"))
def audit_anchor(ctx: typer.Context) -> None:
    """打印锚点:每个计划记录链的链尾和条数,一行。把它保存在数据库之外(纸面、邮件、另一台电脑),
    以后用 duban audit verify --anchor 证明锚点之前的记录没有被改写。"""
    from workflow.audit import anchor

    app = app_of(ctx)
    with app.session() as s:
        app.viewer(s)  # any signed-in user
    with app.engine().connect() as conn:
        print(anchor(conn, app.clock.today()).line, file=app.out)


@audit_app.command("export", epilog=ex("duban audit export --out events.jsonl", "duban audit export > events.jsonl"))
def audit_export(ctx: typer.Context,
                 out: Annotated[Optional[Path], typer.Option("--out", help="写入文件(默认输出到屏幕)")] = None) -> None:
    """把全部办理记录按顺序导出为 JSON Lines,供归档(审核人、督查或管理员)。"""
    import states
    from workflow.audit import export
    from workflow.commands.common import check_out

    if out is not None:
        check_out(out)
    app = app_of(ctx)
    with app.session() as s:  # every department's records: only roles that read all
        app.require(s, states.reads_all, "无权导出全部办理记录:只有审核人、督查或管理员可以导出。")
    with app.engine().connect() as conn:
        if out is None:
            n = export(conn, app.out)
        else:
            tmp = out.with_name(out.name + ".part")
            with open(tmp, "w", encoding="utf-8") as fh:
                n = export(conn, fh)
            tmp.replace(out)
    app.say(f"已导出 {n} 条办理记录。")


delegate_app = _group("delegate", "代办:请假期间授权他人代为办理。",
                      "duban --as 张三 delegate add --to 赵六 --from 2021-10-01 --until 2021-10-15")


@delegate_app.command("add", epilog=ex("duban --as 张三 delegate add --to 赵六 --from 2021-10-01 --until 2021-10-15"))
def delegate_add(ctx: typer.Context,
                 to: Annotated[str, typer.Option("--to", help="代办人姓名")],
                 start: Annotated[str, typer.Option("--from", help="开始日期 YYYY-MM-DD")],
                 until: Annotated[str, typer.Option("--until", help="结束日期 YYYY-MM-DD(含)")],
                 as_json: JSON = False) -> None:
    """授权他人在指定期间以本人名义办理(办理记录同时记下代办人和本人)。"""
    from workflow.directory import add_delegation

    app = app_of(ctx)
    with app.session() as s:
        row, delegate = add_delegation(s, app.actor(s), to, parse_date(start, "--from"),
                                       parse_date(until, "--until"), app.clock)
    if as_json:
        print_json(app, {"id": row.id, "to": delegate.name, "from": row.starts_on, "until": row.ends_on})
    app.say(f"已授权 {delegate.name} 于 {row.starts_on} 至 {row.ends_on} 代为办理。")


def demo(ctx: typer.Context,
         folder: Annotated[Path, typer.Option("--dir", help="演示数据放在这个文件夹(数据库、邮件)")] = Path("demo")) -> None:
    """演示:导入示例计划(广州市司法局 2021),按时间线走完一年,打印结果表。"""
    from workflow.demo import run_demo

    run_demo(app_of(ctx), folder)


def register(app: typer.Typer) -> None:
    from workflow.commands import fast_params

    fast_params.install()  # plain option values without pydantic: ~100 ms off every command
    app.command("states", epilog=ex("duban states", "duban states --mermaid > states.mmd", "duban states --json"))(states_show)
    for name, group in (("db", db_app), ("plan", plan_app), ("dept", dept_app),
                        ("user", user_app), ("task", task_app), ("review", review_app), ("delay", delay_app),
                        ("audit", audit_app), ("delegate", delegate_app)):
        app.add_typer(group, name=name)
    app.command("demo", epilog=ex("duban demo", "duban demo --dir /tmp/duban-demo"))(demo)
    from workflow.commands import auth_cmds

    auth_cmds.register(app, user_app)
