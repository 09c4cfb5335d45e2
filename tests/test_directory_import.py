"""Department directory files (CSV, YAML) and name matching against them."""
from __future__ import annotations

from pathlib import Path

import pytest

from workflow.directory.importer import DeptRecord, alias_match, closest_names, parse_directory
from workflow.errors import BadInput

CSV = """name,aliases,email,kind,head
办公室（宣传组）,办公室;宣传组,bgs@example.gov.cn,office,王主任
局政务公开办,政务公开办、公开办,gkb@example.gov.cn,office,
装备财务处,装财处,zcc@example.gov.cn,business,李处长
科技和信息化监督处,科监处,kjc@example.gov.cn,business,
规范性文件审查处,,gfc@example.gov.cn,business,
立法一处,,lf1@example.gov.cn,business,
立法二处,,lf2@example.gov.cn,business,
公共法律服务中心,,gf@example.gov.cn,unit,
"""

YAML = """
- name: 办公室（宣传组）
  aliases: [办公室, 宣传组]
  email: bgs@example.gov.cn
  kind: office
  head: 王主任
- name: 装备财务处
  aliases: 装财处
  email: zcc@example.gov.cn
- name: 公共法律服务中心
  kind: 局属单位
"""


def write(tmp_path: Path, text: str, name: str = "dir.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def departments(tmp_path: Path) -> list[DeptRecord]:
    return parse_directory(write(tmp_path, CSV))


def test_csv(departments: list[DeptRecord]) -> None:
    first = departments[0]
    assert first == DeptRecord("办公室(宣传组)", ["办公室", "宣传组"], "bgs@example.gov.cn", "office", "王主任")
    assert departments[1].aliases == ["政务公开办", "公开办"]
    assert departments[1].head is None
    assert [d.kind for d in departments].count("business") == 5
    assert departments[-1].kind == "unit"


def test_csv_with_bom_and_gbk(tmp_path: Path) -> None:
    assert len(parse_directory(write(tmp_path, CSV, encoding="utf-8-sig"))) == 8
    assert len(parse_directory(write(tmp_path, CSV, encoding="gbk"))) == 8


def test_yaml(tmp_path: Path) -> None:
    records = parse_directory(write(tmp_path, YAML, "dir.yaml"))
    assert records[0] == DeptRecord("办公室(宣传组)", ["办公室", "宣传组"], "bgs@example.gov.cn", "office", "王主任")
    assert records[1].aliases == ["装财处"] and records[1].kind == "business"
    assert records[2].kind == "unit" and records[2].email is None


def test_yaml_detected_by_content_and_departments_key(tmp_path: Path) -> None:
    text = "departments:\n" + "\n".join("  " + line for line in YAML.strip().splitlines())
    assert len(parse_directory(write(tmp_path, text, "dir.txt"))) == 3


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("name,email\n办公室,not-an-email\n", "邮箱"),
        ("name,kind\n办公室,bureau\n", "office"),
        ("name,kind\n办公室,office\n办公室,office\n", "重复"),
        ("name,aliases\n办公室,综合\n综合处,综合\n", "只能对应一个处室"),
        ("name,phone\n办公室,123\n", "未知列"),
        ("name,email\n,a@b.cn\n", "缺少 name"),
        ("name,email\n", "没有处室"),
        ("", "空文件"),
        ("- 办公室\n- 装财处\n", "映射"),
        ("just: [broken\n", "YAML"),
    ],
)
def test_bad_directories(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(BadInput, match=needle):
        parse_directory(write(tmp_path, text))


def test_alias_match(departments: list[DeptRecord]) -> None:
    def match(name: str) -> str | None:
        found = alias_match(name, departments)
        return found.name if found else None

    assert match("文件审查处") == "规范性文件审查处"  # short name inside the long one
    assert match("装财处") == "装备财务处"  # alias
    assert match("科监处") == "科技和信息化监督处"
    assert match("办公室（宣传组）") == "办公室(宣传组)"  # brackets normalised
    assert match("局政务公开办") == "局政务公开办"
    assert match("市司法局政务公开办") == "局政务公开办"  # long name containing a known one
    assert match("立法处") is None  # matches nothing by containment
    assert match("立法") is None  # too short, and would be ambiguous
    assert match("各业务处室") is None  # groups are expanded elsewhere
    assert match("办公室(综合组)") == "办公室(宣传组)"  # sub-unit of a known department


def test_alias_match_is_unique_or_nothing() -> None:
    records = [DeptRecord("行政复议一处"), DeptRecord("行政复议二处")]
    assert alias_match("行政复议", records) is None
    assert alias_match("复议一处", records) == records[0]


def test_closest_names(departments: list[DeptRecord]) -> None:
    known = [d.name for d in departments]
    assert closest_names("文件审查处", known)[0] == "规范性文件审查处"
    assert "立法一处" in closest_names("立法三处", known)
    assert len(closest_names("处", known, n=2)) <= 2


def test_yaml_dates_stay_text_and_a_date_is_no_head(tmp_path: Path) -> None:
    """An unquoted impossible date is not an internal error: the loader keeps it as text."""
    path = tmp_path / "d.yaml"
    path.write_text("- name: 信息中心\n  head: 2021-02-30\n", encoding="utf-8")
    with pytest.raises(BadInput, match="2021-02-30"):
        parse_directory(path)
    path.write_text("- name: 信息中心\n  head: 王主任\n", encoding="utf-8")
    assert parse_directory(path)[0].head == "王主任"


def test_nul_byte_and_big5_are_named(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes("name,email\n信息\x00中心,xx@example.gov.cn\n".encode("utf-8"))
    with pytest.raises(BadInput, match="空字符"):
        parse_directory(path)
    path.write_bytes(("name,aliases,email\n資訊科技處,資訊處,it@example.gov.cn\n"
                      "裝備財務處,裝財處,zc@example.gov.cn\n").encode("big5"))
    with pytest.raises(BadInput, match="Big5"):
        parse_directory(path)


def test_import_refuses_an_alias_that_is_another_departments_name(world) -> None:
    """dept import agrees with dept add: a name or alias names one department only."""
    from workflow.directory.store import list_departments, upsert_departments
    from workflow.errors import Refused

    record = DeptRecord(name="信息中心", aliases=["装财处"], email=None, kind="business", head=None)
    with world.session() as s:
        with pytest.raises(Refused, match="装财处"):
            upsert_departments(s, [record])
        assert "信息中心" not in {d.name for d in list_departments(s)}
        # its own aliases, and an existing department re-imported unchanged, are fine
        fine = DeptRecord(name="装财处", aliases=["装备财务处"], email=None, kind="business", head=None)
        assert upsert_departments(s, [fine]) == ([], ["装财处"])
