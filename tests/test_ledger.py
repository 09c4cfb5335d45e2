"""The ledger (台账): counts recomputed independently from the event log, time travel
to a quarter's end, the department view, and refusals of the `duban ledger` command.

The seed year is replayed once by the real `duban demo` (the README's main job); the
ledger's figures are then checked against plain SQL over its event table.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cli_helpers import run, run_json
from conftest import DOER, demo_copy, drive, full_fields

AS_OF_DAYS = ["2021-07-31", "2021-09-30", "2021-10-15", "2021-11-15", "2021-12-31"]


@pytest.fixture(scope="module")
def demo_run(demo_year, tmp_path_factory) -> tuple[Path, str]:
    """`duban demo`'s folder (a copy of the one run for the test run) and what it printed."""
    return demo_copy(demo_year, tmp_path_factory.mktemp("demo") / "run"), demo_year[1]


@pytest.fixture(scope="module")
def demo_db(demo_run) -> str:
    return f"sqlite:///{demo_run[0] / 'duban.db'}"


def test_the_demo_prints_the_quarter_ledgers_and_leaves_the_files(demo_run, demo_db):
    """SCENARIO: the Q3 picture after the holiday, the Q4 ledger and the annual section at year end."""
    import openpyxl

    folder, stdout = demo_run
    assert "工作台账（2021年第3季度）" in stdout and "工作台账（2021年第4季度）" in stdout
    q4 = _ledger(demo_db, "2021-12-31")
    book = openpyxl.load_workbook(folder / "台账-2021Q4.xlsx", read_only=True)
    detail = list(book.worksheets[0].iter_rows(values_only=True))
    assert len([r for r in detail if isinstance(r[0], int)]) == len(q4["rows"])
    report = (folder / "年度报告-政务公开工作要点落实情况.md").read_text(encoding="utf-8")
    assert f"已办结{q4['total']['states']['done']}项" in report
    assert (folder / "年度报告-政务公开工作要点落实情况.docx").stat().st_size > 5000
    assert "<svg" in (folder / "台账-2021Q4.html").read_text(encoding="utf-8")


def _ledger(db: str, day: str, *extra: str) -> dict:
    return run_json("ledger", "--as-of", day, *extra, db=db, user="李敏", today="2021-12-31")


def _independent(db: str, day: str) -> dict:
    """The same figures straight from the event table, with no code of duban's."""
    cutoff = (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()
    engine = create_engine(db)
    with engine.connect() as c:
        events = c.execute(text(
            "SELECT e.assignment_id, e.trigger, e.to_state, e.data, d.name FROM event e "
            "JOIN assignment a ON a.id = e.assignment_id JOIN department d ON d.id = a.department_id "
            "WHERE e.at < :cutoff ORDER BY e.id"), {"cutoff": cutoff}).all()
    state: dict[int, str] = {}
    dept: dict[int, str] = {}
    send_backs: Counter = Counter()
    delays: Counter = Counter()
    for aid, trigger, to_state, _data, name in events:
        state[aid] = to_state
        dept[aid] = name
        send_backs[name] += trigger == "send_back"
        delays[name] += trigger == "request_delay"
    per: dict[str, Counter] = defaultdict(Counter)
    for aid, s in state.items():
        per[dept[aid]][s] += 1
    engine.dispose()
    return {"states": per, "send_backs": send_backs, "delays": delays, "total": len(state)}


@pytest.mark.parametrize("day", AS_OF_DAYS)
def test_counts_equal_the_event_log(demo_db, day):
    ledger = _ledger(demo_db, day)
    expected = _independent(demo_db, day)
    assert ledger["total"]["total"] == expected["total"] == len(ledger["rows"])
    got = {t["name"]: Counter(t["states"]) for t in ledger["by_department"]}
    assert got == {k: +v for k, v in expected["states"].items()}
    for t in ledger["by_department"]:
        assert t["send_backs"] == expected["send_backs"][t["name"]]
        assert t["delays"] == expected["delays"][t["name"]]
    assert sum(Counter(t["states"])["done"] for t in ledger["by_department"]) == ledger["total"]["states"]["done"]
    # stable keys for scripts: every state in every total, zero counts included
    every = ["assigned", "in_progress", "submitted", "returned", "delay_requested", "done", "cancelled"]
    assert all(list(t["states"]) == every for t in [ledger["total"], *ledger["by_department"]])


def test_the_year_end_ledger_agrees_with_the_assignment_rows(demo_db):
    """On the demo's last day the replay must land exactly on what the rows say now."""
    ledger = _ledger(demo_db, "2021-12-31")
    engine = create_engine(demo_db)
    with engine.connect() as c:
        rows = {r.id: r for r in c.execute(text("SELECT id, state, due_date FROM assignment"))}
    engine.dispose()
    assert len(rows) == len(ledger["rows"]) == 245
    for r in ledger["rows"]:
        assert r["state"] == rows[r["assignment"]].state
        assert r["due"] == str(rows[r["assignment"]].due_date)


def test_on_time_rate_is_on_time_over_due(demo_db):
    ledger = _ledger(demo_db, "2021-12-31")
    rows = ledger["rows"]
    done = [r for r in rows if r["state"] == "done"]
    on_time = [r for r in done if r["approved_on"] <= r["due"]]
    overdue_open = [r for r in rows if r["state"] not in ("done", "cancelled") and r["due"] < "2021-12-31"]
    total = ledger["total"]
    assert total["on_time"] == len(on_time)
    assert total["due"] == len(done) + len(overdue_open)
    assert total["overdue"] == len(overdue_open)
    assert total["on_time_rate"] == round(len(on_time) / (len(done) + len(overdue_open)), 4)


def test_the_delay_shows_old_and_new_dates(demo_db):
    """SCENARIO 11-10: 科监处 asks for task 7 to move from 11-30 to 12-15; the office agrees."""
    before = [r for r in _ledger(demo_db, "2021-11-09")["rows"] if r["task"] == 7 and r["department"] == "科监处"]
    after = [r for r in _ledger(demo_db, "2021-11-15")["rows"] if r["task"] == 7 and r["department"] == "科监处"]
    assert before[0]["delays"] == [] and before[0]["due"] == "2021-11-30"
    delay = after[0]["delays"][0]
    assert (delay["old_due"], delay["requested_due"], delay["outcome"]) == ("2021-11-30", "2021-12-15", "approved")
    assert delay["reason"]
    assert after[0]["due"] == "2021-12-15" and after[0]["original_due"] == "2021-11-30"


def test_the_send_back_loop_is_counted(demo_db):
    rows = [r for r in _ledger(demo_db, "2021-12-31")["rows"] if r["task"] == 1 and r["department"] == "装财处"]
    assert rows[0]["send_backs"] == 1 and rows[0]["state"] == "done" and rows[0]["latest_summary"]


def test_a_quarter_ledger_shows_the_quarter_not_today(demo_db):
    q3 = run_json("ledger", "--quarter", "2021Q3", db=demo_db, user="李敏", today="2021-12-31")
    assert q3["as_of"] == "2021-09-30" and q3["quarter"] == "2021Q3"
    assert q3 == _ledger(demo_db, "2021-09-30") | {"quarter": "2021Q3"}
    assert q3["total"]["states"] != _ledger(demo_db, "2021-12-31")["total"]["states"]


def test_a_quarter_not_yet_over_stops_at_today(demo_db):
    got = run_json("ledger", "--quarter", "2021Q4", db=demo_db, user="李敏", today="2021-11-15")
    assert got["as_of"] == "2021-11-15" and got["quarter"] == "2021Q4"


def test_department_view_is_most_urgent_first(demo_db):
    got = run_json("ledger", "--dept", "普法处", "--by", "department", db=demo_db, user="李敏", today="2021-12-31")
    assert {r["department"] for r in got["rows"]} == {"普法处"}
    assert [t["name"] for t in got["by_department"]] == ["普法处"]
    order = {"red": 0, "yellow": 1, "green": 2, None: 3, "": 3}
    keys = [(order[r["light"]], r["due"]) for r in got["rows"]]
    assert keys == sorted(keys)
    assert got["rows"][0]["light"] == "red"


def test_table_output_names_the_quarter_and_totals(demo_db):
    proc = run("ledger", "--quarter", "2021Q3", db=demo_db, user="李敏", today="2021-12-31")
    assert proc.returncode == 0, proc.stderr
    assert "2021年第3季度" in proc.stdout and "按时办结率" in proc.stdout and "合计" in proc.stdout


@pytest.mark.parametrize("args,code,words", [
    (["--quarter", "2021Q5"], 2, "季度"),
    (["--quarter", "2021Q3", "--as-of", "2021-09-30"], 2, "二选一"),
    (["--as-of", "2021-02-30"], 2, "--as-of"),
    (["--as-of", "2022-01-01"], 2, "晚于今天"),
    (["--dept", "不存在处"], 1, "不存在"),
    (["--by", "week"], 2, "--by"),
    (["--format", "pdf"], 2, "--format"),
    (["--format", "xlsx"], 2, "--out"),
    (["999"], 1, "计划"),
])
def test_bad_options_are_one_sentence(demo_db, args, code, words):
    proc = run("ledger", *args, db=demo_db, user="李敏", today="2021-12-31")
    assert proc.returncode == code, proc.stderr
    assert proc.stderr.startswith("错误：") and words in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_an_unknown_suffix_writes_nothing(demo_db, tmp_path):
    out = tmp_path / "台账.pdf"
    proc = run("ledger", "--out", str(out), db=demo_db, user="李敏", today="2021-12-31")
    assert proc.returncode == 2 and "--format" in proc.stderr
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- both backends, in process
def test_time_travel_on_each_backend(world):
    """A send-back before the cut-off counts, an approval after it does not."""
    from commands.lifecycle import transition
    from workflow.ledger.compute import compute_ledger

    aid = world.assignment(1, "装财处")
    for day, trigger in [("2021-08-02", "start"), ("2021-09-01", "submit"), ("2021-09-02", "send_back"),
                         ("2021-09-10", "submit"), ("2021-10-08", "approve")]:
        transition(world.app(DOER[trigger], today=day), aid, trigger, full_fields())
    with world.session() as s:
        q3 = compute_ledger(s, world.plan_id, dt.date(2021, 9, 30))
        q4 = compute_ledger(s, world.plan_id, dt.date(2021, 12, 31))
        july = compute_ledger(s, world.plan_id, dt.date(2021, 7, 19))
    row3 = next(r for r in q3.rows if r.assignment_id == aid)
    row4 = next(r for r in q4.rows if r.assignment_id == aid)
    assert (row3.state, row3.send_backs, row3.submitted_on, row3.approved_on) == \
        ("submitted", 1, dt.date(2021, 9, 10), None)
    assert (row4.state, row4.approved_on, row4.days_late, row4.on_time) == ("done", dt.date(2021, 10, 8), 0, True)
    assert july.rows == [] and july.total.total == 0  # published on 07-20


def test_a_rejected_delay_keeps_the_date_and_goes_red(world):
    from commands.lifecycle import transition
    from workflow.lifecycle.engine import Fields
    from workflow.ledger.compute import compute_ledger

    aid = world.assignment(1, "装财处")
    transition(world.app("张三", today="2021-11-20"), aid, "request_delay",
               Fields(reason="等待上级平台", until=dt.date(2021, 12, 20)))
    transition(world.app("李审核", today="2021-11-22"), aid, "reject_delay", Fields(comment="请按期完成"))
    with world.session() as s:
        row = next(r for r in compute_ledger(s, world.plan_id, dt.date(2021, 12, 3)).rows if r.assignment_id == aid)
    assert row.due == dt.date(2021, 11, 30) and row.light == "red" and row.days_late == 3
    assert [(d.outcome, d.requested_due) for d in row.delays] == [("rejected", dt.date(2021, 12, 20))]


def test_late_approval_counts_as_late(world):
    from workflow.ledger.compute import compute_ledger

    from commands.lifecycle import transition

    aid = world.assignment(1, "装财处")  # due 2021-11-30
    drive(world, aid, "submitted")
    transition(world.app("李审核", today="2021-12-05"), aid, "approve", full_fields())
    with world.session() as s:
        ledger = compute_ledger(s, world.plan_id, dt.date(2021, 12, 10))
    row = next(r for r in ledger.rows if r.assignment_id == aid)
    # approved Sunday 12-05, due Tuesday 11-30: 3 working days late (12-01, 12-02, 12-03)
    assert (row.days_late, row.on_time) == (3, False)
    assert ledger.total.done_late == 1


def test_quarter_parsing():
    from workflow.ledger.compute import quarter_end

    assert quarter_end("2021Q1") == ("2021Q1", dt.date(2021, 3, 31))
    assert quarter_end("2021q4") == ("2021Q4", dt.date(2021, 12, 31))
    assert quarter_end("2020Q1")[1] == dt.date(2020, 3, 31)
    for bad in ("2021Q0", "Q3", "2021-09", "", "99999Q1"):
        with pytest.raises(ValueError):
            quarter_end(bad)
