"""Read scoping (issue 6, item 2): staff and heads see only their own department's
assignments; reviewers, supervisors and admins see every department's.

Every (reader role, own/other department) pair is enumerated for each read: task
list, show and history, the review queue and the ledger. The expectations are written
out here, not read from states/, so loosening the rule in states/ fails a case."""
from __future__ import annotations

import datetime as dt

import pytest

from cli_helpers import run, run_json
from conftest import build_world, migrated_sqlite
from workflow.clock import Clock
from commands import lifecycle
from commands import task as task_cmds
from commands.ledger import LedgerOptions, run_ledger
from workflow.directory.store import add_user
from workflow.lifecycle.engine import Fields
from workflow.errors import NotFound, NotPermitted

ALL = "all"
READERS = {  # name -> (role and department side, the departments they may read)
    "张三": ("staff of 装财处", {"装财处"}),
    "钱处长": ("head of 装财处", {"装财处"}),
    "孙科监": ("staff of 科监处", {"科监处"}),
    "马处长": ("head of 科监处", {"科监处"}),
    "冯审核": ("reviewer of 装财处", ALL),
    "李审核": ("reviewer of 局政务公开办", ALL),
    "陈督查": ("supervisor of 装财处", ALL),
    "周督查": ("supervisor of no department", ALL),
    "郑管理": ("admin of 装财处", ALL),
    "吴管理": ("admin of no department", ALL),
}
EXTRA_USERS = [("马处长", "科监处", ["head"]), ("冯审核", "装财处", ["reviewer"]),
               ("陈督查", "装财处", ["supervisor"]), ("郑管理", "装财处", ["admin"])]
TARGETS = {"装财处": (1, ""), "科监处": (1, ""), "局政务公开办": (2, "2021Q3")}  # dept -> (task, period)
SECRET_TEXT = "推进预算、决算公开。"  # task 1's requirement: never shown to another department


def _world(url: str):
    world = build_world(url)
    with world.session() as s:
        for name, dept, roles in EXTRA_USERS:
            world.ids[name] = add_user(s, name, f"{name.encode().hex()[:10]}@example.gov.cn", roles, dept,
                                       Clock(dt.date(2021, 7, 20))).id
    # something in the review queue of two departments
    for dept, who in (("装财处", "张三"), ("科监处", "孙科监")):
        aid = world.assignment(1, dept)
        lifecycle.transition(world.app(who), aid, "start")
        lifecycle.transition(world.app(who), aid, "submit", Fields(summary=f"{dept}已办理"))
    return world


@pytest.fixture(scope="module")
def scoped(tmp_path_factory):

    url = migrated_sqlite(tmp_path_factory.mktemp("scope") / "duban.db")
    return _world(url)


def _expected(reader: str, all_departments: set[str]) -> set[str]:
    visible = READERS[reader][1]
    return all_departments if visible == ALL else visible


def _all_departments(world) -> set[str]:
    return {r["department"] for r in task_cmds.run_list(world.app(), dept=None, state=None, overdue=False,
                                                        mine=False, plan=None)}


def test_every_role_is_a_reader_on_both_sides():
    import states

    sides: dict[str, set[bool]] = {}
    for side, _ in READERS.values():
        role, dept = side.split(" of ")
        sides.setdefault(role, set()).add(dept == "装财处")
    assert all(sides.get(role) == {True, False} for role in states.ROLES)


@pytest.mark.parametrize("reader", READERS)
def test_task_list(scoped, reader):
    rows = task_cmds.run_list(scoped.app(reader), dept=None, state=None, overdue=False, mine=False, plan=None)
    assert {r["department"] for r in rows} == _expected(reader, _all_departments(scoped))


@pytest.mark.parametrize("reader", READERS)
def test_review_queue(scoped, reader):
    rows = task_cmds.run_review_list(scoped.app(reader))
    assert {r["department"] for r in rows} == _expected(reader, {"装财处", "科监处"})


@pytest.mark.parametrize("reader", READERS)
def test_ledger(scoped, reader):
    ledger = run_ledger(scoped.app(reader, today="2021-12-31"), LedgerOptions())
    assert {r.department for r in ledger.rows} == _expected(reader, _all_departments(scoped))
    assert {t.name for t in ledger.by_department} == _expected(reader, _all_departments(scoped))


SHOW_CASES = [(r, d) for r in READERS for d in TARGETS]


@pytest.mark.parametrize("reader,dept", SHOW_CASES, ids=[f"{r}-{d}" for r, d in SHOW_CASES])
def test_show_and_history(scoped, reader, dept):
    task, period = TARGETS[dept]
    aid = scoped.assignment(task, dept, period=period)
    app = scoped.app(reader)
    if dept in _expected(reader, set(TARGETS)):
        assert lifecycle.view(app, aid)["department"] == dept
        task_cmds.run_history(app, aid, as_json=True)
        assert str(aid) in app.out.getvalue()
        return
    for read in (lambda: lifecycle.view(app, aid), lambda: task_cmds.run_history(app, aid, as_json=True)):
        with pytest.raises(NotFound) as refused:
            read()
        # exactly what a missing id says: nothing about the assignment itself
        assert refused.value.message == f"事项 {aid} 不存在；可用 duban task list 查看事项编号。"
    assert app.out.getvalue() == ""


@pytest.mark.parametrize("reader", READERS)
def test_asking_for_another_department_by_name(scoped, reader):
    app = scoped.app(reader, today="2021-12-31")
    for dept in ("装财处", "科监处"):
        if dept in _expected(reader, {"装财处", "科监处"}):
            rows = task_cmds.run_list(app, dept=dept, state=None, overdue=False, mine=False, plan=None)
            assert {r["department"] for r in rows} == {dept}
            assert {r.department for r in run_ledger(app, LedgerOptions(dept=dept)).rows} == {dept}
        else:
            with pytest.raises(NotPermitted):
                task_cmds.run_list(app, dept=dept, state=None, overdue=False, mine=False, plan=None)
            with pytest.raises(NotPermitted):
                run_ledger(app, LedgerOptions(dept=dept))


def test_through_the_cli(db_url):
    """The same rule on the real command line, on both backends."""
    world = _world(db_url)
    other = str(world.assignment(1, "装财处"))
    shown = run("task", "show", other, "--json", db=world.url, user="孙科监")
    assert (shown.returncode, shown.stdout) == (1, "")
    assert "不存在" in shown.stderr and SECRET_TEXT not in shown.stderr
    history = run("task", "history", other, db=world.url, user="孙科监")
    assert history.returncode == 1 and "装财处已办理" not in history.stdout + history.stderr
    own = run_json("task", "list", db=world.url, user="孙科监")
    assert {r["department"] for r in own} == {"科监处"}
    ledger = run_json("ledger", db=world.url, user="孙科监", today="2021-12-31")
    assert {r["department"] for r in ledger["rows"]} == {"科监处"}
    asked = run("ledger", "--dept", "装财处", db=world.url, user="孙科监", today="2021-12-31")
    assert asked.returncode == 1 and "本处室" in asked.stderr
    everything = run_json("task", "list", db=world.url, user="周督查")
    assert {"装财处", "科监处", "局政务公开办"} <= {r["department"] for r in everything}
    assert run_json("task", "show", other, db=world.url, user="周督查")["requirement"] == SECRET_TEXT


def test_staff_get_their_own_calendar_and_no_annual_report(world, tmp_path):
    """The calendar narrows to the staff member's department; the report is the office's."""
    from icalendar import Calendar

    from cli_helpers import run

    out = tmp_path / "mine.ics"
    proc = run("calendar", "export", "--out", str(out), db=world.url, user="张三", today="2021-08-02")
    assert proc.returncode == 0, proc.stderr
    summaries = [str(e.get("summary")) for e in Calendar.from_ical(out.read_bytes()).walk("VEVENT")]
    assert summaries and all("装财处" in s for s in summaries)
    other = run("calendar", "export", "--dept", "科监处", "--out", str(tmp_path / "x.ics"),
                db=world.url, user="张三", today="2021-08-02")
    assert other.returncode == 1 and not (tmp_path / "x.ics").exists()
    report = run("report", "annual", "1", "--out", str(tmp_path / "r.md"), db=world.url, user="张三",
                 today="2021-12-31")
    assert report.returncode == 1 and "年度报告" in report.stderr and not (tmp_path / "r.md").exists()
    allowed = run("report", "annual", "1", "--out", str(tmp_path / "r.md"), db=world.url, user="李审核",
                  today="2021-12-31")
    assert allowed.returncode == 0, allowed.stderr
