"""The seed notice (广州市司法局2021年政务公开工作要点分工方案), imported from its web text."""
from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from workflow.importers import load_plan, parse_plan_text
from workflow.plans.model import Plan, plan_from_dict

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "examples" / "gz-sfj-2021.txt"

L, C, T, S, CO, I = "lead", "cooperate", "tech_support", "supervise", "coordinate", "implement"
OFFICE = "局政务公开办"
PR = "办公室(宣传组)"
ALL_BIZ = [("局政务公开办", L), ("各业务处室", C)]
REL_BIZ = [("局政务公开办", L), ("相关业务处室", C)]
LEGAL = [("立法一处", L), ("立法二处", L), ("文件审查处", L), ("各业务处室", C), ("科监处", T)]

# Every row of the seed: (department, role) in the order written.
EXPECTED_RESPONSIBILITIES: dict[int, list[tuple[str, str]]] = {
    1: [("装财处", L), ("办公室", C), ("科监处", T)],
    2: [("各相关业务处室", I)],
    3: [(PR, L), ("普法处", L), ("各相关业务处室", C)],
    4: [("各相关业务处室", I), (OFFICE, S)],
    5: [("管理服务大厅(窗口)处室", I), ("组织实施政策相关处室(单位)", I), (OFFICE, S)],
    6: [(OFFICE, L), (OFFICE, S), ("管理服务大厅(窗口)处室", C), ("相关处室(单位)", C)],
    7: [(OFFICE, L), ("科监处", T), ("各业务处室", C)],
    8: [(PR, L), ("各业务处室", C)],
    9: [(PR, L), ("各业务处室", C)],  # merged with row 8
    10: LEGAL,
    11: LEGAL,  # merged with row 10
    12: [(OFFICE, L), ("立法一处", L), ("立法二处", L), ("各业务处室", C)],
    13: [("规范性文件审查处", L), ("各业务处室", C), (OFFICE, S)],
    14: [(PR, L), ("科监处", L), ("各相关业务处室", C), ("局属各单位", C), (OFFICE, S)],
    15: [(PR, L), ("各相关业务处室", C), ("局属各单位", C)],
    16: [("办公室", L), ("科监处", L)],
    17: REL_BIZ,
    18: REL_BIZ,
    19: ALL_BIZ,
    20: [("装财处", L), (OFFICE, S)],
    21: [("行政应诉处", L), ("相关业务处室", C)],
    22: ALL_BIZ,
    23: [(OFFICE, L)],
    24: [(OFFICE, L), ("组培处", CO), ("各业务处室", C)],
    25: ALL_BIZ,
    26: ALL_BIZ,
    27: ALL_BIZ,
    28: ALL_BIZ,  # merged with row 27
}
GROUPS = {"各相关业务处室", "各业务处室", "相关业务处室", "局属各单位", "相关处室(单位)", "组织实施政策相关处室(单位)"}
YEAR_END = dt.date(2021, 12, 31)
EXPECTED_DUE = {16: YEAR_END, 24: YEAR_END}  # every other row: None (the plan's 11-30)
EXPECTED_RECURRENCE = {9: "quarterly", 13: "quarterly", 19: "quarterly", 26: "quarterly", 17: "half_yearly"}
CHAPTER_STARTS = {1: "一、", 2: "二、", 12: "三、", 18: "四、", 23: "五、"}
SECTIONS = {
    1: "做好财政信息公开",
    2: "(一)持续加强重大政策发布解读", 3: "(一)持续加强重大政策发布解读",
    4: "(二)不断改进政策解读工作方式", 7: "(二)不断改进政策解读工作方式",
    8: "(三)加强回应工作,关切回应效果", 11: "(三)加强回应工作,关切回应效果",
    12: "(一)做好政务信息管理工作", 14: "(二)完善政务公开平台", 16: "(二)完善政务公开平台",
    17: "(三)推进基层政务公开标准化规范化", 18: "(一)提高依申请公开工作质量",
    21: "(二)规范政府信息公开行政复议案件审理标准", 22: "(三)加强配套制度建设",
    23: "(一)加强工作指导", 25: "(一)加强工作指导", 26: "(二)狠抓任务落实", 28: "(二)狠抓任务落实",
}


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(SEED)


def test_plan_metadata(plan: Plan) -> None:
    assert plan.title == "广州市司法局2021年政务公开工作要点分工方案"
    assert plan.issuer == "广州市司法局"
    assert plan.issued_on == dt.date(2021, 7, 19)
    assert plan.year == 2021


def test_plan_level_deadline_cell(plan: Plan) -> None:
    assert plan.distribute_by == dt.date(2021, 7, 31)
    assert plan.due == dt.date(2021, 11, 30)
    assert plan.delay_rule == "若无法按时完成请向局政务公开办书面说明"


def test_all_28_rows_in_order(plan: Plan) -> None:
    assert [t.seq for t in plan.tasks] == list(range(1, 29))


def test_deadline_cell_is_not_part_of_task_1(plan: Plan) -> None:
    task = plan.tasks[0]
    assert task.requirement == "积极配合、推进单位预算、决算及相关报表公开。"
    assert task.note is None
    assert all("底前" not in r.department for r in task.responsibilities)


@pytest.mark.parametrize("seq", sorted(EXPECTED_RESPONSIBILITIES))
def test_responsibilities_of_every_row(plan: Plan, seq: int) -> None:
    task = plan.tasks[seq - 1]
    assert [(r.department, r.role) for r in task.responsibilities] == EXPECTED_RESPONSIBILITIES[seq]
    assert all(r.group == (r.department in GROUPS) for r in task.responsibilities)


@pytest.mark.parametrize("seq", range(1, 29))
def test_due_and_recurrence_of_every_row(plan: Plan, seq: int) -> None:
    task = plan.tasks[seq - 1]
    assert task.due == EXPECTED_DUE.get(seq)
    assert task.recurrence == EXPECTED_RECURRENCE.get(seq)
    assert task.ongoing is False
    assert plan.due_of(task) == EXPECTED_DUE.get(seq, dt.date(2021, 11, 30))


def test_chapters_and_sections(plan: Plan) -> None:
    chapter = None
    for task in plan.tasks:
        chapter = CHAPTER_STARTS.get(task.seq, chapter)
        assert task.chapter and task.chapter.startswith(chapter)
    for seq, section in SECTIONS.items():
        assert plan.tasks[seq - 1].section == section


def test_trailing_instruction_is_the_note(plan: Plan) -> None:
    assert plan.tasks[5].note == "结合实际,采取有效措施抓好落实"
    assert [t.seq for t in plan.tasks if t.note] == [6]


def test_merged_responsibility_cells_warn(plan: Plan) -> None:
    assert "第 9 行未写落实处室，沿用第 8 行（合并单元格）" in plan.warnings
    assert "第 11 行未写落实处室，沿用第 10 行（合并单元格）" in plan.warnings
    assert "第 28 行未写落实处室，沿用第 27 行（合并单元格）" in plan.warnings
    assert len(plan.warnings) == 3


def test_requirements_keep_their_text(plan: Plan) -> None:
    assert plan.tasks[11].requirement.endswith("(2021年我局牵头项目)")
    assert plan.tasks[15].requirement == "年底本单位门户网站实现支持互联网协议第6版"
    assert plan.tasks[27].requirement == "将本要点落实情况纳入2021年政府信息公开工作年度报告,及时挂网公示,接受监督。"


def test_round_trip_through_the_canonical_form(plan: Plan) -> None:
    again = plan_from_dict(plan.to_dict())
    assert again == dataclasses.replace(plan, warnings=[], doubts=[])


def test_round_trip_through_yaml_text(plan: Plan) -> None:
    import yaml

    text = yaml.safe_dump(plan.to_dict(), allow_unicode=True, sort_keys=False)
    assert parse_plan_text(text) == dataclasses.replace(plan, warnings=[], doubts=[])


def test_windows_line_endings_and_page_spaces() -> None:
    text = SEED.read_text(encoding="utf-8").replace("\n", "\r\n").replace("序号", "\u3000序号\u3000")
    assert [t.seq for t in parse_plan_text(text).tasks] == list(range(1, 29))


def test_parsing_is_deterministic() -> None:
    """The same text gives the same plan every time (no state kept between parses).
    Parse time is measured by bench/import_plan.py, not asserted here."""
    text = SEED.read_text(encoding="utf-8")
    assert parse_plan_text(text) == parse_plan_text(text)


def _generated(rows: int) -> str:
    lines = ["某局2021年政务公开工作要点分工方案", "序号", "工作任务", "具体要求", "落实处室", "完成时限"]
    roles = ["办公室牵头,各业务处室配合。", "装财处牵头,局政务公开办督办。", "科监处负责。", "立法一处、立法二处按职责牵头。"]
    for seq in range(1, rows + 1):
        lines.append(str(seq))
        if seq % 100 == 1:
            lines.append(f"{'一二三四五六七八九十'[seq // 100 % 10]}、第{seq // 100 + 1}部分")
        lines.append(f"第{seq}项任务:按季度公开相关信息,做好解读回应工作,确保{seq}号事项落实到位。")
        if seq % 7:
            lines.append(roles[seq % len(roles)])
        if seq == 1:
            lines.append("各处室于11月底前完成。")
    return "\n".join(lines)


def test_two_thousand_rows_parse() -> None:
    """A 2,000-row plan parses whole (its speed: bench/import_plan.py)."""
    plan = parse_plan_text(_generated(2000))
    assert len(plan.tasks) == 2000
    assert plan.tasks[6].responsibilities == plan.tasks[5].responsibilities  # row 7 merged
    assert plan.due == dt.date(2021, 11, 30)


def test_importing_the_package_does_not_load_docx_openpyxl_or_yaml() -> None:
    code = (
        "import sys, pathlib\n"
        "from workflow.importers import load_plan\n"
        f"load_plan(pathlib.Path({str(SEED)!r}))\n"
        "print(sorted(m for m in ('docx', 'openpyxl', 'yaml') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_each_warning_about_a_row_is_a_doubt_on_that_cell(plan: Plan) -> None:
    """Rows 9, 11 and 28 take the department cell of the row above (merged): a draft marks them."""
    merged = [(d.seq, d.field) for d in plan.doubts if "沿用" in d.message]
    assert merged == [(9, "responsibilities"), (11, "responsibilities"), (28, "responsibilities")]


def test_a_task_dropped_because_junk_follows_the_table_is_loud() -> None:
    """Junk lines after the last row make it unreadable: it is dropped with a warning and a doubt."""
    text = SEED.read_text(encoding="utf-8") + "\n" + "\n".join(f"无关内容第{i}行" for i in range(2_000))
    plan = parse_plan_text(text)
    assert [t.seq for t in plan.tasks] == list(range(1, 28))
    assert "第 28 行不完整，已舍弃" in plan.warnings
    assert any(d.message == "第 28 行不完整，已舍弃" and d.seq is None for d in plan.doubts)
