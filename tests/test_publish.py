"""Distribution: unknown names refused all at once with nothing created, groups expanded
by kind, "relevant" groups needing an explicit choice, periods for recurring tasks, and
publishing twice creating nothing new. The seed publishes through the real CLI."""
from __future__ import annotations

import pytest
from sqlmodel import func, select

from cli_helpers import ROOT, run, run_json
from conftest import PLAN, build_world, snapshot
from db.models import Assignment
from workflow.errors import NotFound
from workflow.plan import plan_from_dict
from workflow.plans import store_plan
from workflow.publish import periods, publish


def _count(world):
    with world.session() as s:
        return s.exec(select(func.count()).select_from(Assignment)).one()


def test_publish_twice_creates_nothing_new(world):
    before = snapshot(world)
    with world.session() as s:
        from db.models import Plan

        report = publish(s, s.get(Plan, world.plan_id), world.user(s, "李审核"), world.app().clock)
    assert report.created == 0 and report.existing == _count(world)
    assert snapshot(world) == before


def test_groups_expand_by_kind_and_periods(world):
    # Task 3: 科监处 lead + 各业务处室 cooperate → every business department except 科监处.
    with world.session() as s:
        rows = s.exec(select(Assignment.role).where(Assignment.task_id == 3)).all()
    assert sorted(rows) == ["cooperate", "cooperate", "lead"]  # 装财处, 规范性文件审查处 + 科监处
    # Task 2 is quarterly, published on 2021-07-20: Q3 and Q4 remain.
    assert world.assignment(2, "规范性文件审查处", period="2021Q3")
    assert world.assignment(2, "规范性文件审查处", period="2021Q4")


def test_periods_of_the_year():
    import datetime as dt

    assert periods("quarterly", 2021, dt.date(2021, 11, 30), dt.date(2021, 7, 20)) == [
        ("2021Q3", dt.date(2021, 9, 30)), ("2021Q4", dt.date(2021, 12, 31))]
    assert periods("half_yearly", 2021, dt.date(2021, 11, 30), dt.date(2021, 7, 20)) == [
        ("2021H2", dt.date(2021, 12, 31))]
    assert periods(None, 2021, dt.date(2021, 11, 30), dt.date(2021, 7, 20)) == [("", dt.date(2021, 11, 30))]


def test_unknown_departments_listed_and_nothing_created(db_url):
    plan = PLAN | {"title": "另一个计划", "tasks": PLAN["tasks"] + [
        {"seq": 4, "requirement": "x", "responsibilities": [{"department": "宣传处", "role": "lead"},
                                                            {"department": "外事处", "role": "cooperate"}]},
        {"seq": 5, "requirement": "y", "responsibilities": [{"department": "各相关业务处室", "role": "cooperate", "group": True}]}]}
    world = build_world(db_url, plan, publish=False)
    with world.session() as s:
        from db.models import Plan

        with pytest.raises(NotFound) as err:
            publish(s, s.get(Plan, world.plan_id), world.user(s, "李审核"), world.app().clock)
    message = err.value.message
    assert "宣传处" in message and "外事处" in message and "第 5 项“各相关业务处室”" in message
    assert "--resolve" in message
    assert _count(world) == 0


def test_staff_cannot_publish(db_url):
    world = build_world(db_url, PLAN, publish=False)
    with world.session() as s:
        from db.models import Plan
        from workflow.errors import NotPermitted

        with pytest.raises(NotPermitted):
            publish(s, s.get(Plan, world.plan_id), world.user(s, "张三"), world.app().clock)


def test_seed_through_cli(tmp_path):
    db = str(tmp_path / "seed.db")
    init = run("db", "init", "--admin", "吴管理", "--email", "wu@example.gov.cn", db=db)
    assert init.returncode == 0, init.stderr
    admin = init.stdout.splitlines()[-1]
    assert run("dept", "import", "examples/departments.csv", db=db, token=admin).returncode == 0
    added = run("user", "add", "李敏", "--dept", "局政务公开办", "--role", "reviewer",
                "--email", "limin@example.gov.cn", db=db, token=admin)
    assert added.returncode == 0, added.stderr
    limin = added.stdout.strip()
    dry = run("plan", "import", "examples/gz-sfj-2021.txt", "--dry-run", db=db)  # no login needed
    assert dry.returncode == 0, dry.stderr
    assert "第 9 行" in dry.stderr and "各相关业务处室" in dry.stderr
    assert run_json("plan", "list", db=db, token=admin) == []
    assert run("plan", "import", "examples/gz-sfj-2021.txt", db=db, token=limin).returncode == 0
    refused = run("plan", "publish", "1", db=db, token=limin)
    assert refused.returncode == 1 and "--resolve" in refused.stderr
    assert run_json("task", "list", db=db, token=limin) == []
    ok = run("plan", "publish", "1", "--resolve", str(ROOT / "examples/resolve.yaml"), "--json", db=db, token=limin)
    assert ok.returncode == 0, ok.stderr
    again = run_json("plan", "publish", "1", "--resolve", str(ROOT / "examples/resolve.yaml"), db=db, token=limin)
    assert again["created"] == 0 and again["existing"] > 200
    exported = run("plan", "export", "1", "--format", "yaml", db=db, token=limin)
    path = tmp_path / "plan.yaml"
    path.write_text(exported.stdout.replace("广州市司法局2021年", "广州市司法局2021年(修订)"), encoding="utf-8")
    back = run_json("plan", "import", str(path), "--dry-run", db=db)
    original = run_json("plan", "show", "1", db=db, token=limin)
    assert back["tasks"] == original["tasks"]
