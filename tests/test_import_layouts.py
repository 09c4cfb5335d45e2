"""Other real layouts of the same kind of document, one sample each (tests/fixtures/plans)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from workflow.errors import BadInput
from workflow.importers import load_plan, parse_plan_text
from workflow.plans.model import Plan

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "plans"


def load(name: str, year: int | None = None) -> Plan:
    return load_plan(FIXTURES / name, year)


def resp(plan: Plan, seq: int) -> list[tuple[str, str]]:
    task = next(t for t in plan.tasks if t.seq == seq)
    return [(r.department, r.role) for r in task.responsibilities]


def test_separate_lead_and_cooperate_columns_with_per_row_deadlines() -> None:
    plan = load("lead-coop-columns.txt")
    assert (plan.title, plan.issuer, plan.issued_on) == (
        "某市生态环境局2022年政务公开工作任务分解表", "某市生态环境局", dt.date(2022, 3, 15))
    assert plan.year == 2022 and plan.due is None and plan.distribute_by is None
    assert resp(plan, 1) == [("监测处", "lead"), ("办公室", "cooperate"), ("科技处", "cooperate")]
    assert resp(plan, 2) == [("环评处", "lead"), ("行政审批科", "cooperate")]
    assert resp(plan, 4) == [("办公室", "lead")]  # no 配合单位: not inherited
    t1, t2, t3, t4 = plan.tasks
    assert (t1.ongoing, t1.due) == (True, dt.date(2022, 12, 31))
    assert t2.recurrence == "quarterly"
    assert t3.due == dt.date(2022, 9, 30) and t3.section == "(二)执法信息公开"
    assert t4.due == dt.date(2022, 12, 31) and t4.chapter == "二、强化政务公开保障" and t4.section is None
    assert plan.warnings == []


def test_markdown_table_in_another_column_order_with_a_note_column() -> None:
    plan = load("pipe-reordered.md")
    assert plan.title == "某县人力资源和社会保障局2023年政务公开重点工作分工" and plan.year == 2023
    assert resp(plan, 1) == [("办公室", "lead"), ("各业务股室", "cooperate")]
    assert plan.tasks[0].note == "县政府重点项目"
    assert plan.tasks[0].due == dt.date(2023, 6, 30)
    # row 3 lacks its 工作任务 cell (merged): the remaining cells shift left
    assert plan.tasks[2].requirement == "建立社保待遇发放信息公开台账。"
    assert resp(plan, 3) == [("社保股", "implement")]
    assert plan.tasks[2].due == dt.date(2023, 9, 30)  # 10月前
    assert plan.tasks[2].chapter == "一、推进就业政策公开"
    assert plan.tasks[3].ongoing


def test_pipe_rows_that_lack_the_chapter_cell_and_the_deadline_cell() -> None:
    plan = load("pipe-plain-shift.txt")
    assert [t.seq for t in plan.tasks] == [1, 2, 3, 4]
    assert plan.tasks[1].requirement == "做好统计数据解读,年底前发布年度统计公报解读材料。"
    assert plan.tasks[1].chapter == "一、统计数据发布"
    assert resp(plan, 2) == [("综合处", "implement"), ("办公室", "implement")]
    assert plan.tasks[0].recurrence == "quarterly"
    assert plan.tasks[2].due == dt.date(2021, 7, 31)  # 2021年8月前
    assert plan.tasks[3].due == dt.date(2021, 7, 31)  # merged with row 3
    assert plan.warnings == ["第 4 行未写完成时限，沿用第 3 行（合并单元格）"]


def test_traditional_characters() -> None:
    plan = load("traditional.txt")
    assert plan.year == 2022
    assert resp(plan, 1) == [("规范性文件审查处", "lead"), ("各业务处室", "cooperate"), ("办公室", "supervise")]
    assert [r.group for r in plan.tasks[0].responsibilities] == [False, True, False]
    assert resp(plan, 2) == [("行政复议处", "implement")]
    assert resp(plan, 3) == [("办公室(宣传组)", "lead"), ("科技信息处", "tech_support")]
    assert plan.tasks[0].due == dt.date(2022, 11, 30) and plan.tasks[0].recurrence == "quarterly"
    assert plan.tasks[2].ongoing  # 長期堅持
    assert plan.tasks[0].requirement.startswith("在門戶網站")  # requirement kept as written


def test_rows_without_a_seq_column_are_numbered() -> None:
    plan = load("no-seq-lines.txt")
    assert [t.seq for t in plan.tasks] == [1, 2, 3]
    assert plan.tasks[0].section == "做好招生入学政策公开"
    assert resp(plan, 2) == [("民办教育科", "implement")]
    assert plan.tasks[2].chapter == "二、财务信息公开"
    assert resp(plan, 3) == [("计划财务科", "lead"), ("各学校", "cooperate")]


def test_page_that_stops_mid_row() -> None:
    plan = load("truncated.txt")
    assert [t.seq for t in plan.tasks] == [1, 2]
    assert "第 3 行不完整，已舍弃" in plan.warnings
    assert (plan.distribute_by, plan.due) == (dt.date(2021, 9, 30), dt.date(2021, 11, 30))
    assert plan.tasks[1].recurrence == "half_yearly"


def test_tab_separated_page_with_signature_after_the_table_and_a_footer() -> None:
    plan = load("web-footer.txt")
    assert plan.title == "某区市场监督管理局2022年政务公开工作要点责任分工"
    assert (plan.issuer, plan.issued_on) == ("某区市场监督管理局", dt.date(2022, 4, 1))
    assert len(plan.tasks) == 3
    assert plan.tasks[1].note == "与市局同步"
    assert plan.tasks[2].due == dt.date(2022, 12, 31)
    assert all("打印" not in t.requirement for t in plan.tasks)


def test_year_from_the_issue_date_when_the_title_names_none() -> None:
    text = "\n".join([
        "某局政务公开工作分工表", "某市某局", "2022年3月1日",
        "序号", "具体要求", "责任处室", "1", "公开机构职能。", "办公室负责。"])
    plan = parse_plan_text(text)
    assert plan.year == 2022 and plan.issued_on == dt.date(2022, 3, 1)


def test_year_from_the_argument_else_ask_for_year() -> None:
    with pytest.raises(BadInput, match="--year"):
        load("no-year.txt")
    plan = load("no-year.txt", year=2023)
    assert plan.year == 2023 and resp(plan, 2) == [("财务处", "lead"), ("办公室", "cooperate")]


def test_document_year_wins_over_a_different_argument() -> None:
    plan = load("traditional.txt", year=2030)
    assert plan.year == 2022
    assert any("--year 2030" in w for w in plan.warnings)


def test_each_cell_on_its_own_line_with_a_wrapped_header_cell() -> None:
    text = "\n".join([
        "某局2021年工作方案", "序号", "具体要求", "落实处室", "(部门)", "完成时限",
        "1", "公开预算。", "装财处负责。", "9月底前", "2", "公开决算。", "装财处负责。", "10月底前"])
    plan = parse_plan_text(text)
    assert [t.due for t in plan.tasks] == [dt.date(2021, 9, 30), dt.date(2021, 10, 31)]


def test_header_on_one_line_separated_by_spaces() -> None:
    text = "某局2021年工作方案\n序号 具体要求 责任单位\n1\n公开预算。\n装财处负责。\n2\n公开决算。\n装财处牵头,办公室配合。"
    plan = parse_plan_text(text)
    assert resp(plan, 2) == [("装财处", "lead"), ("办公室", "cooperate")]


def test_header_repeated_after_a_page_break_is_skipped() -> None:
    rows = "\n".join(f"| {i} | 第{i}项要求。 | 办公室负责。 |" for i in (1, 2))
    more = "| 3 | 第3项要求。 | 装财处负责。 |"
    text = f"某局2021年工作方案\n| 序号 | 具体要求 | 责任单位 |\n|---|---|---|\n{rows}\n| 序号 | 具体要求 | 责任单位 |\n{more}"
    assert [t.seq for t in parse_plan_text(text).tasks] == [1, 2, 3]


def test_chapter_rows_between_numbered_rows() -> None:
    text = "\n".join([
        "某局2021年工作方案", "序号", "工作任务", "具体要求", "责任单位",
        "一、公开财政信息", "1", "公开预算。", "装财处负责。", "二、公开人事信息", "2", "公开招录信息。", "人事处负责。"])
    plan = parse_plan_text(text)
    assert [t.chapter for t in plan.tasks] == ["一、公开财政信息", "二、公开人事信息"]
    assert plan.tasks[0].requirement == "公开预算。"


def test_rows_numbered_with_a_gap_are_kept_and_warned() -> None:
    text = "某局2021年工作方案\n序号|具体要求|责任单位\n1|公开预算。|装财处负责。\n3|公开决算。|装财处负责。"
    plan = parse_plan_text(text)
    assert [t.seq for t in plan.tasks] == [1, 3]
    assert plan.warnings == ["序号不连续，缺少第 2 行，请核对是否漏行"]


def test_list_ending_with_deng_is_warned_with_its_row() -> None:
    text = "某局2021年工作方案\n序号|具体要求|责任单位\n1|公开预算。|装财处牵头,办公室、科监处等配合。"
    plan = parse_plan_text(text)
    assert resp(plan, 1) == [("装财处", "lead"), ("办公室", "cooperate"), ("科监处", "cooperate")]
    assert len(plan.warnings) == 1 and plan.warnings[0].startswith("第 1 行：") and "等" in plan.warnings[0]


def test_unrecognised_row_deadline_is_kept_in_the_note() -> None:
    text = "某局2021年工作方案\n序号|具体要求|责任单位|完成时限\n1|公开预算。|装财处负责。|按上级要求\n2|公开决算。|装财处负责。|9月底前"
    plan = parse_plan_text(text)
    assert plan.tasks[0].note == "完成时限：按上级要求" and plan.tasks[0].due is None
    assert plan.tasks[1].due == dt.date(2021, 9, 30)
    assert any("按上级要求" in w for w in plan.warnings)


def test_saved_html_page_with_rowspan() -> None:
    page = """<html><head><title>x</title><style>td {color: red}</style></head><body>
    <div class="nav">首页 &gt; 信息公开</div>
    <p>某市司法局2021年政务公开工作要点分工方案</p>
    <table><tr><th>序号</th><th>工作任务</th><th>具体要求</th><th>落实处室(部门)</th><th>完成时限</th></tr>
    <tr><td>1</td><td rowspan="2">一、深化决策公开</td><td>公开决策目录。</td><td>办公室牵头,各业务处室配合。</td>
        <td rowspan="2">各处室于11月底前完成。</td></tr>
    <tr><td>2</td><td>公开决策草案&amp;征求意见情况。</td></tr>
    </table><p>【打印本页】</p></body></html>"""
    plan = parse_plan_text(page)
    assert [t.seq for t in plan.tasks] == [1, 2]
    assert plan.tasks[1].requirement == "公开决策草案&征求意见情况。"
    assert plan.tasks[1].responsibilities == plan.tasks[0].responsibilities
    assert plan.due == dt.date(2021, 11, 30) and plan.tasks[1].chapter == "一、深化决策公开"


def test_responsible_section_column_with_time_limit_and_note() -> None:
    # A district template: 责任科室 (not 处室), 时限要求 per row, a 备注 column, 工作任务 first.
    text = "\n".join([
        "某区某局2022年政务公开工作任务分解表",
        "工作任务|序号|具体要求|责任科室|时限要求|备注",
        "一、财政信息|1|公开部门预算。|财务科牵头,办公室配合。|2022年4月底前|与区财政局同步",
        "|2|每季度更新财政资金直达信息。|財務科負責。|每季度||",
        "二、政策解读|3|做好政策解读。|各相關科室落實,辦公室督辦。|年底前|"])
    plan = parse_plan_text(text)
    assert plan.year == 2022 and [t.seq for t in plan.tasks] == [1, 2, 3]
    assert resp(plan, 1) == [("财务科", "lead"), ("办公室", "cooperate")]
    assert resp(plan, 2) == [("财务科", "implement")]
    assert plan.tasks[0].due == dt.date(2022, 4, 30) and plan.tasks[0].note == "与区财政局同步"
    assert plan.tasks[1].recurrence == "quarterly"
    assert plan.tasks[2].due == dt.date(2022, 12, 31)
    assert resp(plan, 3) == [("各相关科室", "implement"), ("办公室", "supervise")]
    assert plan.tasks[2].responsibilities[0].group


def test_paragraph_plan_with_a_rule_for_all_later_tasks() -> None:
    """Numbered paragraphs closed by their responsibility parenthesis; a document-level rule
    ('以下均需各县市区落实,不再逐一列出') adds its departments to every later task and is said."""
    text = "\n".join([
        "某市2021年政务公开工作要点",
        "一、推进决策公开",
        "1.完善重大行政决策公开制度。(牵头单位:市司法局;责任单位:市直各部门)",
        "以下均需各县市区落实,不再逐一列出。",
        "2.做好政策解读。(责任单位:市政府办公室)",
        "3.加强政务公开平台建设。(市政务服务数据管理局负责落实)",
        "4.推进基层政务公开",
    ])
    plan = parse_plan_text(text)
    assert [(t.seq, t.chapter) for t in plan.tasks] == [(1, "推进决策公开"), (2, "推进决策公开"), (3, "推进决策公开")]
    assert resp(plan, 1) == [("市司法局", "lead"), ("市直各部门", "implement")]
    assert resp(plan, 2) == [("市政府办公室", "implement"), ("各县市区", "implement")]
    assert resp(plan, 3) == [("市政务服务数据管理局", "implement"), ("各县市区", "implement")]
    assert any("以下均需各县市区落实" in w for w in plan.warnings)
    assert any("推进基层政务公开" in w and "舍弃" in w for w in plan.warnings)  # cut off: dropped, and said
    assert all(d.seq is None for d in plan.doubts if "以下均需" in d.message)


@pytest.mark.parametrize("layout", ["bars between", "bar after each", "spaced header"])
def test_one_cell_per_line_with_bars(layout: str) -> None:
    cells = ["工作任务", "具体要求", "责任科室", "时限要求",
             "深化政策解读", "1", "做好政策解读工作。", "各科室", "持续推进",
             "规范年报", "2", "规范编制年度报告。", "办公室", "年底前"]
    if layout == "bars between":
        lines = [x for cell in cells for x in (cell, "|")]
    elif layout == "bar after each":
        lines = [f"{cell} |" for cell in cells]
    else:
        lines = ["具 体 要 求" if c == "具体要求" else c for c in cells]
    plan = parse_plan_text("\n".join(["某局2022年政务公开重点任务清单", *lines]))
    assert [(t.seq, t.requirement, t.ongoing) for t in plan.tasks] == [
        (1, "做好政策解读工作。", True), (2, "规范编制年度报告。", False)]
    assert resp(plan, 1) == [("各科室", "implement")] and plan.tasks[1].due == dt.date(2022, 12, 31)
    assert [t.section for t in plan.tasks] == ["深化政策解读", "规范年报"]


def test_pipe_rows_with_merged_chapter_cells_and_a_header_split_over_two_lines() -> None:
    text = "\n".join([
        "某市2021年政务公开任务分解",
        "工作任务 | 具体要求",
        "| 责任单位 |",
        "一、做好财政信息公开。 | 1.积极推进预算公开。 | 市财政局牵头,市直各部门落实;各镇(街)参照落实 |",
        "2.持续深化债务信息公开。 |",
        "3.加大惠民惠农资金信息公开力度。 | 市财政局 | |",
        "4.按上级考核要求,市直有关部门每年至少更新一次",
    ])
    plan = parse_plan_text(text)
    assert [t.seq for t in plan.tasks] == [1, 2, 3]
    assert plan.tasks[0].requirement == "积极推进预算公开。"
    assert resp(plan, 2) == resp(plan, 1)  # an empty 责任单位: the same as the row above
    assert resp(plan, 3) == [("市财政局", "implement")]
    assert any("第 2 行未写落实处室" in w for w in plan.warnings)
    assert any("第 4 行不完整" in w for w in plan.warnings)
    assert [(d.seq, d.field) for d in plan.doubts if "沿用" in d.message] == [(2, "responsibilities")]


def test_rows_with_more_cells_than_a_damaged_header_names() -> None:
    text = "\n".join([
        "某局2022年政务公开工作任务清单",
        "具体要求 | 责任科室",
        "1 | 政策解读 | 做好政策解读工作。 | 办公室 |",
        "2 | 依申请公开 | 依法办理政府信息公开申请。 | 法规科 |",
        "3 | 做好年度报告编制发布。 | 办公室 |",
    ])
    plan = parse_plan_text(text)
    assert [(t.seq, t.section, t.requirement) for t in plan.tasks] == [
        (1, "政策解读", "做好政策解读工作。"), (2, "依申请公开", "依法办理政府信息公开申请。"),
        (3, "依申请公开", "做好年度报告编制发布。")]
    assert resp(plan, 2) == [("法规科", "implement")]
    assert any(w.startswith("表头只列出具体要求、责任科室") for w in plan.warnings)


def test_levels_after_the_requirement_column_hold_the_requirement() -> None:
    text = "\n".join([
        "某局2022年政务公开工作要点分解",
        "工作要求 | 一级要点 | 二级要点 | 责任单位 | 完成时限",
        "一、深化政策公开 | (一)加强政策解读 | 1.做好重要政策解读。 | 办公室 | 年底前",
        "2.推进政策咨询。 | 法规科 | 持续推进 | |",
    ])
    plan = parse_plan_text(text)
    assert [(t.seq, t.chapter, t.section, t.requirement, t.ongoing) for t in plan.tasks] == [
        (1, "一、深化政策公开", "(一)加强政策解读", "做好重要政策解读。", False),
        (2, "一、深化政策公开", "(一)加强政策解读", "推进政策咨询。", True)]
    assert resp(plan, 2) == [("法规科", "implement")]


def test_a_column_naming_a_person_is_not_a_department_column() -> None:
    text = "\n".join([
        "某局2022年政务公开重点工作任务分解表",
        "序号 | 重点任务 | 牵头领导 | 牵头单位 | 配合单位 | 完成时限",
        "1 | 做好政策解读。 | 张三 | 办公室 | 各科室 | 年底前",
        "2 | 做好依申请公开。 | 李四 | 法规科 | | 6月底前",
    ])
    plan = parse_plan_text(text)
    assert resp(plan, 1) == [("办公室", "lead"), ("各科室", "cooperate")]
    assert resp(plan, 2) == [("法规科", "lead")] and plan.tasks[1].due == dt.date(2022, 6, 30)
    assert plan.warnings == []


def test_unnumbered_tasks_each_followed_by_label_lines() -> None:
    text = "\n".join([
        "某区2023年政府工作报告重点任务分解",
        "一、稳定经济增长",
        "地区生产总值增长6%以上。",
        "牵头单位:区发改局",
        "责任单位:各街道办事处",
        "规上工业增加值增长8%。",
        "牵头单位:区工信局",
        "监督电话:12345",
    ])
    plan = parse_plan_text(text)
    assert [(t.seq, t.chapter, t.requirement) for t in plan.tasks] == [
        (1, "稳定经济增长", "地区生产总值增长6%以上。"), (2, "稳定经济增长", "规上工业增加值增长8%。")]
    assert resp(plan, 1) == [("区发改局", "lead"), ("各街道办事处", "implement")]
    assert resp(plan, 2) == [("区工信局", "lead")]
