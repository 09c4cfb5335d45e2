"""One traffic-light rule (workflow/ledger/lights.py): `task list` and the ledger show the
same light for the same item on the same day, on the demo year, including the days
around holidays and 调休 where counting calendar days and working days part ways."""
from __future__ import annotations

import datetime as dt
import io

import pytest

from cli_helpers import run_json
from conftest import demo_copy
from commands.common import App
from workflow.clock import Clock
from workflow.ledger.lights import Lights

# ≥ 30 days across the demo year: National Day (10-01..07) and the 调休 working Saturdays
# around it (09-18, 09-26, 10-09), Mid-Autumn (09-19..21), plain weeks and weekends.
DAYS = ([dt.date(2021, 8, 2) + dt.timedelta(days=7 * i) for i in range(21)]
        + [dt.date(2021, 9, d) for d in (17, 18, 19, 20, 21, 22, 24, 25, 26, 27, 28, 30)]
        + [dt.date(2021, 10, d) for d in (1, 3, 5, 7, 8, 9, 10, 11)]
        + [dt.date(2021, 12, 31)])


@pytest.fixture(scope="module")
def demo_db(demo_year, tmp_path_factory):
    return demo_copy(demo_year, tmp_path_factory.mktemp("lights") / "demo")


def _app(folder, day: dt.date) -> App:
    return App(db_url=f"sqlite:///{folder / 'duban.db'}", actor_name="李敏", clock=Clock(day),
               config_path=folder / "duban.toml", out=io.StringIO(), err=io.StringIO())


def _compare(task_rows: list[dict], ledger_rows: list[dict]) -> tuple[int, set[str]]:
    """Items in the same state with the same due date in both views (the ledger replays the
    events up to its day, the task list shows today's rows): their lights must be equal."""
    listed = {r["id"]: r for r in task_rows}
    compared, colours = 0, set()
    for row in ledger_rows:
        item = listed.get(row["assignment"])
        if item is None or item["state"] != row["state"] or item["due_date"] != row["due"]:
            continue
        assert item["light"] == row["light"], (row["assignment"], row["state"], row["due"], item["light"], row["light"])
        compared += 1
        colours.add(row["light"])
    return compared, colours


def test_task_list_and_ledger_agree_on_every_item_every_day(demo_db):
    from workflow.ledger.service import LedgerQuery, build
    from workflow.lifecycle.service import TaskQuery, list_tasks

    assert len(DAYS) >= 30
    total, colours = 0, set()
    for day in DAYS:
        app = _app(demo_db, day)
        ledger = build(app, LedgerQuery(as_of=day))
        compared, seen = _compare(list_tasks(app, TaskQuery()).items, [r.as_dict() for r in ledger.rows])
        total += compared
        colours |= seen
    assert total > 1000  # the comparison is not vacuous
    assert {"red", "yellow", "green"} <= colours


@pytest.mark.parametrize("day", ["2021-09-24", "2021-09-30", "2021-12-27"])
def test_the_commands_agree_too(demo_db, day):
    """The same through `duban task list --json` and `duban ledger --json` (the token of the
    demo's reviewer, as the demo prints it)."""
    db = str(demo_db / "duban.db")
    token = (demo_db / "tokens" / "李敏").read_text(encoding="utf-8").strip()
    kw = dict(db=db, today=day, token=token, env={"DUBAN_CONFIG": str(demo_db / "duban.toml")})
    tasks = run_json("task", "list", **kw)
    ledger = run_json("ledger", "--as-of", day, **kw)
    compared, _ = _compare(tasks, ledger["rows"])
    assert compared > 20


def test_yellow_counts_working_days_not_calendar_days():
    """Before National Day: due 10-08 seen from 09-29 is 9 calendar days but 2 working days
    (09-30 and 10-08) — yellow with a 5-day window, where counting calendar days said green."""
    lights = Lights(5)
    assert lights("in_progress", dt.date(2021, 10, 8), dt.date(2021, 9, 29)) == "yellow"
    assert lights("in_progress", dt.date(2021, 10, 20), dt.date(2021, 9, 29)) == "green"
    assert lights("in_progress", dt.date(2021, 9, 28), dt.date(2021, 9, 29)) == "red"
    assert lights("done", dt.date(2021, 9, 28), dt.date(2021, 9, 29)) == ""
