"""Open assignments as an .ics calendar (RFC 5545): one all-day event per open
assignment on its due date, stable UIDs so a re-import updates, alarms, and user text
that cannot break the file."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from icalendar import Calendar

from cli_helpers import run
from conftest import World, drive
from workflow.reports.ics import PRODID, export_calendar

TODAY = dt.date(2021, 12, 1)
STAMP = dt.datetime(2021, 12, 1, 1, 2, 3, tzinfo=dt.timezone.utc)


def export(world: World, **filters) -> bytes:
    with world.session() as s:
        return export_calendar(s, TODAY, stamp=STAMP, **filters)


UID = re.compile(r"^(assignment-\d+)\.([0-9a-f]{16})@localhost$")


def uid(assignment_id: int) -> str:
    """The UID with its database's instance id left out (events() does the same)."""
    return f"assignment-{assignment_id}"


def events(data: bytes) -> list:
    """The VEVENTs, each UID checked for its form and shortened to `assignment-N`."""
    found = Calendar.from_ical(data).walk("VEVENT")
    for ev in found:
        m = UID.match(str(ev["UID"]))
        assert m, ev["UID"]
        ev["UID"] = m.group(1)
    return found


def open_rows(world: World, department: str | None = None) -> dict[int, dt.date]:
    """Open assignments straight from the table: id → due date."""
    from sqlalchemy import select

    from db.models import Assignment, Department

    q = (select(Assignment.id, Assignment.due_date).join(Department, Department.id == Assignment.department_id)
         .where(Assignment.state.not_in(("done", "cancelled"))))
    if department:
        q = q.where(Department.name == department)
    with world.session() as s:
        return dict(s.execute(q).all())


def dept_id(world: World, name: str) -> int:
    from workflow.directory.store import find_department

    with world.session() as s:
        return find_department(s, name).id


@pytest.fixture
def worked(world: World) -> World:
    """Some assignments closed: done, cancelled, and one in each open state."""
    drive(world, world.assignment(1, "装财处"), "done")
    drive(world, world.assignment(3, "装财处"), "cancelled")
    drive(world, world.assignment(1, "办公室"), "assigned")
    from commands.lifecycle import transition
    from workflow.lifecycle.engine import Fields

    transition(world.app("孙科监"), world.assignment(1, "科监处"), "start", Fields())
    return world


def test_one_all_day_event_per_open_assignment(worked):
    expected = open_rows(worked)
    evs = events(export(worked))
    assert len(evs) == len(expected) > 0
    by_uid = {str(e["UID"]): e for e in evs}
    assert len(by_uid) == len(evs)  # unique
    for aid, due in expected.items():
        ev = by_uid[uid(aid)]
        start = ev.decoded("DTSTART")
        assert type(start) is dt.date and start == due  # a date, not a datetime: all day
        assert ev.decoded("DTEND") == due + dt.timedelta(days=1)
        assert ev.decoded("DTSTAMP") == STAMP


def test_closed_assignments_are_absent(worked):
    uids = {str(e["UID"]) for e in events(export(worked))}
    assert uid(worked.assignment(1, "装财处")) not in uids  # done
    assert uid(worked.assignment(3, "装财处")) not in uids  # cancelled


def test_filter_by_department_and_plan(worked):
    kj = dept_id(worked, "科监处")
    evs = events(export(worked, department_id=kj))
    assert {str(e["UID"]) for e in evs} == {uid(a) for a in open_rows(worked, "科监处")}
    assert all("科监处" in str(e["SUMMARY"]) for e in evs)
    assert len(events(export(worked, plan_id=worked.plan_id))) == len(open_rows(worked))
    assert events(export(worked, plan_id=worked.plan_id + 1)) == []


def test_summary_description_and_alarms(worked):
    aid = worked.assignment(1, "科监处")
    ev = {str(e["UID"]): e for e in events(export(worked))}[uid(aid)]
    assert str(ev["SUMMARY"]) == "【督办】第1项 科监处 截止"
    text = str(ev["DESCRIPTION"])
    for part in ("计划：测试局2021年政务公开工作要点分工方案", "具体要求：推进预算、决算公开。",
                 "处室：科监处（技术保障）", "状态：办理中", "完成时限：2021年11月30日",
                 "已逾期 1 个工作日", f"duban task show {aid}"):
        assert part in text
    alarms = ev.walk("VALARM")
    assert sorted(a.decoded("TRIGGER") for a in alarms) == [dt.timedelta(hours=-15), dt.timedelta(hours=9)]
    assert all(str(a["ACTION"]) == "DISPLAY" for a in alarms)


def test_periods_are_named(worked):
    aid = worked.assignment(2, "规范性文件审查处", period="2021Q4")
    ev = {str(e["UID"]): e for e in events(export(worked))}[uid(aid)]
    assert str(ev["SUMMARY"]) == "【督办】第2项（2021年第4季度） 规范性文件审查处 截止"
    assert "期次：2021年第4季度" in str(ev["DESCRIPTION"])


def test_calendar_properties(worked):
    cal = Calendar.from_ical(export(worked, department_id=dept_id(worked, "装财处")))
    assert str(cal["PRODID"]) == PRODID and str(cal["VERSION"]) == "2.0"
    assert str(cal["X-WR-CALNAME"]) == "督办事项（装财处）"


def test_same_data_same_bytes_and_a_moved_due_date_updates_the_same_event(world):
    aid = world.assignment(1, "科监处")
    first = export(world)
    assert export(world) == first
    from commands.lifecycle import transition
    from workflow.lifecycle.engine import Fields

    transition(world.app("孙科监"), aid, "request_delay", Fields(reason="等待接口", until=dt.date(2021, 12, 20)))
    transition(world.app("李审核"), aid, "approve_delay", Fields())
    before = {str(e["UID"]): e for e in events(first)}[uid(aid)]
    after = {str(e["UID"]): e for e in events(export(world))}[uid(aid)]
    assert after.decoded("DTSTART") == dt.date(2021, 12, 20) != before.decoded("DTSTART")
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])  # clients replace, not duplicate


def test_line_breaks_and_long_text_cannot_break_the_file(world):
    from sqlalchemy import update

    from db.models import Task

    nasty = ("第一行\r\n" + "END:VEVENT\r\nBEGIN:VEVENT\rUID:evil\n" + "很长的要求,含逗号;分号\\反斜杠" * 20)
    with world.session() as s:
        s.execute(update(Task).where(Task.plan_id == world.plan_id, Task.seq == 1).values(requirement=nasty))
        s.commit()
    data = export(world)
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))  # folded, in octets
    assert b"\r\nUID:evil" not in data and b"\nBEGIN:VEVENT\rUID" not in data
    evs = events(data)
    assert len(evs) == len(open_rows(world))
    ev = {str(e["UID"]): e for e in evs}[uid(world.assignment(1, "装财处"))]
    expected = nasty.replace("\r\n", "\n").replace("\r", "\n").strip()
    assert f"具体要求：{expected}\n" in str(ev["DESCRIPTION"])
    assert "\n" not in str(ev["SUMMARY"])


# ---------------------------------------------------------------- the command line
def test_cli_export_by_department(worked, tmp_path):
    out = tmp_path / "out" / "科监处.ics"
    out.parent.mkdir()
    proc = run("calendar", "export", "--dept", "科监处", "--out", str(out), db=worked.url, today="2021-12-01", user="李审核")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    evs = events(out.read_bytes())
    assert {str(e["UID"]) for e in evs} == {uid(a) for a in open_rows(worked, "科监处")}
    assert list(out.parent.iterdir()) == [out]  # no .part left behind


def test_cli_export_everything_of_a_plan(worked, tmp_path):
    out = tmp_path / "all.ics"
    proc = run("calendar", "export", "--plan", str(worked.plan_id), "--out", str(out), db=worked.url, user="李审核")
    assert proc.returncode == 0, proc.stderr
    assert len(events(out.read_bytes())) == len(open_rows(worked))


@pytest.mark.parametrize("args,code,words", [
    (["--dept", "不存在的处", "--out", "{dir}/a.ics"], 1, "处室“不存在的处”不存在"),
    (["--plan", "999", "--out", "{dir}/a.ics"], 1, "计划“999”不存在"),
    (["--out", "{dir}/a.txt"], 2, ".ics"),
    (["--out", "{dir}/missing/a.ics"], 2, "不存在"),
])
def test_cli_refusals_are_one_sentence_and_write_nothing(world, tmp_path, args, code, words):
    folder = tmp_path / "out"
    folder.mkdir()
    proc = run("calendar", "export", *[a.replace("{dir}", str(folder)) for a in args], db=world.url, user="李审核")
    assert proc.returncode == code, proc.stderr
    assert words in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert list(folder.iterdir()) == []


def test_uids_stable_within_a_database_and_distinct_across_databases(tmp_path):
    """Two exports of one database agree on every UID; another database (a demo, last
    year's) never produces the same UID, even for the same assignment number."""
    from conftest import build_world, migrated_sqlite

    def raw_uids(world: World) -> list[str]:
        with world.session() as s:
            data = export_calendar(s, TODAY, stamp=STAMP, domain="sfj.gz.gov.cn")
        return [str(e["UID"]) for e in Calendar.from_ical(data).walk("VEVENT")]

    first, second = (build_world(migrated_sqlite(tmp_path / name)) for name in ("a.db", "b.db"))
    once, again, other = raw_uids(first), raw_uids(first), raw_uids(second)
    assert once and once == again
    assert all(u.endswith("@sfj.gz.gov.cn") and u.startswith("assignment-") for u in once)
    assert [u.split(".")[0] for u in once] == [u.split(".")[0] for u in other]  # same numbers
    assert not set(once) & set(other)
