"""The dated steps of the demo year (SCENARIO.md), each through the services."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from sqlmodel import select

from db.models import Assignment, Department, Task, User
from workflow.context import Context
from workflow.demo.run import (EXAMPLES, STAFF_OF, USERS, App, DemoContext, Narrator, at, quarter_ledger, say,
                               write_tokens, year_end)
from workflow.lifecycle import service as lifecycle
from workflow.lifecycle.engine import Fields
from workflow.errors import DubanError


def run_demo(ctx: Context, folder: Path, narrator: Narrator) -> None:
    folder = folder.resolve()
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    # Paths relative to the file (workflow/config.py resolves them against its folder): a
    # copied demo folder writes into itself, never into the original.
    (folder / "duban.toml").write_text(
        '[mail]\nbackend = "file"\ndir = "outbox"\nfrom = "督办系统 <duban@sfj.gz.gov.cn>"\n', encoding="utf-8")
    # The replay is a trusted library caller on its own database: it names each actor.
    base = DemoContext(db_url=f"sqlite:///{folder / 'duban.db'}", config_path=folder / "duban.toml",
                       clock=ctx.clock, synchronous=ctx.synchronous, narrator=narrator)
    replay(base, folder)


def replay(app: App, folder) -> None:
    from db.migrate import upgrade

    upgrade(app.engine(check_schema=False))
    setup(at(app, "2021-07-20"))
    remind_days = _days(dt.date(2021, 7, 20), dt.date(2021, 12, 31))
    plan = {
        "2021-08-02": acknowledge,
        "2021-09-27": quarter_submissions,
        "2021-09-29": quarter_reviews,
        "2021-10-12": submit_task_1,
        "2021-10-13": send_back_task_1,
        "2021-10-15": resubmit_task_1,
        "2021-10-18": approve_task_1,
        "2021-11-10": request_delay_task_7,
        "2021-11-11": approve_delay_task_7,
        "2021-11-26": november_submissions,
        "2021-11-29": november_reviews,
        "2021-12-14": finish_task_7,
        "2021-12-28": december_submissions,
        "2021-12-30": december_reviews,
    }
    for day in remind_days:
        text = day.isoformat()
        if text in plan:
            plan[text](at(app, text), text)
        remind(at(app, text), text)
        if text == "2021-10-08":  # the first working day after Q3 and the National Day holiday
            quarter_ledger(at(app, text), "2021Q3")
    files = year_end(at(app, "2021-12-31"), folder)
    app.narrator.line(f"\n台账与年度报告：{'、'.join(f.name for f in files)}，已写入 {folder}。")
    mails = list((folder / "outbox").glob("*.eml")) if (folder / "outbox").exists() else []
    app.narrator.line(f"\n邮件：{len(mails)} 封，已写入 {folder / 'outbox'}（可用邮件客户端打开 .eml 文件）。")
    tokens = write_tokens(app, folder)
    app.narrator.line(f"数据库：{folder / 'duban.db'}；演示用户的登录令牌在 {tokens}（仅本人可读）。"
          f"以审核人李敏的身份继续体验，例如：\n"
          f"  export DUBAN_TOKEN=$(cat {tokens / '李敏'})\n"
          f"  duban --db {folder / 'duban.db'} --today 2021-12-31 task list --overdue\n"
          f"  duban --db {folder / 'duban.db'} task history 1\n"
          f"网页：duban --db {folder / 'duban.db'} --today 2021-12-31 serve，在浏览器打开 http://127.0.0.1:8080/ ，"
          f"粘贴 {tokens / '李敏'} 中的令牌，以审核人李敏的身份登录。")


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def setup(app: App) -> None:
    from workflow.directory.store import add_user, list_departments, upsert_departments
    from workflow.directory.importer import parse_directory
    from workflow.importers import load_plan
    from workflow.plans.store import store_plan
    from workflow.plans.publish import load_resolution, publish

    day = app.clock.today().isoformat()
    with app.session() as s:
        upsert_departments(s, parse_directory(EXAMPLES / "departments.csv"))
        for name, dept, roles in USERS:
            add_user(s, name, f"{_pinyin(name)}@sfj.example.gov.cn", roles, dept, app.clock)
        for d in list_departments(s):
            if d.name not in STAFF_OF:
                add_user(s, f"{d.name}联络员", d.email, ["staff"], d.name, app.clock)
        plan = load_plan(EXAMPLES / "gz-sfj-2021.txt")
        row = store_plan(s, plan, app.clock)
        report = publish(s, row, _user(s, "李敏"), app.clock, load_resolution(EXAMPLES / "resolve.yaml"))
    say(app, day, f"政务公开办导入《{row.title}》（{len(plan.tasks)} 项任务），"
                  f"下发 {report.created} 项事项到 {len(report.per_department)} 个处室（单位）。")


def _pinyin(name: str) -> str:
    return "u" + "".join(f"{ord(ch):x}" for ch in name)[:12]


def _user(session, name: str) -> User:
    return session.exec(select(User).where(User.name == name)).one()


def _staff(dept: str) -> str:
    return STAFF_OF.get(dept, f"{dept}联络员")


def _items(app: App, states: tuple[str, ...], seqs: set[int] | None = None,
           period: str | None = None, before: dt.date | None = None) -> list[tuple[int, int, str]]:
    """(assignment id, task seq, department) of the assignments in `states`."""
    with app.session() as s:
        q = (select(Assignment.id, Task.seq, Department.name, Assignment.period, Assignment.due_date)
             .join(Task, Task.id == Assignment.task_id)
             .join(Department, Department.id == Assignment.department_id)
             .where(Assignment.state.in_(states)).order_by(Assignment.id))
        rows = s.exec(q).all()
    return [(i, seq, dept) for i, seq, dept, p, due in rows
            if (seqs is None or seq in seqs) and (period is None or p == period)
            and (before is None or due <= before)]


def _act(app: App, day: str, who: str, aid: int, trigger: str, fields: Fields | None = None) -> bool:
    try:
        lifecycle.transition(at(app, day, who), aid, trigger, fields)
        return True
    except DubanError as exc:
        app.narrator.line(f"{day}  （拒绝）事项 {aid}：{exc.message}")
        return False


def acknowledge(app: App, day: str) -> None:
    items = _items(app, ("assigned",))
    done = sum(_act(app, day, _staff(dept), aid, "start") for aid, _, dept in items)
    say(app, day, f"各处室签收 {done} 项事项（已下发 → 办理中）。")


def quarter_submissions(app: App, day: str) -> None:
    items = _items(app, ("in_progress",), period="2021Q3")
    # Most departments report on time; a few forget, and their Q3 item goes overdue on 10-01.
    chosen = [it for k, it in enumerate(items) if k % 5 != 4]
    done = sum(_act(app, day, _staff(d), aid, "submit", Fields(summary="第三季度台账已更新并公开。"))
               for aid, _, d in chosen)
    say(app, day, f"第三季度：{done} 项按季度任务报送，{len(items) - done} 项未报送。")


def _review_all(app: App, day: str) -> int:
    items = _items(app, ("submitted",))
    count = 0
    for aid, _, dept in items:
        reviewer = "王芳" if dept == "局政务公开办" else "李敏"
        count += _act(app, day, reviewer, aid, "approve", Fields(comment="同意办结。"))
    return count


def quarter_reviews(app: App, day: str) -> None:
    say(app, day, f"政务公开办审核通过 {_review_all(app, day)} 项季度报送。")


def _task(app: App, seq: int, dept: str) -> int:
    return next(aid for aid, s, d in _items(app, ("assigned", "in_progress", "submitted", "returned",
                                                   "delay_requested", "done")) if s == seq and d == dept)


def submit_task_1(app: App, day: str) -> None:
    aid = _task(app, 1, "装财处")
    _act(app, day, "张伟", aid, "submit", Fields(summary="已在门户网站公开2021年部门预算。"))
    say(app, day, f"装财处报送任务 1（事项 {aid}）。")


def send_back_task_1(app: App, day: str) -> None:
    aid = _task(app, 1, "装财处")
    _act(app, day, "李敏", aid, "send_back", Fields(comment="请同时公开2020年部门决算及相关报表，并附网址。"))
    say(app, day, f"政务公开办退回任务 1（事项 {aid}），要求补充决算公开。")


def resubmit_task_1(app: App, day: str) -> None:
    aid = _task(app, 1, "装财处")
    _act(app, day, "陈刚", aid, "submit", Fields(summary="预算、决算及相关报表均已公开，网址见政务公开专栏。"))
    say(app, day, f"装财处重新报送任务 1（事项 {aid}）。")


def approve_task_1(app: App, day: str) -> None:
    aid = _task(app, 1, "装财处")
    _act(app, day, "李敏", aid, "approve", Fields(comment="同意办结。"))
    say(app, day, f"政务公开办审核通过任务 1（事项 {aid}），办结。")


def request_delay_task_7(app: App, day: str) -> None:
    aid = _task(app, 7, "科监处")
    _act(app, day, "刘洋", aid, "request_delay",
         Fields(reason="政策问答平台对接需等待市级平台接口开放，无法在11月底前完成。", until=dt.date(2021, 12, 15)))
    say(app, day, f"科监处就任务 7（事项 {aid}）书面说明并申请延期至 2021-12-15。")


def approve_delay_task_7(app: App, day: str) -> None:
    aid = _task(app, 7, "科监处")
    _act(app, day, "李敏", aid, "approve_delay", Fields(comment="同意延期至12月15日。"))
    say(app, day, f"政务公开办同意任务 7 延期（事项 {aid}），完成时限改为 2021-12-15。")


def november_submissions(app: App, day: str) -> None:
    items = _items(app, ("in_progress",), before=dt.date(2021, 11, 30))
    items = [it for it in items if not (it[1] == 7 and it[2] == "科监处")]
    # Three in four report before the deadline; the rest run late and get chased.
    chosen = [it for k, it in enumerate(items) if k % 4 != 3]
    done = sum(_act(app, day, _staff(d), aid, "submit", Fields(summary=f"任务 {seq} 已按要求落实。"))
               for aid, seq, d in chosen)
    say(app, day, f"各处室报送 {done} 项，{len(items) - done} 项未在 11 月底前报送。")


def november_reviews(app: App, day: str) -> None:
    say(app, day, f"政务公开办审核通过 {_review_all(app, day)} 项。")


def finish_task_7(app: App, day: str) -> None:
    aid = _task(app, 7, "科监处")
    _act(app, day, "刘洋", aid, "submit", Fields(summary="已接入政策问答平台。"))
    _act(app, day, "李敏", aid, "approve", Fields(comment="同意办结。"))
    say(app, day, f"科监处在延期后的时限内完成任务 7（事项 {aid}），审核通过。")


def december_submissions(app: App, day: str) -> None:
    items = _items(app, ("in_progress",), period="2021Q4") + [
        it for it in _items(app, ("in_progress",), period="") if it[1] in (16, 24)]
    done = sum(_act(app, day, _staff(d), aid, "submit", Fields(summary="年底前已完成。"))
               for aid, _, d in items)
    say(app, day, f"年底任务与第四季度任务报送 {done} 项。")


def december_reviews(app: App, day: str) -> None:
    say(app, day, f"政务公开办审核通过 {_review_all(app, day)} 项。")


def remind(app: App, day: str) -> None:
    """Run the reminder sweep and send the outbox, as cron would each working morning."""
    from notifications.outbox import dispatch
    from workflow.reminders import service as reminders
    from workflow.reminders import KIND_LABELS

    report = reminders.run(app)
    sent = dispatch(app.engine(), app.config().mail)
    if report.enqueued:
        items = "、".join(f"{KIND_LABELS.get(k, k)} {n} 项" for k, n in report.items.items())
        say(app, day, f"催办：{report.enqueued} 封提醒邮件（{items}）；本日共发出 {sent.sent} 封邮件。")
