"""The responsibility-cell grammar and the deadline phrases, cell by cell."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.importers.deadlines import (
    parse_date_line,
    parse_deadline,
    parse_plan_cell,
)
from workflow.importers.grammar import (
    is_department_name,
    is_group_name,
    needs_naming,
    normalize_name,
    parse_cell,
)
from workflow.importers.hanzi import to_simplified


def roles(cell: str, default: str = "implement") -> list[tuple[str, str]]:
    return [(r.department, r.role) for r in parse_cell(cell, default).responsibilities]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("装财处牵头,办公室配合,科监处技术保障。", [("装财处", "lead"), ("办公室", "cooperate"), ("科监处", "tech_support")]),
        ("办公室(宣传组)、普法处按职责牵头,各相关业务处室配合。",
         [("办公室(宣传组)", "lead"), ("普法处", "lead"), ("各相关业务处室", "cooperate")]),
        ("局政务公开办会立法一处、立法二处牵头,各业务处室配合。",
         [("局政务公开办", "lead"), ("立法一处", "lead"), ("立法二处", "lead"), ("各业务处室", "cooperate")]),
        ("各相关业务处室落实,局政务公开办督办。", [("各相关业务处室", "implement"), ("局政务公开办", "supervise")]),
        ("局政务公开办牵头,组培处统筹,各业务处室配合。",
         [("局政务公开办", "lead"), ("组培处", "coordinate"), ("各业务处室", "cooperate")]),
        ("办公室会科监处牵头落实。", [("办公室", "lead"), ("科监处", "lead")]),
        ("局政务公开办牵头,相关业务处室配合落实。", [("局政务公开办", "lead"), ("相关业务处室", "cooperate")]),
        ("各相关业务处室。", [("各相关业务处室", "implement")]),
        ("立法一处、立法二处分别牵头落实", [("立法一处", "lead"), ("立法二处", "lead")]),
        ("各区司法局参照落实", [("各区司法局", "implement")]),
        ("办公室负责", [("办公室", "implement")]),
        ("装财处及科监处配合", [("装财处", "cooperate"), ("科监处", "cooperate")]),
        ("装财处和科监处;办公室督办", [("装财处", "implement"), ("科监处", "implement"), ("办公室", "supervise")]),
        ("牵头:装财处;配合:办公室、科监处", [("装财处", "lead"), ("办公室", "cooperate"), ("科监处", "cooperate")]),
        ("装财处牵头、办公室配合", [("装财处", "lead"), ("办公室", "cooperate")]),
        ("装财处(牵头)、办公室、科监处", [("装财处", "lead"), ("办公室", "cooperate"), ("科监处", "cooperate")]),
        ("由办公室牵头", [("办公室", "lead")]),
        ("人事和组织处牵头", [("人事和组织处", "lead")]),
        ("市委员会办公室配合", [("市委员会办公室", "cooperate")]),
        ("局政务公开办牵头督办", [("局政务公开办", "lead"), ("局政务公开办", "supervise")]),
    ],
)
def test_cells(cell: str, expected: list[tuple[str, str]]) -> None:
    parsed = parse_cell(cell)
    assert roles(cell) == expected
    assert parsed.clean


def test_lead_and_supervise_with_a_trailing_instruction() -> None:
    parsed = parse_cell("局政务公开办牵头督办,管理服务大厅(窗口)处室、及相关处室(单位)配合,结合实际,采取有效措施抓好落实。")
    assert [(r.department, r.role, r.group) for r in parsed.responsibilities] == [
        ("局政务公开办", "lead", False),
        ("局政务公开办", "supervise", False),
        ("管理服务大厅(窗口)处室", "cooperate", False),
        ("相关处室(单位)", "cooperate", True),
    ]
    assert parsed.note == "结合实际,采取有效措施抓好落实"


def test_leading_conjunction_is_not_part_of_the_name() -> None:
    cell = "管理服务大厅(窗口)处室、及组织实施政策相关处室(单位)落实,局政务公开办督办。"
    parsed = parse_cell(cell)
    assert [(r.department, r.group) for r in parsed.responsibilities][:2] == [
        ("管理服务大厅(窗口)处室", False),
        ("组织实施政策相关处室(单位)", True),
    ]


def test_trailing_deng_is_warned() -> None:
    parsed = parse_cell("办公室、装财处等配合")
    assert roles("办公室、装财处等配合") == [("办公室", "cooperate"), ("装财处", "cooperate")]
    assert len(parsed.warnings) == 1 and "等" in parsed.warnings[0]


def test_column_default_role_applies_to_bare_lists() -> None:
    assert roles("装财处、办公室", "lead") == [("装财处", "lead"), ("办公室", "lead")]
    assert roles("科监处技术保障", "cooperate") == [("科监处", "tech_support")]


def test_sentences_are_not_departments() -> None:
    for text in ("各处室(部门)于11月底前按要求落实,若无法按时完成请向局政务公开办书面说明。",
                 "局政务公开办7月底前完善我局政务公开各项制度并分发2021年度工作任务。",
                 "采取有效措施抓好落实", "结合实际"):
        parsed = parse_cell(text)
        assert not parsed.clean and not parsed.responsibilities


def test_traditional_characters() -> None:
    assert roles("局政務公開辦牽頭,各業務處室配合,科監處負責。") == [
        ("局政务公开办", "lead"), ("各业务处室", "cooperate"), ("科监处", "implement")]
    assert to_simplified("規範性文件審查處") == "规范性文件审查处"
    assert to_simplified("局政务公开办牵头") == "局政务公开办牵头"  # simplified text is unchanged


@pytest.mark.parametrize(
    "name",
    ["各业务处室", "各相关业务处室", "相关业务处室", "局属各单位", "各处室(部门)", "相关处室(单位)", "机关各处室",
     "组织实施政策相关处室(单位)", "各区司法局"],
)
def test_group_names(name: str) -> None:
    assert is_group_name(name)


@pytest.mark.parametrize("name", ["办公室(宣传组)", "局政务公开办", "管理服务大厅(窗口)处室", "规范性文件审查处"])
def test_single_departments(name: str) -> None:
    assert not is_group_name(name) and is_department_name(name)


def test_only_xiangguan_groups_need_naming() -> None:
    assert needs_naming("相关处室(单位)") and needs_naming("各相关业务处室")
    assert not needs_naming("各业务处室") and not needs_naming("局属各单位")


def test_brackets_are_normalised_to_one_form() -> None:
    assert normalize_name("办公室(宣传组)") == normalize_name("办公室\uff08宣传组\uff09") == "办公室(宣传组)"
    assert normalize_name(" 办公室 \uff08 宣传组 \uff09 ") == "办公室(宣传组)"
    assert roles("办公室\uff08宣传组\uff09牵头") == [("办公室(宣传组)", "lead")]


_STEMS = st.sampled_from(["装财", "科监", "普法", "立法一", "立法二", "组培", "行政应诉", "规范性文件审查", "法规"])
_SUFFIXES = st.sampled_from(["处", "室", "科", "办", "中心", "大队"])
_NAMES = st.lists(st.builds(lambda a, b: a + b, _STEMS, _SUFFIXES), min_size=1, max_size=4, unique=True)
_ROLE_WORDS = {"牵头": "lead", "配合": "cooperate", "技术保障": "tech_support", "督办": "supervise",
               "统筹": "coordinate", "负责": "implement", "配合落实": "cooperate", "牵头落实": "lead"}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_NAMES, st.sampled_from(sorted(_ROLE_WORDS))), min_size=1, max_size=4),
       st.sampled_from([",", "，", ";", "。"]), st.sampled_from(["、", "、及"]))
def test_any_list_of_clauses_parses_back(clauses, separator, joiner) -> None:
    cell = separator.join(joiner.join(names) + role for names, role in clauses) + "。"
    expected = []
    for names, role in clauses:
        for name in names:
            if (name, _ROLE_WORDS[role]) not in expected:
                expected.append((name, _ROLE_WORDS[role]))
    assert roles(cell) == expected


# --------------------------------------------------------------------------- deadlines

Y = 2021


@pytest.mark.parametrize(
    ("text", "due"),
    [
        ("7月底前", dt.date(Y, 7, 31)),
        ("11月底前", dt.date(Y, 11, 30)),
        ("年底", dt.date(Y, 12, 31)),
        ("年底前", dt.date(Y, 12, 31)),
        ("下半年", dt.date(Y, 12, 31)),
        ("上半年", dt.date(Y, 6, 30)),
        ("2021年8月前", dt.date(Y, 7, 31)),
        ("2021年9月30日前", dt.date(Y, 9, 30)),
        ("9月中旬", dt.date(Y, 9, 20)),
        ("三季度末", dt.date(Y, 9, 30)),
        ("十一月底前", dt.date(Y, 11, 30)),
        ("2021-10-15", dt.date(Y, 10, 15)),
        ("2021年9月", dt.date(Y, 9, 30)),
    ],
)
def test_deadline_cells(text: str, due: dt.date) -> None:
    assert parse_deadline(text, Y, cell=True).due == due


@pytest.mark.parametrize(
    ("text", "recurrence"),
    [("每季度", "quarterly"), ("按季度核查", "quarterly"), ("每季更新台账", "quarterly"), ("每半年更新", "half_yearly")],
)
def test_recurrence(text: str, recurrence: str) -> None:
    found = parse_deadline(text, Y)
    assert found.recurrence == recurrence and found.due is None


@pytest.mark.parametrize("text", ["持续推进", "长期推进"])
def test_ongoing(text: str) -> None:
    found = parse_deadline(f"{text}政务公开标准化建设", Y)
    assert found.ongoing and found.due == dt.date(Y, 12, 31)


@pytest.mark.parametrize(
    "text",
    ["(2021年我局牵头项目)", "按《关于提升效率的函》(2021年印发)要求", "2021年9月印发的文件", "建立2021年本单位政务公开工作台账",
     "进一步提升年度报告质量", "2020年底前已完成"],
)
def test_task_text_dates_that_are_not_deadlines(text: str) -> None:
    assert parse_deadline(text, Y) == parse_deadline("", Y)


def test_task_text_deadlines() -> None:
    assert parse_deadline("年底本单位门户网站实现支持互联网协议第6版", Y).due == dt.date(Y, 12, 31)
    assert parse_deadline("下半年举办业务培训", Y).due == dt.date(Y, 12, 31)
    assert parse_deadline("7月底前制定方案,10月底前完成", Y).due == dt.date(Y, 10, 31)


def test_plan_cell() -> None:
    cell = parse_plan_cell(
        "局政务公开办7月底前完善我局政务公开各项制度并分发2021年度工作任务。\n"
        "各处室(部门)于11月底前按要求落实,若无法按时完成请向局政务公开办书面说明。", Y)
    assert (cell.distribute_by, cell.due) == (dt.date(Y, 7, 31), dt.date(Y, 11, 30))
    assert cell.delay_rule == "若无法按时完成请向局政务公开办书面说明"


def test_date_lines() -> None:
    assert parse_date_line("2021年7月19日") == dt.date(2021, 7, 19)
    assert parse_date_line("二〇二一年七月十九日") == dt.date(2021, 7, 19)
    assert parse_date_line("2021年7月19日印发") is None


# Phrases from real published plans (tests/corpus), each with the reading a careful reader gives.
@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("市金融办、人民银行潍坊市中心支行、潍坊银监分局分别牵头落实",
         [("市金融办", "lead"), ("人民银行潍坊市中心支行", "lead"), ("潍坊银监分局", "lead")]),
        ("宣传处会办公室", [("宣传处", "implement"), ("办公室", "implement")]),
        ("应急处、监督处等按职责分工落实", [("应急处", "implement"), ("监督处", "implement")]),
        ("市财政局牵头,市直各部门落实;各镇(街)参照落实",
         [("市财政局", "lead"), ("市直各部门", "implement"), ("各镇(街)", "implement")]),
        ("市政府办公室、市司法局牵头,市直其他单位按职能分工落实",
         [("市政府办公室", "lead"), ("市司法局", "lead"), ("市直其他单位", "implement")]),
        ("牵头单位:市委编办、市政务服务和大数据管理局;责任单位:市直相关单位,各县市区人民政府",
         [("市委编办", "lead"), ("市政务服务和大数据管理局", "lead"), ("市直相关单位", "implement"),
          ("各县市区人民政府", "implement")]),
        ("牽頭股室:綜合股、法規股;責任股室:各相關股室",
         [("综合股", "lead"), ("法规股", "lead"), ("各相关股室", "implement")]),
        ("责任科室:执法监督科、综合科,各科室配合",
         [("执法监督科", "implement"), ("综合科", "implement"), ("各科室", "cooperate")]),
        ("基教处、电教馆;各市、县(市、区)教育局",
         [("基教处", "implement"), ("电教馆", "implement"), ("各市、县(市、区)教育局", "implement")]),
        ("局防控办主办、各工作组协办", [("局防控办", "lead"), ("各工作组", "cooperate")]),
        ("市政府办公室、市有关单位(见附件1,下同),各县(市、区)人民政府(管委会)负责",
         [("市政府办公室", "implement"), ("市有关单位", "implement"), ("各县(市、区)人民政府(管委会)", "implement")]),
    ],
)
def test_phrases_of_real_plans(cell: str, expected: list[tuple[str, str]]) -> None:
    assert roles(cell) == expected


def test_named_departments_etc_a_group_are_the_named_ones_flagged() -> None:
    """'X、Y等有关部门': the named departments; the list is flagged as perhaps incomplete."""
    parsed = parse_cell("市民政局、市农业农村局等有关部门落实")
    assert [(r.department, r.role) for r in parsed.responsibilities] == [("市民政局", "implement"),
                                                                        ("市农业农村局", "implement")]
    assert len(parsed.warnings) == 1 and "等" in parsed.warnings[0]


@pytest.mark.parametrize("name", ["各县(市、区)人民政府", "局主办科室", "制定规范性文件的部门", "功能区管委会"])
def test_groups_without_ge(name: str) -> None:
    assert is_group_name(normalize_name(name))
