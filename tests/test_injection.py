"""Injection corpus (issue 6, item 7): hostile text in every place a user can type some.

Task requirements (through a plan file), summaries, comments, delay reasons, department
and user names holding CR/LF, `<script>`, HTML entities, jinja2 syntax, SQL fragments and
10,000 characters are stored and shown exactly (history and ledger JSON give back the
same string) and harmlessly: mail subjects stay one line, HTML mail escapes them,
templates never evaluate them, and the SQL stays text. NUL is refused with one sentence.

The moves run in-process through the typer app (NUL cannot even travel through
execve); the reads that are about the command line run the real `duban` in a subprocess.
"""
from __future__ import annotations

import email
import email.policy
import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

import cli
from cli_helpers import run, run_json
from workflow.errors import BadInput

CORPUS = {
    "crlf": "第一行\r\n第二行\nBcc: evil@example.com\r\nSubject: 伪造的主题",
    "script": "<script>alert('督办')</script><img src=x onerror=alert(1)>",
    "entities": "&lt;b&gt;不是粗体&lt;/b&gt; &amp; &#x41; &quot;引号&quot; &nbsp;",
    "jinja": "{{ 7*7 }} {% raw %}{{ config }}{% endraw %} {# 注释 #} {{ ''.__class__ }}",
    "sql": "'; DROP TABLE event; -- \" OR 1=1; /*",
    "long": "长" * 9_996 + "到此为止",  # 10,000 characters: the longest a summary may be
}
assert len(CORPUS["long"]) == 10_000
DEPT = "<b>装财处</b>&amp;{{ 7*7 }}'; DROP TABLE department; --"  # one line: names may not break lines
STAFF = "{{ 7*7 }}<script>张三</script>'; --"
REVIEWER = "李审核&lt;"
OFFICE = "局政务公开办"
UNTIL = "2021-12-15"


def cli_in_process(db: str, *args: str, token: str | None = None, config: Path | None = None):
    env = {"DUBAN_DB": db, "DUBAN_TOKEN": token, "DUBAN_USER": None, "DUBAN_TODAY": "2021-08-02",
           "DUBAN_CONFIG": str(config) if config else None}
    result = CliRunner().invoke(cli.app, list(args), env=env, catch_exceptions=True)
    return result


def ok(result):
    assert result.exit_code == 0, (result.output, result.exception)
    return result


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A database where everything typed is hostile, built through the CLI."""
    folder = tmp_path_factory.mktemp("injection")
    db = f"sqlite:///{folder / 'duban.db'}"
    config = folder / "duban.toml"
    config.write_text(f'[mail]\nbackend = "file"\ndir = "{folder / "mail"}"\n', encoding="utf-8")
    config.chmod(0o600)
    admin = ok(cli_in_process(db, "db", "init", "--admin", "吴管理", "--email", "wu@example.gov.cn")).stdout.splitlines()[-1]
    ok(cli_in_process(db, "dept", "add", OFFICE, "--kind", "office", "--email", "gk@example.gov.cn", token=admin))
    ok(cli_in_process(db, "dept", "add", DEPT, "--email", "zc@example.gov.cn", token=admin))
    tokens = {
        STAFF: json.loads(ok(cli_in_process(db, "user", "add", STAFF, "--dept", DEPT, "--role", "staff",
                                            "--email", "zs@example.gov.cn", "--json", token=admin)).stdout)["token"],
        REVIEWER: json.loads(ok(cli_in_process(db, "user", "add", REVIEWER, "--dept", OFFICE, "--role", "reviewer",
                                               "--email", "li@example.gov.cn", "--json", token=admin)).stdout)["token"],
    }
    plan = {"title": "{{ 7*7 }}<script>计划</script>\"'; --", "year": 2021, "due": "2021-11-30",
            "tasks": [{"seq": i, "requirement": value, "responsibilities": [{"department": DEPT, "role": "lead"}]}
                      for i, value in enumerate([*CORPUS.values(), "用于拒绝测试(办理中)", "用于拒绝测试(已报送)"], 1)]}
    plan_file = folder / "plan.json"
    plan_file.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    ok(cli_in_process(db, "plan", "import", str(plan_file), token=tokens[REVIEWER], config=config))
    ok(cli_in_process(db, "plan", "publish", "1", token=tokens[REVIEWER], config=config))
    ids = {}
    for seq, (name, value) in enumerate(CORPUS.items(), 1):
        aid = ids[name] = _assignment(db, seq)
        staff, reviewer = tokens[STAFF], tokens[REVIEWER]
        ok(cli_in_process(db, "task", "start", str(aid), token=staff, config=config))
        ok(cli_in_process(db, "task", "submit", str(aid), "--summary", value, token=staff, config=config))
        ok(cli_in_process(db, "review", "send-back", str(aid), "--comment", value, token=reviewer, config=config))
        ok(cli_in_process(db, "delay", "request", str(aid), "--reason", value, "--until", UNTIL, token=staff,
                          config=config))
    ids["in_progress"], ids["submitted"] = _assignment(db, len(CORPUS) + 1), _assignment(db, len(CORPUS) + 2)
    ok(cli_in_process(db, "task", "start", str(ids["in_progress"]), token=tokens[STAFF]))
    ok(cli_in_process(db, "task", "start", str(ids["submitted"]), token=tokens[STAFF]))
    ok(cli_in_process(db, "task", "submit", str(ids["submitted"]), "--summary", "已办理", token=tokens[STAFF]))
    ok(cli_in_process(db, "outbox", "send", token=tokens[REVIEWER], config=config))
    return {"db": db, "ids": ids, "tokens": tokens, "admin": admin, "mail": folder / "mail", "folder": folder,
            "config": config, "plan": plan}


def _assignment(db: str, seq: int) -> int:
    engine = create_engine(db)
    with engine.connect() as conn:
        aid = conn.execute(text("SELECT a.id FROM assignment a JOIN task t ON t.id = a.task_id "
                                "WHERE t.seq = :seq"), {"seq": seq}).scalar_one()
    engine.dispose()
    return aid


@pytest.mark.parametrize("name", CORPUS)
def test_history_json_gives_back_exactly_what_was_typed(hostile, name):
    value = CORPUS[name]
    result = ok(cli_in_process(hostile["db"], "task", "history", str(hostile["ids"][name]), "--json",
                               token=hostile["tokens"][STAFF]))
    events = {e["trigger"]: e for e in json.loads(result.stdout)}
    assert events["submit"]["comment"] == value and events["submit"]["data"]["summary"] == value
    assert events["send_back"]["comment"] == value
    assert events["request_delay"]["comment"] == value and events["request_delay"]["data"]["reason"] == value
    assert events["start"]["actor"] == STAFF and events["send_back"]["actor"] == REVIEWER
    shown = ok(cli_in_process(hostile["db"], "task", "show", str(hostile["ids"][name]), "--json",
                              token=hostile["tokens"][STAFF]))
    assert json.loads(shown.stdout)["requirement"] == value
    assert json.loads(shown.stdout)["department"] == DEPT


def test_the_real_command_line_round_trips_them(hostile):
    """A subprocess: what crosses argv and stdout is exact too (CR/LF, 10,000 characters)."""
    history = run_json("task", "history", str(hostile["ids"]["crlf"]), db=hostile["db"],
                       token=hostile["tokens"][REVIEWER])
    assert [e["comment"] for e in history if e["trigger"] == "send_back"] == [CORPUS["crlf"]]
    ledger = run_json("ledger", db=hostile["db"], token=hostile["tokens"][REVIEWER], today="2021-12-31")
    rows = {r["task"]: r for r in ledger["rows"]}
    for seq, value in enumerate(CORPUS.values(), 1):
        assert rows[seq]["requirement"] == value and rows[seq]["latest_summary"] == value
        assert rows[seq]["department"] == DEPT
        assert [d["reason"] for d in rows[seq]["delays"]] == [value]
    assert ledger["plan_title"] == hostile["plan"]["title"]
    table = run("task", "list", db=hostile["db"], token=hostile["tokens"][STAFF])
    assert table.returncode == 0 and "\r" not in table.stdout  # a table row stays one row
    users = run_json("user", "list", db=hostile["db"], token=hostile["admin"])
    assert {u["name"] for u in users} == {"吴管理", STAFF, REVIEWER}
    depts = run_json("dept", "list", db=hostile["db"], token=hostile["admin"])
    assert {d["name"] for d in depts} == {OFFICE, DEPT}


def _mails(hostile) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in sorted(hostile["mail"].glob("*.eml"))]


def test_mail_headers_stay_one_line(hostile):
    mails = _mails(hostile)
    assert len(mails) >= 1 + 3 * len(CORPUS)  # distribution, then submitted/sent back/delay per item
    for msg in mails:
        assert msg["Bcc"] is None and msg["Cc"] is None
        assert len(msg.get_all("Subject")) == 1 and msg["Subject"].startswith("【督办】")
        for header, value in msg.items():
            assert "\r" not in str(value) and "\n" not in str(value), header
    engine = create_engine(hostile["db"])
    with engine.connect() as conn:
        subjects = conn.execute(text("SELECT subject FROM notification")).scalars().all()
    engine.dispose()
    assert subjects and not any("\r" in s or "\n" in s for s in subjects)


def test_html_mail_escapes_and_templates_never_evaluate(hostile):
    mails = _mails(hostile)
    html = "\n".join(m.get_body(("html",)).get_content() for m in mails)
    plain = "\n".join(m.get_body(("plain",)).get_content() for m in mails)
    assert "<script>" not in html and "<img src=x" not in html and "<b>装财处</b>" not in html
    assert "&lt;script&gt;alert(" in html
    assert "&amp;lt;b&amp;gt;不是粗体" in html  # entities typed are shown as typed, not decoded
    assert CORPUS["jinja"] in plain  # printed literally: not 49, not the template's config
    assert "{{ 7*7 }}" in plain and "{% raw %}" in plain
    assert "<class" not in plain and "&lt;class" not in html  # {{ ''.__class__ }} was not run
    assert CORPUS["sql"] in plain and CORPUS["script"] in plain
    assert CORPUS["long"] in "".join(plain.split())  # the whole 10,000 characters reach the mail


def test_the_sql_fragments_stayed_text(hostile):
    engine = create_engine(hostile["db"])
    with engine.connect() as conn:
        # per corpus item: distribute, start, submit, send_back, request_delay; plus the two extras
        assert conn.execute(text("SELECT count(*) FROM event")).scalar_one() == 5 * len(CORPUS) + 2 + 3
        assert conn.execute(text("SELECT count(*) FROM department")).scalar_one() == 2
        tables = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'")).scalars())
    engine.dispose()
    assert {"event", "department", "app_user", "assignment"} <= tables
    verify = run("audit", "verify", db=hostile["db"], token=hostile["tokens"][REVIEWER])
    assert verify.returncode == 0 and "完整" in verify.stdout


@pytest.mark.parametrize("args,words", [
    (["task", "submit", "{in_progress}", "--summary", "有\x00空字符"], "空字符"),
    (["review", "send-back", "{submitted}", "--comment", "有\x00空字符"], "空字符"),
    (["task", "submit", "{in_progress}", "--summary", "长" * 10_001], "过长"),
    (["dept", "add", "有\x00空字符"], "无效"),
    (["dept", "add", "第一行\r\n第二行"], "无效"),
    (["dept", "add", "处" * 101], "无效"),
    (["user", "add", "张\n三", "--role", "staff", "--dept", OFFICE, "--email", "x@example.gov.cn"], "无效"),
])
def test_refused_with_one_sentence(hostile, args, words):
    """NUL, line breaks in names and over-long text: exit 2, one sentence, nothing stored."""
    ids = hostile["ids"]
    before = {aid: _state(hostile["db"], aid) for aid in (ids["in_progress"], ids["submitted"])}
    token = hostile["admin"] if args[0] in ("dept", "user") else hostile["tokens"][
        REVIEWER if args[0] == "review" else STAFF]
    args = [a.replace("{in_progress}", str(ids["in_progress"])).replace("{submitted}", str(ids["submitted"]))
            for a in args]
    result = cli_in_process(hostile["db"], *args, token=token, config=hostile["config"])
    assert isinstance(result.exception, BadInput), (result.output, result.exception)
    assert words in result.exception.message and "\x00" not in result.exception.message
    assert result.exception.message.count("。") == 1 and "\n" not in result.exception.message
    assert {aid: _state(hostile["db"], aid) for aid in before} == before


def test_a_plan_file_with_nul_is_refused(hostile):
    bad = hostile["folder"] / "nul.json"
    bad.write_text(json.dumps(hostile["plan"] | {"title": "另一个计划", "tasks": [
        {"seq": 1, "requirement": "有\x00空字符", "responsibilities": [{"department": DEPT, "role": "lead"}]}]},
        ensure_ascii=False), encoding="utf-8")
    result = cli_in_process(hostile["db"], "plan", "import", str(bad), "--dry-run")
    assert isinstance(result.exception, BadInput) and "空字符" in result.exception.message


def _state(db: str, aid: int) -> tuple:
    engine = create_engine(db)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT state, version FROM assignment WHERE id = :i"), {"i": aid}).one()
        events = conn.execute(text("SELECT count(*) FROM event")).scalar_one()
        depts = conn.execute(text("SELECT count(*) FROM department")).scalar_one()
        users = conn.execute(text("SELECT count(*) FROM app_user")).scalar_one()
    engine.dispose()
    return tuple(row), events, depts, users


def test_storage_is_exact_on_both_backends(db_url):
    """The same corpus through fire() on SQLite and PostgreSQL: read back byte for byte."""
    from conftest import build_world
    from commands import lifecycle
    from workflow.lifecycle.engine import Fields
    from workflow.lifecycle.queries import history

    world = build_world(db_url)
    aid = world.assignment(1, "装财处")
    lifecycle.transition(world.app("张三"), aid, "start")
    for value in CORPUS.values():
        lifecycle.transition(world.app("张三"), aid, "submit", Fields(summary=value))
        lifecycle.transition(world.app("李审核"), aid, "send_back", Fields(comment=value))
    with world.session() as s:
        comments = [e["comment"] for e in history(s, aid) if e["trigger"] in ("submit", "send_back")]
    assert comments == [v for v in CORPUS.values() for _ in (0, 1)]
