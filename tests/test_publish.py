"""Distribution: unknown names refused all at once with nothing created, groups expanded
by kind, "relevant" groups needing an explicit choice, periods for recurring tasks, and
publishing twice creating nothing new. The seed publishes through the real CLI."""
from __future__ import annotations

import pytest
from sqlmodel import func, select

from cli_helpers import ROOT, run, run_json
from conftest import PLAN, build_world, migrated_sqlite, snapshot
from db.models import Assignment
from workflow.errors import NotFound
from workflow.plans.model import plan_from_dict
from workflow.plans.store import store_plan
from workflow.plans.publish import periods, publish


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


def test_summary_most_urgent_first():
    import datetime as dt

    from workflow.plans.publish import department_summary

    def row(dept_id, name, role, due):
        return {"department_id": dept_id, "department": name, "role": role, "due_date": dt.date.fromisoformat(due)}

    summary = department_summary([
        row(1, "办公室", "lead", "2021-11-30"), row(1, "办公室", "cooperate", "2021-12-31"),
        row(2, "装财处", "cooperate", "2021-12-31"), row(3, "普法处", "lead", "2021-09-30"),
        row(4, "科监处", "lead", "2021-11-30"), row(4, "科监处", "lead", "2021-12-31"),
        row(4, "科监处", "tech_support", "2021-11-30"), row(5, "组培处", "cooperate", "2021-11-30"),
        row(6, "行政应诉处", "cooperate", "2021-11-30"), row(6, "行政应诉处", "supervise", "2021-12-31")])
    assert [(s.department, s.first_due.isoformat(), s.total) for s in summary] == [
        ("普法处", "2021-09-30", 1),  # earliest deadline first
        ("科监处", "2021-11-30", 3),  # then the biggest load
        ("办公室", "2021-11-30", 2), ("行政应诉处", "2021-11-30", 2),  # then directory order
        ("组培处", "2021-11-30", 1), ("装财处", "2021-12-31", 1)]
    assert summary[1].roles == {"lead": 2, "tech_support": 1}


def test_publish_prints_the_summary_most_urgent_first(db_url):
    world = build_world(db_url, PLAN, publish=False)
    proc = run("plan", "publish", str(world.plan_id), db=world.url, user="李审核", today="2021-07-20")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["处室", "最早完成时限", "新事项", "牵头", "配合", "技术保障", "督办"]
    # Task 2 is quarterly (Q3 due 09-30), task 1 due 11-30, task 3 due 12-31 (各业务处室 cooperate).
    assert [line.split() for line in lines[2:7]] == [
        ["规范性文件审查处", "2021-09-30", "3", "2", "1"],
        ["局政务公开办", "2021-09-30", "2", "2"],
        ["装财处", "2021-11-30", "2", "1", "1"],
        ["科监处", "2021-11-30", "2", "1", "1"],
        ["办公室", "2021-11-30", "1", "1"]]
    assert lines[7] == "新建 10 项事项，已存在 0 项。"
    again = run_json("plan", "publish", str(world.plan_id), db=world.url, user="李审核", today="2021-07-20")
    assert again["summary"] == [] and again["created"] == 0 and again["per_department"]["装财处"] == 2


def test_resolve_files_that_are_not_usable_are_refused(tmp_path):
    from workflow.errors import BadInput
    from workflow.plans.publish import load_resolution

    def refused(text: str | None) -> str:
        path = tmp_path / "r.yaml"
        if text is not None:
            path.write_text(text, encoding="utf-8")
        with pytest.raises(BadInput) as info:
            load_resolution(tmp_path if text is None else path)
        return info.value.message

    assert "是文件夹" in refused(None)
    assert "“2021-02-30”不是任务序号" in refused("2021-02-30:\n  相关处室: [办公室]\n")
    assert "“abc”不是任务序号" in refused("abc:\n  相关处室: [办公室]\n")
    assert "的值应为" in refused("'*':\n  相关处室: 办公室\n")
    assert "不是有效的 YAML" in refused("'*': [\n")
    path = tmp_path / "ok.yaml"
    path.write_text("014:\n  相关处室: [2021-02-30处, 办公室]\n'*':\n  各相关业务处室: []\n", encoding="utf-8")
    assert load_resolution(path) == {"14": {"相关处室": ["2021-02-30处", "办公室"]}, "*": {"各相关业务处室": []}}
    assert load_resolution(ROOT / "examples" / "resolve.yaml")["14"] == {"各相关业务处室": ["普法处", "公共法律服务管理处"]}


def test_two_databases_in_one_process_each_mail_their_own_directory(tmp_path):
    """fire() and publish() without a notifier make a fresh one: a process that works on
    two databases the same day (a library caller, a test run) must not address the second
    database's mails from the first one's directory."""
    from db.models import Department, Notification

    worlds = []
    for name in ("a", "b"):
        url = migrated_sqlite(tmp_path / f"{name}.db")
        worlds.append(build_world(url))  # both publish on 2021-07-20 without a notifier
    mailboxes, sent = [], []
    for world in worlds:  # department mailboxes are random per world; user addresses are not
        with world.session() as s:
            mailboxes.append({d.email for d in s.exec(select(Department)).all()})
            sent.append(" ".join(n.recipient for n in s.exec(select(Notification)).all()))
    for own, other, text in ((mailboxes[0], mailboxes[1], sent[0]), (mailboxes[1], mailboxes[0], sent[1])):
        assert any(address in text for address in own)
        assert not any(address in text for address in other), text
