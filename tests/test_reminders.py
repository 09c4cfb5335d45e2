"""催办 across 国庆 2021 (SCENARIO): exactly the expected digests, day by day."""
import datetime as dt
from collections import defaultdict

import pytest
from sqlmodel import Session, select

from db.models import Assignment, Notification, ReminderLog
from mailkit import World, make_db, stamp
from workflow.calendar import WorkCalendar
from workflow.config import Config, RemindPolicy
from workflow.directory.recipients import (Directory, department_recipients, escalation_recipients,
                                 reviewer_recipients)
from notifications.outbox import rendered_row
from workflow.reminders.sweep import plan_reminders, run_reminders

D = dt.date
POLICY = RemindPolicy()  # before 5 and 1, overdue every 3, escalate after 5, review wait 3


@pytest.fixture
def world(tmp_path):
    engine = make_db(tmp_path)
    w = World(engine)
    w.zc = w.dept("装财处", email="zcc@example.gov.cn")
    w.kj = w.dept("科监处")
    w.gk = w.dept("局政务公开办", email="gkb@example.gov.cn")
    w.zhang = w.user("张三", w.zc, ["staff"], "zhang@example.gov.cn")
    w.wang = w.user("王五", w.zc, ["staff", "head"], "wang@example.gov.cn")
    w.li = w.user("李四", w.kj, ["staff"], "li@example.gov.cn")
    w.zhao = w.user("赵六", w.gk, ["reviewer"], "zhao@example.gov.cn")
    w.qian = w.user("钱七", None, ["supervisor"], "qian@example.gov.cn")
    w.gone = w.user("离职者", w.zc, ["staff"], "gone@example.gov.cn", active=False)
    w.plan_id = w.plan()
    return w


def run_day(w, day, policy=POLICY):
    with Session(w.engine) as s:
        report = run_reminders(s, day, policy, WorkCalendar(), Config())
        s.commit()
    return report


def digests_of(w, day):
    """{email: mail} for the digests enqueued for `day`, rendered as the dispatcher renders
    them (a digest row holds its context, not its text)."""
    with Session(w.engine) as s:
        rows = s.exec(select(Notification).where(
            Notification.key.startswith(f"remind:{day.isoformat()}:"))).all()
    assert all(r.context and not r.text for r in rows)
    return {r.recipient.split("<")[-1].rstrip(">"): rendered_row(r) for r in rows}


def test_fortnight_across_national_day(world):
    w = world
    t9 = w.task(w.plan_id, 9, "按季度公开行政执法信息")
    t13 = w.task(w.plan_id, 13, "按季度更新政策解读")
    t19 = w.task(w.plan_id, 19, "做好依申请公开")
    t20 = w.task(w.plan_id, 20, "已办结的任务")
    # Q3 period of task 9, still being worked on: the one we follow.
    w.assignment(w.plan_id, t9, w.zc, D(2021, 9, 30), "in_progress", period="2021Q3")
    # Submitted on 09-27, waiting for the office's review.
    a13 = w.assignment(w.plan_id, t13, w.kj, D(2021, 12, 31), "submitted", period="2021Q4")
    w.event(a13, w.plan_id, "submit", w.li, stamp(D(2021, 9, 24)))
    w.event(a13, w.plan_id, "submit", w.li, stamp(D(2021, 9, 27)))  # the latest counts
    # Not chased: waiting for a delay decision, and done.
    w.assignment(w.plan_id, t19, w.kj, D(2021, 9, 30), "delay_requested")
    w.assignment(w.plan_id, t20, w.zc, D(2021, 9, 30), "done")

    dept = {"zhang@example.gov.cn", "wang@example.gov.cn", "zcc@example.gov.cn"}
    expected = {
        D(2021, 9, 24): {e: ("reminder", ["before"]) for e in dept},
        D(2021, 9, 29): {e: ("reminder", ["before"]) for e in dept},
        D(2021, 9, 30): {e: ("reminder", ["due_today"]) for e in dept},
        D(2021, 10, 8): {**{e: ("reminder", ["overdue"]) for e in dept},
                         "zhao@example.gov.cn": ("review_waiting", ["review_waiting"])},
        # submitted 09-27: 4th working day waiting on 10-08, then every 3 (10-09 Sat works)
        D(2021, 10, 12): {**{e: ("reminder", ["overdue"]) for e in dept},
                          "zhao@example.gov.cn": ("review_waiting", ["review_waiting"])},
        D(2021, 10, 13): {"wang@example.gov.cn": ("escalation", ["escalation"]),
                          "qian@example.gov.cn": ("escalation", ["escalation"])},
        D(2021, 10, 15): {**{e: ("reminder", ["overdue"]) for e in dept},
                          "zhao@example.gov.cn": ("review_waiting", ["review_waiting"])},
        D(2021, 10, 18): {"wang@example.gov.cn": ("escalation", ["escalation"]),
                          "qian@example.gov.cn": ("escalation", ["escalation"])},
    }
    day = D(2021, 9, 17)
    while day <= D(2021, 10, 19):
        report = run_day(w, day)
        with Session(w.engine) as s:
            got = {d.email: (d.kind, sorted({i.kind for i in d.items}))
                   for d in plan_reminders(s, day, POLICY, WorkCalendar())}
        assert got == expected.get(day, {}), day
        assert report.enqueued == len(got), day
        assert set(digests_of(w, day)) == set(got), day
        # A second run the same day enqueues nothing new.
        assert run_day(w, day).enqueued == 0, day
        day += dt.timedelta(days=1)


def test_digest_content_and_lights(world):
    w = world
    t1 = w.task(w.plan_id, 1, "制定年度政务公开工作计划")
    t2 = w.task(w.plan_id, 2, "更新公开目录")
    t3 = w.task(w.plan_id, 3, "第三项")
    w.assignment(w.plan_id, t1, w.zc, D(2021, 9, 30), "in_progress", period="2021Q3")
    w.assignment(w.plan_id, t2, w.zc, D(2021, 10, 8), "assigned")
    w.assignment(w.plan_id, t3, w.zc, D(2021, 9, 17), "returned")  # 1st day overdue on 09-18
    report = run_day(w, D(2021, 9, 18))  # a working Saturday
    assert report.workday and report.items == {"overdue": 1}  # one item, mailed to three people
    rows = digests_of(w, D(2021, 9, 18))
    assert set(rows) == {"zhang@example.gov.cn", "wang@example.gov.cn", "zcc@example.gov.cn"}
    mail = rows["zhang@example.gov.cn"]
    # On 09-18 t1 (09-30) is 8 working days away and t2 (10-08) 9: only t3 is chased.
    assert mail.kind == "reminder" and "【逾期】" in mail.text and "红灯" in mail.text
    assert "已逾期 1 个工作日" in mail.text and "第三项" in mail.text
    assert mail.subject.startswith("【督办】催办提醒") and "1项" in mail.subject
    assert "张三" in mail.recipient and mail.html and ">逾期</span>" in mail.html


def test_saturday_due_date(world):
    """07-31-2021 is a Saturday: due today on 07-30, 1st overdue day 08-02."""
    w = world
    t = w.task(w.plan_id, 1)
    w.assignment(w.plan_id, t, w.kj, D(2021, 7, 31), "assigned")
    kinds = {}
    day = D(2021, 7, 20)
    while day <= D(2021, 8, 5):
        with Session(w.engine) as s:
            digests = plan_reminders(s, day, POLICY, WorkCalendar())
        if digests:
            assert [d.email for d in digests] == ["li@example.gov.cn"]
            kinds[day] = [(i.kind, i.days, i.light) for i in digests[0].items]
        day += dt.timedelta(days=1)
    assert kinds == {
        D(2021, 7, 23): [("before", 5, "yellow")],
        D(2021, 7, 29): [("before", 1, "yellow")],
        D(2021, 7, 30): [("due_today", 1, "yellow")],
        D(2021, 8, 2): [("overdue", 1, "red")],
        D(2021, 8, 5): [("overdue", 4, "red")],
    }


def test_nothing_on_holidays_and_green_far_items(world):
    w = world
    t = w.task(w.plan_id, 5)
    w.assignment(w.plan_id, t, w.zc, D(2021, 9, 30), "in_progress")
    for day in (D(2021, 10, 1), D(2021, 10, 2), D(2021, 10, 7), D(2021, 9, 19), D(2021, 9, 25)):
        report = run_day(w, day)
        assert not report.workday and report.digests == [] and report.enqueued == 0
    far = RemindPolicy(before=(11,), warn_window=5)
    with Session(w.engine) as s:
        digests = plan_reminders(s, D(2021, 9, 15), far, WorkCalendar())
    assert {i.light for d in digests for i in d.items} == {"green"}


def test_escalation_and_dedup_for_heads(world):
    """A head gets an item once, as an escalation; supervisors get only escalations."""
    w = world
    t = w.task(w.plan_id, 6)
    w.assignment(w.plan_id, t, w.zc, D(2021, 9, 30), "in_progress")
    policy = RemindPolicy(overdue_every=3, escalate_after=4)  # 10-12 is both 4th and a cadence day
    with Session(w.engine) as s:
        digests = {d.email: d for d in plan_reminders(s, D(2021, 10, 12), policy, WorkCalendar())}
    assert digests["wang@example.gov.cn"].kind == "escalation"
    assert [i.kind for i in digests["wang@example.gov.cn"].items] == ["escalation"]
    assert [i.kind for i in digests["zhang@example.gov.cn"].items] == ["overdue"]
    assert [i.kind for i in digests["qian@example.gov.cn"].items] == ["escalation"]
    assert "gone@example.gov.cn" not in digests  # inactive users get nothing


def test_one_digest_per_recipient_with_many_items(world):
    w = world
    for seq in range(1, 6):
        t = w.task(w.plan_id, seq, f"任务{seq}")
        w.assignment(w.plan_id, t, w.zc, D(2021, 9, 30), "in_progress")
        w.assignment(w.plan_id, t, w.zc, D(2021, 10, 8), "assigned", period="x")
    with Session(w.engine) as s:
        digests = plan_reminders(s, D(2021, 9, 30), POLICY, WorkCalendar())
    assert len(digests) == 3
    for d in digests:
        assert sorted(i.kind for i in d.items) == ["before"] * 5 + ["due_today"] * 5
        assert [i.kind for i in d.items][:5] == ["due_today"] * 5  # sections in order


def test_delegates_receive_during_the_delegation(world):
    w = world
    t = w.task(w.plan_id, 8)
    w.assignment(w.plan_id, t, w.zc, D(2021, 9, 30), "in_progress")
    w.delegation(w.zhang, w.li, D(2021, 10, 1), D(2021, 10, 10))
    with Session(w.engine) as s:
        on = {d.email for d in plan_reminders(s, D(2021, 10, 8), POLICY, WorkCalendar())}
        after = {d.email for d in plan_reminders(s, D(2021, 10, 12), POLICY, WorkCalendar())}
    assert "li@example.gov.cn" in on and "li@example.gov.cn" not in after


def test_recipient_functions(world):
    w = world
    w.delegation(w.zhao, w.li, D(2021, 10, 1), D(2021, 10, 31))
    with Session(w.engine) as s:
        assert department_recipients(s, w.zc, D(2021, 10, 8)) == [
            ("张三", "zhang@example.gov.cn"), ("王五", "wang@example.gov.cn"),
            ("装财处", "zcc@example.gov.cn")]
        assert reviewer_recipients(s, D(2021, 10, 8)) == [
            ("赵六", "zhao@example.gov.cn"), ("李四", "li@example.gov.cn")]
        assert escalation_recipients(s, w.zc) == [
            ("王五", "wang@example.gov.cn"), ("钱七", "qian@example.gov.cn")]
        directory = Directory.load(s, D(2021, 10, 8))
        assert directory.department(w.gk) == [("赵六", "zhao@example.gov.cn"),
                                              ("局政务公开办", "gkb@example.gov.cn"),
                                              ("李四", "li@example.gov.cn")]


def test_duplicate_addresses_collapse(world):
    w = world
    w.user("装财处收发", w.zc, ["staff"], "ZCC@example.gov.cn")
    with Session(w.engine) as s:
        emails = [e.lower() for _, e in department_recipients(s, w.zc, D(2021, 10, 8))]
    assert len(emails) == len(set(emails)) == 3


def test_dry_run_adds_nothing(world):
    w = world
    t = w.task(w.plan_id, 4)
    w.assignment(w.plan_id, t, w.zc, D(2021, 9, 30), "in_progress")
    with Session(w.engine) as s:
        report = run_reminders(s, D(2021, 9, 30), POLICY, WorkCalendar(), Config(), dry_run=True)
        s.commit()
        assert report.enqueued == 3
        assert s.exec(select(Notification)).all() == []
    data = report.as_dict()
    assert data["digests"][0]["items"][0]["kind"] == "due_today"


# --- idempotency per recipient, item, kind and day (reminder_log) --------------------

def logged(w, day):
    """{(recipient, kind, assignment_id)} logged for `day`."""
    with Session(w.engine) as s:
        rows = s.exec(select(ReminderLog).where(ReminderLog.day == day)).all()
    return {(r.recipient, r.kind, r.assignment_id) for r in rows}


def test_same_day_rerun_sends_nothing_and_logs_every_item(world):
    w = world
    t = w.task(w.plan_id, 1, "按时公开")
    a1 = w.assignment(w.plan_id, t, w.zc, D(2021, 9, 30), "in_progress")
    a2 = w.assignment(w.plan_id, t, w.zc, D(2021, 9, 29), "assigned", period="x")
    first = run_day(w, D(2021, 9, 30))
    assert first.enqueued == 3 and first.already == 0
    # three mails, two items: the summary counts items, not items per recipient
    assert first.items == {"overdue": 1, "due_today": 1}
    assert logged(w, D(2021, 9, 30)) == {(e, k, a) for e in ("zhang@example.gov.cn",
                                                            "wang@example.gov.cn",
                                                            "zcc@example.gov.cn")
                                         for k, a in (("due_today", a1), ("overdue", a2))}
    again = run_day(w, D(2021, 9, 30))
    assert (again.enqueued, again.already, again.already_items, again.digests) == (0, 3, 2, [])
    with Session(w.engine) as s:
        assert len(s.exec(select(Notification)).all()) == 3


def test_item_qualifying_later_the_same_day_gets_a_digest_of_its_own(world):
    """A new overdue after the first run: a second, smaller digest with only that item."""
    w = world
    t1 = w.task(w.plan_id, 1, "第一项任务")
    t2 = w.task(w.plan_id, 2, "第二项任务")
    w.assignment(w.plan_id, t1, w.zc, D(2021, 9, 30), "in_progress")
    late = w.assignment(w.plan_id, t2, w.zc, D(2021, 9, 29), "delay_requested")  # not chased
    day = D(2021, 9, 30)
    assert run_day(w, day).enqueued == 3
    with Session(w.engine) as s:  # the office rejects the delay: chased again, 1 day overdue
        row = s.get(Assignment, late)
        row.state = "in_progress"
        s.add(row)
        s.commit()
    second = run_day(w, day)
    assert second.enqueued == 3 and second.already_items == 1
    assert all([(i.kind, i.assignment_id) for i in d.items] == [("overdue", late)]
               for d in second.digests)
    rows = digests_of(w, day)
    assert len(rows) == 3  # keyed by address: the first digest of the day
    with Session(w.engine) as s:
        mails = s.exec(select(Notification).where(Notification.key.startswith(
            f"remind:{day}:zhang@example.gov.cn"))).all()
        mails = [rendered_row(m) for m in mails]
    assert [m.key for m in mails] == [f"remind:{day}:zhang@example.gov.cn",
                                      f"remind:{day}:zhang@example.gov.cn:2"]
    assert "第二项任务" in mails[1].text and "第一项任务" not in mails[1].text
    assert "1项" in mails[1].subject and "其中1项已逾期" in mails[1].subject
    assert run_day(w, day).enqueued == 0  # and a third run: nothing
    assert len(logged(w, day)) == 6


def test_new_recipient_and_new_kind_the_same_day(world):
    """Keys are per recipient and kind: a new reviewer wait goes to the reviewers only."""
    w = world
    t = w.task(w.plan_id, 1)
    w.assignment(w.plan_id, t, w.zc, D(2021, 10, 8), "in_progress")  # due today on 10-08
    day = D(2021, 10, 8)
    run_day(w, day)
    waiting = w.assignment(w.plan_id, w.task(w.plan_id, 2), w.kj, D(2021, 12, 31), "submitted")
    w.event(waiting, w.plan_id, "submit", w.li, stamp(D(2021, 9, 27)))
    second = run_day(w, day)
    assert [(d.email, d.key, d.kind) for d in second.digests] == [
        ("zhao@example.gov.cn", f"remind:{day}:zhao@example.gov.cn", "review_waiting")]


def test_digest_sent_before_the_log_existed_is_not_repeated(world):
    """After migration 0003: yesterday's code wrote remind:<day>:<address>, no log rows."""
    from notifications.outbox import Outgoing, enqueue
    from notifications.render import Rendered

    w = world
    w.assignment(w.plan_id, w.task(w.plan_id, 1), w.zc, D(2021, 9, 30), "in_progress")
    day = D(2021, 9, 30)
    with Session(w.engine) as s:
        enqueue(s, [Outgoing(key=f"remind:{day}:zhang@example.gov.cn", kind="reminder",
                             recipient="zhang@example.gov.cn",
                             rendered=Rendered("【督办】催办提醒", "旧", None))])
        s.commit()
    report = run_day(w, day)
    assert {d.email for d in report.digests} == {"wang@example.gov.cn", "zcc@example.gov.cn"}
    assert report.already == 1 and report.enqueued == 2


def test_dry_run_after_a_run_shows_only_what_is_new(world):
    w = world
    w.assignment(w.plan_id, w.task(w.plan_id, 1), w.zc, D(2021, 9, 30), "in_progress")
    run_day(w, D(2021, 9, 30))
    with Session(w.engine) as s:
        report = run_reminders(s, D(2021, 9, 30), POLICY, WorkCalendar(), Config(), dry_run=True)
    assert report.enqueued == 0 and report.already == 3
    assert report.as_dict()["already_items"] == 1


def test_shared_tables_render_like_a_lone_digest(world):
    """Recipients sharing item tables get exactly what rendering each alone gives."""
    from notifications.render import render

    w = world
    for seq in range(1, 4):
        w.assignment(w.plan_id, w.task(w.plan_id, seq, f"任务{seq}<b>"), w.zc,
                     D(2021, 9, 30), "in_progress")
    day = D(2021, 9, 30)
    run_day(w, day)
    rows = digests_of(w, day)
    with Session(w.engine) as s:
        planned = {d.email: d for d in plan_reminders(s, day, POLICY, WorkCalendar())}
    for email, row in rows.items():
        alone = render(planned[email].kind, planned[email].context())
        assert (row.subject, row.text, row.html) == (alone.subject, alone.text, alone.html)
    assert "任务1&lt;b&gt;" in rows["zhang@example.gov.cn"].html
