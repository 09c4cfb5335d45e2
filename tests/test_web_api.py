"""The REST API and the sign-in of a real `duban serve`, over HTTP (httpx).

One server per backend for the module (SQLite; PostgreSQL when DUBAN_TEST_PG is set);
each test works on its own assignments so the tests do not depend on each other's order.
"""
from __future__ import annotations

import datetime as dt
import io

import pytest

from conftest import BACKENDS, build_world, fresh_database
from web_server import Server, page_csrf, sign_in


@pytest.fixture(scope="module", params=BACKENDS)
def served(request, tmp_path_factory):
    with fresh_database(request.param, tmp_path_factory.mktemp("web")) as url:
        world = build_world(url)
        server = Server(url, today="2021-08-02")
        yield world, server
        server.stop()


def api(served, user: str | None):
    world, server = served
    return server.client(world.token(user) if user else None)


def test_me_and_not_signed_in(served):
    with api(served, "张三") as c:
        me = c.get("/api/v1/me").json()
    assert me["name"] == "张三" and me["department"] == "装财处" and me["roles"] == ["staff"]
    with api(served, None) as c:
        r = c.get("/api/v1/me")
        assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
        assert r.headers["www-authenticate"] == "Bearer"
        wrong = c.get("/api/v1/me", headers={"Authorization": "Bearer duban_1_" + "x" * 43})
    assert wrong.status_code == 401 and "身份验证失败" in wrong.json()["error"]


def test_security_headers_on_every_response(served):
    with api(served, "张三") as c:
        for path in ("/api/v1/me", "/login", "/static/style.css", "/api/v1/tasks/999999"):
            r = c.get(path)
            assert r.headers["x-frame-options"] == "DENY", path
            assert r.headers["x-content-type-options"] == "nosniff", path
            csp = r.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path


def test_task_list_filters_pagination_and_scope(served):
    world, _ = served
    with api(served, "李审核") as c:
        everything = c.get("/api/v1/tasks", params={"per_page": 500}).json()
        page = c.get("/api/v1/tasks", params={"per_page": 2, "page": 2}).json()
        kejian = c.get("/api/v1/tasks", params={"dept": "科监处", "per_page": 500}).json()
        bad_state = c.get("/api/v1/tasks", params={"state": "nonsense"})
    assert everything["total"] == len(everything["items"]) > 4
    from workflow.lifecycle.queries import list_assignments  # the CLI's order, page by page

    with world.session() as s:
        cli_order = [v["id"] for v in list_assignments(s, dt.date(2021, 8, 2))]
    assert [i["id"] for i in everything["items"]] == cli_order
    assert page["items"] == everything["items"][2:4] and page["total"] == everything["total"]
    assert {i["department"] for i in kejian["items"]} == {"科监处"}
    assert bad_state.status_code == 422 and "状态“nonsense”无效" in bad_state.json()["error"]
    keys = set(everything["items"][0])
    assert {"id", "state", "state_label", "due_date", "light", "version", "department"} <= keys
    with api(served, "张三") as c:
        own = c.get("/api/v1/tasks", params={"per_page": 500}).json()
        other = c.get("/api/v1/tasks", params={"dept": "科监处"})
    assert {i["department"] for i in own["items"]} == {"装财处"}
    assert other.status_code == 403 and other.json()["code"] == "not_permitted"


def test_not_visible_is_not_found(served):
    world, _ = served
    theirs = world.assignment(1, "科监处")
    with api(served, "张三") as c:
        hidden = c.get(f"/api/v1/tasks/{theirs}")
        absent = c.get("/api/v1/tasks/987654")
        hidden_history = c.get(f"/api/v1/tasks/{theirs}/history")
        hidden_move = c.post(f"/api/v1/tasks/{theirs}/start")
    assert hidden.status_code == absent.status_code == hidden_history.status_code == 404
    assert hidden.json()["error"] == f"事项 {theirs} 不存在；可用 duban task list 查看事项编号。"
    assert hidden_move.status_code in (403, 404)


def test_submit_with_attachment_send_back_and_history(served):
    world, server = served
    aid = world.assignment(1, "装财处")
    with api(served, "张三") as c:
        started = c.post(f"/api/v1/tasks/{aid}/start")
        assert started.status_code == 200, started.text
        assert started.json()["state"] == "in_progress"
        r = c.post(f"/api/v1/tasks/{aid}/submit", data={"summary": "已公开预算"},
                   files=[("attachments", ("截图.png", io.BytesIO(b"\x89PNG fake image"), "image/png"))])
        assert r.status_code == 200, r.text
        view = r.json()
        assert view["state"] == "submitted" and [a["name"] for a in view["attachments"]] == ["截图.png"]
    with api(served, "李审核") as c:
        missing = c.post(f"/api/v1/tasks/{aid}/send_back", json={})
        assert missing.status_code == 422 and "意见" in missing.json()["error"]
        back = c.post(f"/api/v1/tasks/{aid}/send_back", json={"comment": "请补充网址"})
        assert back.status_code == 200 and back.json()["state"] == "returned"
        history = c.get(f"/api/v1/tasks/{aid}/history").json()
    assert [h["trigger"] for h in history][-3:] == ["start", "submit", "send_back"]
    assert history[-1]["comment"] == "请补充网址" and history[-1]["actor"] == "李审核"


def test_optimistic_lock_if_match(served):
    world, _ = served
    aid = world.assignment(1, "科监处")
    with api(served, "孙科监") as c:
        version = c.get(f"/api/v1/tasks/{aid}").json()["version"]
        stale = c.post(f"/api/v1/tasks/{aid}/start", headers={"If-Match": str(version + 7)})
        assert stale.status_code == 409 and stale.json()["code"] == "lost_race"
        assert c.get(f"/api/v1/tasks/{aid}").json()["state"] == "assigned"  # nothing changed
        ok = c.post(f"/api/v1/tasks/{aid}/start", headers={"If-Match": f'"{version}"'})
        assert ok.status_code == 200 and ok.json()["version"] == version + 1
        again = c.post(f"/api/v1/tasks/{aid}/start")
    assert again.status_code == 409 and again.json()["code"] == "invalid_move"


def test_bad_input_is_422_with_a_sentence(served):
    world, _ = served
    aid = world.assignment(3, "科监处")
    with api(served, "孙科监") as c:
        bad_date = c.post(f"/api/v1/tasks/{aid}/request_delay", json={"reason": "等待", "until": "2021-13-45"})
        unknown = c.post(f"/api/v1/tasks/{aid}/fly", json={})
        junk = c.post(f"/api/v1/tasks/{aid}/start", content=b"{not json", headers={"Content-Type": "application/json"})
        not_int = c.get("/api/v1/tasks/abc")
    for r in (bad_date, unknown, junk, not_int):
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "bad_input" and r.json()["error"].endswith("。")


def test_review_queue_and_bulk_approve_skips_own_submission(served):
    world, _ = served
    own = world.assignment(2, "局政务公开办", period="2021Q3")  # 李审核's own department
    other = world.assignment(2, "规范性文件审查处", period="2021Q3")
    with api(served, "李审核") as c:  # 李审核 submits for their own department...
        assert c.post(f"/api/v1/tasks/{own}/start").status_code == 200
        assert c.post(f"/api/v1/tasks/{own}/submit", json={"summary": "本办报送"}).status_code == 200
    drive_submit = [("start", {}), ("submit", {"summary": "已更新"})]
    with world.session() as s:  # a member of 规范性文件审查处 to submit its assignment
        from workflow.clock import Clock
        from workflow.directory.store import add_user
        import datetime as dt

        world.ids["韩文审"] = add_user(s, "韩文审", "hw@example.gov.cn", ["staff"], "规范性文件审查处",
                                       Clock(dt.date(2021, 7, 20))).id
    with api(served, "韩文审") as c:
        for trigger, body in drive_submit:
            assert c.post(f"/api/v1/tasks/{other}/{trigger}", json=body).status_code == 200
    with api(served, "李审核") as c:
        queue = c.get("/api/v1/review").json()
        assert {own, other} <= {q["id"] for q in queue}
        result = c.post("/api/v1/review/approve", json={"ids": [own, other]}).json()
    assert result["approved"] == [other]
    assert [s["id"] for s in result["skipped"]] == [own] and "审办分离" in result["skipped"][0]["reason"]
    with api(served, "张三") as c:
        refused = c.post("/api/v1/review/approve", json={"ids": [other]})
    assert refused.status_code == 403


def test_plans_import_dry_run_then_store_and_publish(served, tmp_path):
    import yaml

    from conftest import PLAN

    world, _ = served
    plan = PLAN | {"title": "网页导入测试方案", "tasks": PLAN["tasks"][:1]}
    body = yaml.safe_dump(plan, allow_unicode=True).encode()
    with api(served, "李审核") as c:
        before = c.get("/api/v1/plans").json()
        dry = c.post("/api/v1/plans", data={"dry_run": "true"}, files={"file": ("plan.yaml", body)})
        assert dry.status_code == 200, dry.text
        assert dry.json()["dry_run"] is True and "id" not in dry.json()
        assert c.get("/api/v1/plans").json() == before
        stored = c.post("/api/v1/plans", files={"file": ("plan.yaml", body)}).json()
        published = c.post(f"/api/v1/plans/{stored['id']}/publish", json={}).json()
    assert stored["title"] == "网页导入测试方案"
    assert published["created"] == 3 and published["plan"] == stored["id"]
    with api(served, "张三") as c:
        refused = c.post("/api/v1/plans", files={"file": ("plan.yaml", body)})
    assert refused.status_code == 403


def test_ledger_formats(served):
    import openpyxl

    with api(served, "李审核") as c:
        as_json = c.get("/api/v1/ledger", params={"plan": "1"})
        xlsx = c.get("/api/v1/ledger", params={"plan": "1", "format": "xlsx"})
        csv = c.get("/api/v1/ledger", params={"plan": "1", "format": "csv"})
        bad = c.get("/api/v1/ledger", params={"format": "pdf"})
        future = c.get("/api/v1/ledger", params={"as_of": "2030-01-01"})
    assert as_json.status_code == 200 and as_json.json()["rows"]
    assert xlsx.headers["content-disposition"].startswith("attachment")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert len(book.sheetnames) >= 2
    assert csv.content.startswith(b"\xef\xbb\xbf")
    assert bad.status_code == 422 and future.status_code == 422


def test_audit_verify_and_openapi_and_local_docs(served):
    world, server = served
    with api(served, "周督查") as c:
        audit = c.get("/api/v1/audit/verify").json()
        schema = c.get("/api/v1/openapi.json").json()
        docs = c.get("/api/v1/docs")
    assert audit["ok"] is True and audit["checked"] > 0
    assert "/api/v1/tasks/{assignment_id}/{trigger}" in schema["paths"]
    assert docs.status_code == 200 and "/api/v1/review/approve" in docs.text
    assert "http://" not in docs.text.replace(server.url, "") and "https://" not in docs.text


def test_revoked_user_and_rotated_token_end_api_and_sessions_at_once(served):
    import datetime as dt

    from workflow.access.tokens import MIN_N, issue_token, revoke
    from workflow.clock import Clock
    from workflow.directory.store import add_user

    world, server = served
    with world.session() as s:
        user = add_user(s, "临时工", "ls@example.gov.cn", ["staff"], "装财处", Clock(dt.date(2021, 7, 20)))
        token = issue_token(s, user, n=MIN_N)
    with server.client(token) as c:
        assert c.get("/api/v1/me").status_code == 200
    with server.client() as browser:
        assert sign_in(browser, token).status_code == 200
        assert browser.get("/tasks").status_code == 200
        with world.session() as s:
            new = issue_token(s, world.user(s, "临时工"), n=MIN_N)  # rotate
        with server.client(token) as c:
            assert c.get("/api/v1/me").status_code == 401  # the old token, at once
        gone = browser.get("/tasks", follow_redirects=False)
        assert gone.status_code == 303 and "/login" in gone.headers["location"]
        assert sign_in(browser, new).status_code == 200 and browser.get("/").status_code == 200
        with world.session() as s:
            revoke(s, world.user(s, "临时工"))
        assert browser.get("/", follow_redirects=False).status_code == 303
    with server.client(new) as c:
        assert c.get("/api/v1/me").status_code == 401


def test_session_cookie_csrf_and_logout(served):
    world, server = served
    with server.client() as browser:
        response = sign_in(browser, world.token("张三"))
        cookie = next(h for h in response.history[0].headers.get_list("set-cookie") if h.startswith("duban_session="))
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
        page = browser.get("/")
        assert "张三" in page.text
        aid = world.assignment(3, "科监处")
        forged = browser.post(f"/tasks/{aid}/start", data={"csrf": "forged"})
        assert forged.status_code == 403 and "CSRF" in forged.text
        with world.session() as s:
            from db.models import Assignment

            assert s.get(Assignment, aid).state == "assigned"
        csrf = page_csrf(page.text)
        assert browser.post("/logout", data={"csrf": csrf}).status_code == 200
        after = browser.get("/", follow_redirects=False)
        assert after.status_code == 303
    with server.client() as https:  # behind a proxy that terminates HTTPS
        https.get("/login")
        r = https.post("/login", data={"token": world.token("张三"), "csrf": https.cookies.get("duban_csrf"), "next": "/"},
                       headers={"X-Forwarded-Proto": "https"}, follow_redirects=False)
        assert "Secure" in r.headers["set-cookie"]


def test_attachment_downloads_as_attachment(served):
    world, server = served
    aid = world.assignment(3, "装财处")
    with api(served, "张三") as c:
        c.post(f"/api/v1/tasks/{aid}/start")
        view = c.post(f"/api/v1/tasks/{aid}/submit", data={"summary": "见附件"},
                      files=[("attachments", ("../../etc/说明.txt", io.BytesIO(b"content"), "text/plain"))]).json()
    assert view["attachments"][0]["name"] == "说明.txt"  # a label, never a path
    sha = view["attachments"][0]["sha256"]
    with server.client() as browser:
        sign_in(browser, world.token("张三"))
        r = browser.get(f"/tasks/{aid}/files/{sha}")
    assert r.status_code == 200 and r.content == b"content"
    assert r.headers["content-disposition"].startswith("attachment")
    with server.client() as other:
        sign_in(other, world.token("孙科监"))
        assert other.get(f"/tasks/{aid}/files/{sha}").status_code == 404


def test_front_page_follows_every_change(served):
    import re

    world, server = served
    aid = world.assignment(1, "办公室")
    with server.client() as browser:
        sign_in(browser, world.token("李审核"))

        def submitted() -> int:
            page = browser.get("/").text
            return int(re.search(r"<b>(\d+)</b><span>已报送</span>", page).group(1))

        before = submitted()
        assert submitted() == before  # the second read comes from the cache
        with world.session() as s:
            from workflow.clock import Clock
            from workflow.directory.store import add_user

            world.ids["办公室甲"] = add_user(s, "办公室甲", "bg@example.gov.cn", ["staff"], "办公室",
                                             Clock(dt.date(2021, 7, 20))).id
        with api(served, "办公室甲") as c:
            c.post(f"/api/v1/tasks/{aid}/start")
            assert c.post(f"/api/v1/tasks/{aid}/submit", json={"summary": "已办"}).status_code == 200
        assert submitted() == before + 1
