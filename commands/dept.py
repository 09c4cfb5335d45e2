"""`duban dept`: the department directory."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from commands.common import JSON, app_of, ex, group, print_json
from commands.output import print_table


dept_app = group("dept", "处室名录。", "duban dept add 装财处 --email zc@sfj.gz.gov.cn", "duban dept list")


@dept_app.command("add", epilog=ex("duban dept add 规范性文件审查处 --alias 文件审查处 --email gfc@sfj.gz.gov.cn",
                                   "duban dept add 局政务公开办 --kind office --email gk@sfj.gz.gov.cn"))
def dept_add(ctx: typer.Context, name: Annotated[str, typer.Argument(help="处室全称")],
             email: Annotated[Optional[str], typer.Option("--email", help="处室公共邮箱")] = None,
             alias: Annotated[Optional[list[str]], typer.Option("--alias", help="别名或简称，可多次使用")] = None,
             kind: Annotated[str, typer.Option("--kind", help="office（综合）、business（业务处室）或 unit（局属单位）")] = "business",
             as_json: JSON = False) -> None:
    """添加处室（只有管理员可以修改处室名录）。"""
    from workflow.directory.service import add_department

    app = app_of(ctx)
    d = add_department(app, name, email, alias or [], kind)
    if as_json:
        print_json(app, d.model_dump())
    app.say(f"已添加处室 {d.name}（编号 {d.id}）。")


@dept_app.command("list", epilog=ex("duban dept list", "duban dept list --json"))
def dept_list(ctx: typer.Context, as_json: JSON = False) -> None:
    """列出处室名录。"""
    from workflow.directory.service import list_departments
    from workflow.directory.store import KINDS

    app = app_of(ctx)
    rows = list_departments(app)
    if as_json:
        print_json(app, [d.model_dump() for d in rows])
        return
    print_table(app.out, ["编号", "名称", "类别", "别名", "邮箱"],
                [[d.id, d.name, KINDS.get(d.kind, d.kind), "、".join(d.aliases), d.email or ""] for d in rows])


@dept_app.command("import", epilog=ex("duban dept import examples/departments.csv"))
def dept_import(ctx: typer.Context, file: Annotated[Path, typer.Argument(help="处室名录 CSV 或 YAML")],
                as_json: JSON = False) -> None:
    """从 CSV/YAML 导入处室名录（名称、别名、邮箱、类别、负责人）；已有的处室会更新。"""
    from commands import plan as plan_cmds

    plan_cmds.run_dept_import(app_of(ctx), file, as_json)

