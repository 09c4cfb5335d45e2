"""The plan workbook (issue 12, item 4): `plan template`, `plan export --format xlsx`, and the
Excel importer reading that form cell by cell. Round trips on the real seed plan."""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest

import cli_helpers
from workflow.errors import BadInput
from workflow.importers import load_plan
from workflow.importers.workbook import COLUMNS, FIRST_ROW, HEADER_ROW, NOTES_SHEET, SHEET, export_bytes, template_bytes
from workflow.plans.model import RESPONSIBILITY_ROLES, Plan

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "gz-sfj-2021.txt"
ROLE_ORDER = list(RESPONSIBILITY_ROLES)


def seed() -> Plan:
    return load_plan(SEED)


def by_role(plan: Plan) -> dict:
    """The canonical dict with each task's departments in column order (牵头, 配合, then the
    other roles): the order a table with one column per role can hold."""
    data = plan.to_dict()
    for task in data["tasks"]:
        task["responsibilities"].sort(key=lambda r: ROLE_ORDER.index(r["role"]))
    return data


def cells(data: bytes) -> list[list]:
    sheet = openpyxl.load_workbook(io.BytesIO(data))[SHEET]
    return [[c.value for c in row] for row in sheet.iter_rows()]


def save(tmp_path: Path, data: bytes, name: str = "plan.xlsx") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_export_import_export_is_the_same_plan(tmp_path: Path) -> None:
    plan = seed()
    first = export_bytes(plan)
    again = load_plan(save(tmp_path, first))
    assert by_role(again) == by_role(plan)
    assert again.warnings == []  # the form is read exactly: nothing guessed, nothing to warn about
    assert cells(export_bytes(again)) == cells(first)


def test_template_has_the_columns_notes_and_period_list() -> None:
    book = openpyxl.load_workbook(io.BytesIO(template_bytes()))
    sheet = book[SHEET]
    assert [c.value for c in sheet[HEADER_ROW]] == list(COLUMNS)
    assert [sheet.cell(r, 1).value for r in (1, 2)] == ["方案标题", "年度"]
    notes = {row[0].value: row[1].value for row in book[NOTES_SHEET].iter_rows(min_row=5) if row[0].value}
    assert set(COLUMNS) <= set(notes)
    assert "技术保障" in notes["其他职责"] and "按季度" in notes["周期"]
    (validation,) = sheet.data_validations.dataValidation
    assert validation.type == "list" and validation.formula1 == '"按季度,每半年"'
    assert str(validation.sqref).startswith(f"H{FIRST_ROW}:")


def test_blank_template_is_refused_with_where_to_write(tmp_path: Path) -> None:
    with pytest.raises(BadInput) as info:
        load_plan(save(tmp_path, template_bytes()))
    assert "没有任务" in info.value.message and f"第 {FIRST_ROW} 行" in info.value.message


def test_template_filled_by_hand_with_the_seed_gives_the_seed(tmp_path: Path) -> None:
    """An office types the seed's 28 tasks into the blank template the way people do: the
    section merged down over its rows, 完成时限 as Excel dates or words, no 序号 after the
    first, a chapter heading in 工作任务."""
    plan = seed()
    book = openpyxl.load_workbook(io.BytesIO(template_bytes()))
    sheet = book[SHEET]
    sheet["C1"], sheet["C2"], sheet["C3"] = plan.title, plan.year, plan.issuer
    sheet["C4"], sheet["C5"], sheet["C6"] = plan.issued_on, plan.distribute_by, plan.due
    sheet["C7"] = plan.delay_rule
    r = FIRST_ROW
    chapter = section_start = None
    section = None
    for k, task in enumerate(plan.tasks):
        if task.chapter != chapter:
            sheet.cell(r, 2, task.chapter)
            chapter, r = task.chapter, r + 1
        names = {role: "、".join(x.department for x in task.responsibilities if x.role == role) for role in ROLE_ORDER}
        if task.section != section or section_start is None:
            section, section_start = task.section, r
            sheet.cell(r, 2, task.section)
        elif r - 1 >= section_start:
            sheet.merge_cells(start_row=section_start, start_column=2, end_row=r, end_column=2)
        sheet.cell(r, 1, task.seq if k == 0 else None)
        sheet.cell(r, 3, task.requirement)
        sheet.cell(r, 4, names["lead"] or None)
        sheet.cell(r, 5, names["cooperate"] or None)
        sheet.cell(r, 6, ";".join(f"{RESPONSIBILITY_ROLES[role]}:{names[role]}" for role in ROLE_ORDER[2:] if names[role]) or None)
        if task.due:
            sheet.cell(r, 7, dt.datetime.combine(task.due, dt.time()) if task.seq % 2 else f"{task.due.month}月底前")
        sheet.cell(r, 8, {"quarterly": "按季度", "half_yearly": "每半年"}.get(task.recurrence or ""))
        sheet.cell(r, 9, task.note)
        r += 1
    out = io.BytesIO()
    book.save(out)
    again = load_plan(save(tmp_path, out.getvalue(), "填好的模板.xlsx"))
    assert by_role(again) == by_role(plan)


def _filled(tmp_path: Path, **row: object) -> Path:
    book = openpyxl.load_workbook(io.BytesIO(template_bytes()))
    sheet = book[SHEET]
    sheet["C1"], sheet["C2"] = "某局2022年政务公开工作要点分工方案", 2022
    values = {"序号": 1, "具体要求": "公开重大行政决策事项目录。", "牵头单位": "办公室", **row}
    for name, value in values.items():
        sheet.cell(FIRST_ROW, COLUMNS.index(name) + 1, value)
    out = io.BytesIO()
    book.save(out)
    return save(tmp_path, out.getvalue())


def test_the_form_reads_every_column(tmp_path: Path) -> None:
    plan = load_plan(_filled(tmp_path, 工作任务="一、深化决策公开\n做好决策公开", 配合单位="法规处、各业务处室",
                             其他职责="技术保障:科监处;督办:局政务公开办", 完成时限="持续推进", 周期="每半年", 备注="与年报同步"))
    (task,) = plan.tasks
    assert (plan.title, plan.year) == ("某局2022年政务公开工作要点分工方案", 2022)
    assert (task.chapter, task.section, task.note) == ("一、深化决策公开", "做好决策公开", "与年报同步")
    assert [(r.department, r.role, r.group) for r in task.responsibilities] == [
        ("办公室", "lead", False), ("法规处", "cooperate", False), ("各业务处室", "cooperate", True),
        ("科监处", "tech_support", False), ("局政务公开办", "supervise", False)]
    assert task.ongoing and task.due is None and task.recurrence == "half_yearly"


@pytest.mark.parametrize("row,needle", [
    ({"周期": "每月"}, "“周期”“每月”无效"),
    ({"其他职责": "科监处"}, "应写成“职责：处室”"),
    ({"牵头单位": None}, "没有填写处室"),
    ({"完成时限": "尽快"}, "“完成时限”“尽快”无法识别"),
    ({"序号": "一"}, "“序号”“一”应为正整数"),
    ({"完成时限": "2021-06-30"}, "不在计划年度 2022 内"),
], ids=["period", "other-roles", "no-department", "deadline", "seq", "due-year"])
def test_a_wrong_cell_is_named_by_its_row(tmp_path: Path, row: dict, needle: str) -> None:
    with pytest.raises(BadInput) as info:
        load_plan(_filled(tmp_path, **row))
    message = info.value.message
    assert needle in message and message.endswith("。") and "\n" not in message
    assert f"第 {FIRST_ROW} 行" in message or "第 1 项任务" in message


# ---------------------------------------------------------------- the commands


def test_template_and_export_commands(tmp_path: Path) -> None:
    template = tmp_path / "分工方案模板.xlsx"
    done = cli_helpers.run("plan", "template", "--out", str(template))
    assert done.returncode == 0, done.stderr
    assert "已写出空白模板" in done.stdout and not list(tmp_path.glob("*.part"))
    assert [c.value for c in openpyxl.load_workbook(template)[SHEET][HEADER_ROW]] == list(COLUMNS)

    db = f"sqlite:///{tmp_path / 'duban.db'}"
    cli_helpers.init_db(db)
    imported = cli_helpers.run("plan", "import", str(SEED), db=db, user="吴管理")
    assert imported.returncode == 0, imported.stderr
    out = tmp_path / "导出.xlsx"
    exported = cli_helpers.run("plan", "export", "1", "--format", "xlsx", "--out", str(out), db=db, user="吴管理")
    assert exported.returncode == 0, exported.stderr
    assert by_role(load_plan(out)) == by_role(seed())
    back = cli_helpers.run_json("plan", "import", str(out), "--dry-run", db=db, user="吴管理")
    assert len(back["tasks"]) == 28 and back["title"] == seed().title

    refused = cli_helpers.run("plan", "export", "1", "--format", "xlsx", db=db, user="吴管理")
    assert refused.returncode == 2 and "--out" in refused.stderr
