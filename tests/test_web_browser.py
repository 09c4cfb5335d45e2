"""Page flows in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

One server and one browser for the module; each flow signs its people in through the
sign-in page. Screenshots of every page at 1366×768 and 390×844 go to the folder named
by DUBAN_WEB_SHOTS (default: a temporary folder, printed) so a person can look at them.
"""
from __future__ import annotations

import io
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from conftest import build_world, migrated_sqlite
from web_server import Server, free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium 未安装(apt-get install chromium)")
SIZES = {"desktop": (1366, 768), "phone": (390, 844)}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    url = migrated_sqlite(tmp_path_factory.mktemp("webui") / "duban.db")
    world = build_world(url)
    port = free_port()
    config = tmp_path_factory.mktemp("webcfg") / "duban.toml"
    config.write_text(f'[web]\nbase_url = "http://127.0.0.1:{port}"\nlink_days = 7\n', encoding="utf-8")
    server = Server(url, today="2021-08-02", port=port, env={"DUBAN_CONFIG": str(config)})
    shots = Path(os.environ.get("DUBAN_WEB_SHOTS") or tempfile.mkdtemp(prefix="duban-shots-"))
    shots.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {shots}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield world, server, browser, shots
        browser.close()
    server.stop()


def person(site, name: str):
    """A browser context signed in as `name` through the sign-in form."""
    world, server, browser, _ = site
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{server.url}/")
    assert "/login" in page.url
    page.fill('input[name="token"]', world.token(name))
    page.click('button[type="submit"]')
    page.wait_for_url(f"{server.url}/")
    return page


def shoot(site, page, name: str) -> None:
    shots = site[3]
    for size, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        page.screenshot(path=str(shots / f"{name}-{size}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})


def fits_the_phone(page) -> tuple[int, float]:
    """At 390 px: how wide the document is and where the history's right edge ends."""
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        return page.evaluate("document.documentElement.scrollWidth"), page.evaluate(
            "document.querySelector('table.history').getBoundingClientRect().right")
    finally:
        page.set_viewport_size({"width": 1366, "height": 768})


def act(page, trigger: str, **fields) -> None:
    form = page.locator(f'form[action$="/{trigger}"]')
    for key, value in fields.items():
        if key == "attachments":
            form.locator('input[name="attachments"]').set_input_files(value)
        else:
            form.locator(f'[name="{key}"]').fill(value)
    form.locator('button[type="submit"]').click()
    page.wait_for_load_state()


def test_submit_send_back_resubmit_approve(site, tmp_path):
    world, server, _, _ = site
    aid = world.assignment(1, "装财处")
    staff = person(site, "张三")
    assert "我的事项" in staff.inner_text("h1")
    shoot(site, staff, "home-staff")
    staff.goto(f"{server.url}/tasks/{aid}")
    assert [f.get_attribute("action") for f in staff.locator("form.action").all()] == \
        [f"/tasks/{aid}/start", f"/tasks/{aid}/request_delay"]
    act(staff, "start")
    assert "签收成功" in staff.inner_text(".flash.ok")
    screenshot = tmp_path / "预算公开截图.png"
    screenshot.write_bytes(b"\x89PNG not really")
    act(staff, "submit", summary="已公开2021年部门预算", attachments=[str(screenshot)])
    assert "已报送" in staff.inner_text("h1")
    assert "预算公开截图.png" in staff.inner_text("dl.facts")
    shoot(site, staff, "task-submitted")

    reviewer = person(site, "李审核")
    assert "各处室红黄绿灯" in reviewer.inner_text("main")
    shoot(site, reviewer, "home-reviewer")
    reviewer.goto(f"{server.url}/tasks/{aid}")
    with reviewer.expect_download() as download:
        reviewer.click("ul.files a")
    assert Path(download.value.path()).read_bytes() == b"\x89PNG not really"
    reviewer.locator('form[action$="/send_back"] button').click()  # the comment is required
    assert reviewer.url.endswith(f"/tasks/{aid}")  # the browser refused the empty form
    act(reviewer, "send_back", comment="请补充决算公开网址")
    assert "已退回" in reviewer.inner_text("h1")

    staff.goto(f"{server.url}/tasks/{aid}")
    assert "请补充决算公开网址" in staff.inner_text("table")
    act(staff, "submit", summary="已补充决算公开网址")
    reviewer.goto(f"{server.url}/tasks/{aid}")
    act(reviewer, "approve")
    assert "已办结" in reviewer.inner_text("h1")
    history = reviewer.inner_text("table.list")
    for label in ("签收", "报送", "退回", "审核通过"):
        assert label in history
    shoot(site, reviewer, "task-done")
    staff.context.close()
    reviewer.context.close()


def test_delay_requested_and_approved(site):
    world, server, _, _ = site
    aid = world.assignment(3, "装财处")
    staff = person(site, "张三")
    staff.goto(f"{server.url}/tasks/{aid}")
    act(staff, "request_delay", reason="需等待市级平台接口", until="2022-01-15")
    assert "延期申请中" in staff.inner_text("h1")
    reviewer = person(site, "李审核")
    reviewer.goto(f"{server.url}/tasks/{aid}")
    shoot(site, reviewer, "task-delay")
    width, history_right = fits_the_phone(reviewer)
    assert width <= 390 and history_right <= 390, (width, history_right)  # no sideways scrolling
    act(reviewer, "approve_delay")
    assert "办理中" in reviewer.inner_text("h1") and "2022-01-15" in reviewer.inner_text("dl.facts")
    staff.context.close()
    reviewer.context.close()


def test_bulk_approve_with_select_all_shows_skipped(site):
    world, server, _, _ = site
    ours = world.assignment(2, "规范性文件审查处", period="2021Q3")
    own = world.assignment(2, "局政务公开办", period="2021Q3")
    from conftest import full_fields
    from workflow.lifecycle.service import transition

    with world.session() as s:
        from workflow.directory.store import add_user
        from workflow.clock import Clock
        import datetime as dt

        add_user(s, "韩文审", "hw@example.gov.cn", ["staff"], "规范性文件审查处", Clock(dt.date(2021, 7, 20)))
    for trigger in ("start", "submit"):
        transition(world.app("韩文审"), ours, trigger, full_fields())
        transition(world.app("李审核"), own, trigger, full_fields())  # the reviewer's own submission
    reviewer = person(site, "李审核")
    reviewer.goto(f"{server.url}/review")
    shoot(site, reviewer, "review")
    for form in reviewer.locator("form.bulk").all():
        form.locator(".select-all").check()
    checked = reviewer.locator('input[name="ids"]:checked').count()
    assert checked >= 2
    forms = reviewer.locator("form.bulk")
    target = forms.filter(has_text="局政务公开办")
    target.locator("button").click()
    reviewer.wait_for_load_state()
    text = reviewer.inner_text("main")
    assert "跳过 1 项" in text and "审办分离" in text
    reviewer.locator("form.bulk").filter(has_text="规范性文件审查处").locator(".select-all").check()
    reviewer.locator("form.bulk").filter(has_text="规范性文件审查处").locator("button").click()
    reviewer.wait_for_load_state()
    assert "已审核通过 1 项" in reviewer.inner_text("main")
    shoot(site, reviewer, "review-after")
    with world.session() as s:
        from db.models import Assignment

        assert s.get(Assignment, ours).state == "done" and s.get(Assignment, own).state == "submitted"
    reviewer.context.close()


def test_ledger_page_and_xlsx_download(site):
    import openpyxl

    world, server, _, _ = site
    reviewer = person(site, "李审核")
    reviewer.goto(f"{server.url}/ledger")
    assert "台账" in reviewer.inner_text("main")
    shoot(site, reviewer, "ledger")
    with reviewer.expect_download() as download:
        reviewer.click('a[href*="format=xlsx"]')
    assert download.value.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert len(book.sheetnames) >= 2
    with reviewer.expect_download() as annual:
        reviewer.click('a[href*="report/annual"][href$="docx"]')
    assert Path(annual.value.path()).read_bytes()[:2] == b"PK"
    reviewer.context.close()


def test_every_page_renders_at_both_sizes(site):
    world, server, _, _ = site
    admin = person(site, "吴管理")
    for path, name in (("/tasks", "tasks"), ("/plans", "plans"), ("/audit", "audit"), ("/admin", "admin"),
                       ("/plans/1/publish", "publish"), ("/api/v1/docs", "api-docs")):
        admin.goto(f"{server.url}{path}")
        assert admin.locator("h1").count() == 1, path
        shoot(site, admin, name)
    admin.goto(f"{server.url}/admin")
    admin.locator('form[action$="/admin/user-add"] input[name="name"]').fill("新同事")
    admin.locator('form[action$="/admin/user-add"] input[name="email"]').fill("xin@example.gov.cn")
    admin.locator('form[action$="/admin/user-add"] select[name="dept"]').select_option("科监处")
    admin.locator('form[action$="/admin/user-add"] input[value="staff"]').check()
    admin.locator('form[action$="/admin/user-add"] button').click()
    token = admin.inner_text("code.secret")
    assert token.startswith("duban_")
    shoot(site, admin, "admin-token")
    admin.goto(f"{server.url}/admin")
    assert token not in admin.content()  # shown once
    admin.context.close()
    login = site[2].new_page()
    login.goto(f"{server.url}/login")
    shoot(site, login, "login")
    login.fill('input[name="token"]', token)
    login.click('button[type="submit"]')
    assert "新同事" in login.inner_text("header")
    login.close()


def _mail_to(world, kind: str, recipient: str, assignment_id: int) -> str:
    from sqlmodel import select

    from db.models import Notification
    from notifications.outbox import rendered_row

    with world.session() as s:
        row = s.exec(select(Notification).where(Notification.kind == kind,
                                                Notification.assignment_id == assignment_id,
                                                Notification.recipient.contains(recipient))
                     .order_by(Notification.id.desc())).first()
        return rendered_row(row).text  # rows hold the context; the dispatcher renders it


def test_approve_from_the_mail_link_works_once(site):
    import re

    world, server, browser, _ = site
    aid = world.assignment(1, "科监处")
    with server.client(world.token("孙科监")) as c:
        assert c.post(f"/api/v1/tasks/{aid}/start").status_code == 200
        assert c.post(f"/api/v1/tasks/{aid}/submit", json={"summary": "已完成技术保障"}).status_code == 200
    text = _mail_to(world, "submitted", "李审核", aid)
    link = re.search(r"网页办理：(\S+)", text).group(1)
    assert link.startswith(f"{server.url}/m/")
    other = re.search(r"网页办理：(\S+)", _mail_to(world, "submitted", "王审核", aid)).group(1)
    assert other != link  # each reviewer has a link of their own

    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(link)
    page.goto(link)  # opening it (twice) changes nothing
    assert "已报送" in page.inner_text("h1")
    assert [b.inner_text() for b in page.locator("form button").all()] == ["审核通过", "退回"]
    shoot(site, page, "mail-link")
    page.locator('form[action$="/approve"] button').click()
    page.wait_for_load_state()
    assert "审核通过成功" in page.inner_text(".flash.ok")
    with world.session() as s:
        from db.models import Assignment, Event
        from sqlmodel import func, select

        assert s.get(Assignment, aid).state == "done"
        approvals = s.exec(select(func.count()).select_from(Event).where(
            Event.assignment_id == aid, Event.trigger == "approve")).one()
        actor = s.exec(select(Event.actor_id).where(Event.assignment_id == aid, Event.trigger == "approve")).one()
    assert approvals == 1 and actor == world.ids["李审核"]
    page.goto(link)  # the second time: refused, nothing to click
    assert "已经使用过" in page.inner_text(".flash.bad") and page.locator("form button").count() == 0
    with server.client() as c:  # and a replayed POST is refused too
        again = c.post(f"/m/{link.rsplit('/', 1)[1]}/approve")
    assert again.status_code == 409 and "已经使用过" in again.text
    approved_mail = _mail_to(world, "approved", "孙科监", aid)
    assert f"{server.url}/tasks/{aid}" in approved_mail  # departments' mails link to the item's page
    page.close()
