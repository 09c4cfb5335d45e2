"""The outbox, mail and remind commands, run in-process through the real typer app."""
import datetime as dt
import json

import pytest
from typer.testing import CliRunner

import cli
from mailkit import SmtpSink, World, free_port, make_db
from workflow.errors import BadInput, Refused

D = dt.date


@pytest.fixture
def setup(tmp_path):
    engine = make_db(tmp_path)
    w = World(engine)
    zc = w.dept("装财处", email="zcc@example.gov.cn")
    w.user("张三", zc, ["staff"], "zhang@example.gov.cn")
    w.user("王五", zc, ["staff", "head"], "wang@example.gov.cn")
    office = w.user("督办服务", None, ["reviewer"], "duban@example.gov.cn")  # the cron job's account
    plan = w.plan()
    w.assignment(plan, w.task(plan, 9, "按季度公开执法信息"), zc, D(2021, 9, 30), period="2021Q3")
    config = tmp_path / "duban.toml"
    config.write_text(f'[mail]\nbackend = "file"\ndir = "{tmp_path / "out"}"\n', encoding="utf-8")
    config.chmod(0o600)
    return {"db": str(engine.url), "config": str(config), "out": tmp_path / "out", "tmp": tmp_path,
            "token": service_token(engine, office)}


def service_token(engine, user_id: int) -> str:
    from sqlmodel import Session

    from db.models import User
    from workflow.access.tokens import MIN_N, issue_token

    with Session(engine) as s:
        return issue_token(s, s.get(User, user_id), n=MIN_N)


def invoke(setup, *args, today="2021-09-30", env=None):
    runner = CliRunner()
    base = ["--db", setup["db"], "--config", setup["config"], "--today", today]
    clean = {"DUBAN_MAIL_BACKEND": None, "DUBAN_SMTP_HOST": None, "DUBAN_SMTP_PORT": None,
             "DUBAN_USER": None, "DUBAN_TODAY": None, "DUBAN_DB": None, "DUBAN_CONFIG": None,
             "DUBAN_TOKEN": setup["token"]}
    clean.update(env or {})
    return runner.invoke(cli.app, [*base, *args], env=clean, catch_exceptions=True)


def test_remind_run_dry_run_then_real_then_idempotent(setup):
    dry = invoke(setup, "remind", "run", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    data = json.loads(dry.stdout)
    assert data["dry_run"] and data["enqueued"] == 3 and data["dispatch"] is None
    assert data["items"] == {"escalation": 0, "overdue": 0, "due_today": 1, "before": 0, "review_waiting": 0}
    assert {d["recipient"] for d in data["digests"]} == {
        "zhang@example.gov.cn", "wang@example.gov.cn", "zcc@example.gov.cn"}
    assert not setup["out"].exists()

    real = invoke(setup, "remind", "run")
    assert real.exit_code == 0, real.output
    assert "已生成催办邮件 3 封" in real.stdout and "已发送 3 封" in real.stdout
    assert len(list(setup["out"].glob("*.eml"))) == 3

    again = invoke(setup, "remind", "run")
    assert "已生成催办邮件 0 封" in again.stdout and "已发送 0 封" in again.stdout

    listing = json.loads(invoke(setup, "outbox", "list", "--json").stdout)
    assert listing["counts"] == {"pending": 0, "sending": 0, "sent": 3, "failed": 0}  # zeros kept
    assert {i["kind"] for i in listing["items"]} == {"reminder"}


def test_remind_run_on_a_holiday(setup):
    result = invoke(setup, "remind", "run", today="2021-10-02")
    assert result.exit_code == 0 and "不是工作日" in result.stdout


def test_outbox_list_text_and_bad_status(setup):
    invoke(setup, "remind", "run", "--no-send")
    text = invoke(setup, "outbox", "list", "--status", "pending").stdout
    assert "待发送" in text and "【督办】催办提醒" in text and "合计" in text
    bad = invoke(setup, "outbox", "list", "--status", "lost")
    assert isinstance(bad.exception, BadInput) and "pending" in bad.exception.message


def test_send_with_server_down_exits_1_and_keeps_mail(setup):
    invoke(setup, "remind", "run", "--no-send")
    port = str(free_port())
    env = {"DUBAN_MAIL_BACKEND": "smtp", "DUBAN_SMTP_HOST": "127.0.0.1", "DUBAN_SMTP_PORT": port}
    (setup["tmp"] / "duban.toml").write_text('[mail]\nsecurity = "plain"\n', encoding="utf-8")
    down = invoke(setup, "outbox", "send", env=env)
    assert down.exit_code == 1 and isinstance(down.exception, Refused)
    said = down.exception.message
    assert "邮件未全部发出" in said and "仍有 3 封待发送" in said and "连接被拒绝" in said
    listing = json.loads(invoke(setup, "outbox", "list", "--json").stdout)
    assert listing["counts"] == {"pending": 3, "sending": 0, "sent": 0, "failed": 0}
    with SmtpSink(port=int(port)) as sink:
        invoke(setup, "outbox", "retry", *[str(i["id"]) for i in listing["items"]])
        up = invoke(setup, "outbox", "send", "--json", env=env)
    assert up.exit_code == 0 and json.loads(up.stdout)["sent"] == 3
    assert len(sink.received) == 3


def test_send_exits_1_on_a_permanent_failure_and_says_how_many(setup):
    """cron reads the exit status: a mail that will never go out is not success."""
    invoke(setup, "remind", "run", "--no-send")
    (setup["tmp"] / "duban.toml").write_text('[mail]\nsecurity = "plain"\n', encoding="utf-8")
    with SmtpSink(refuse={"wang@example.gov.cn"}) as sink:
        env = {"DUBAN_MAIL_BACKEND": "smtp", "DUBAN_SMTP_HOST": "127.0.0.1",
               "DUBAN_SMTP_PORT": str(sink.port)}
        result = invoke(setup, "outbox", "send", env=env)
    assert len(sink.received) == 2
    assert result.exit_code == 1 and isinstance(result.exception, Refused)
    said = result.exception.message
    assert "本次 1 封发送失败" in said and "wang@example.gov.cn" in said and "（550 5.1.1）" in said
    assert ".。" not in said and not any("a" <= c.lower() <= "z" for c in said.split("原因")[0])
    assert invoke(setup, "outbox", "send").exit_code == 0  # nothing left to try: the failure was reported


def test_remind_run_exits_1_when_mail_stays_pending(setup):
    port = str(free_port())
    env = {"DUBAN_MAIL_BACKEND": "smtp", "DUBAN_SMTP_HOST": "127.0.0.1", "DUBAN_SMTP_PORT": port}
    (setup["tmp"] / "duban.toml").write_text('[mail]\nsecurity = "plain"\n', encoding="utf-8")
    result = invoke(setup, "remind", "run", env=env)
    assert result.exit_code == 1 and "已生成催办邮件 3 封" in result.stdout
    assert "仍有 3 封待发送" in result.exception.message


def test_starttls_refusal_is_one_chinese_sentence(setup):
    """The server connected but offers no STARTTLS: say that, and what to set."""
    with SmtpSink() as sink:
        env = {"DUBAN_MAIL_BACKEND": "smtp", "DUBAN_SMTP_HOST": "127.0.0.1",
               "DUBAN_SMTP_PORT": str(sink.port)}
        (setup["tmp"] / "duban.toml").write_text('[mail]\nsecurity = "starttls"\n', encoding="utf-8")
        tested = invoke(setup, "mail", "test", "me@example.gov.cn", env=env)
        invoke(setup, "remind", "run", "--no-send")
        sent = invoke(setup, "outbox", "send", env=env)
    expected = f"邮件服务器 127.0.0.1:{sink.port} 不支持 STARTTLS：请把 [mail] security 设为 plain 或 tls。"
    assert tested.exit_code == 1 and tested.exception.message == f"测试邮件未能发出：{expected}"
    assert sent.exit_code == 1 and sent.exception.message.startswith(expected)
    for said in (tested.exception.message, sent.exception.message):
        assert "无法连接" not in said and ".。" not in said and "extension" not in said
    listing = json.loads(invoke(setup, "outbox", "list", "--json").stdout)
    assert listing["counts"]["pending"] == 3  # a setting problem costs no attempt


def test_retry_usage(setup):
    assert isinstance(invoke(setup, "outbox", "retry").exception, BadInput)
    missing = invoke(setup, "outbox", "retry", "999")
    assert isinstance(missing.exception, Refused) and "没有可重发" in missing.exception.message


def test_mail_test_file_and_smtp(setup):
    result = invoke(setup, "mail", "test", "me@example.gov.cn")
    assert result.exit_code == 0 and "测试邮件已发出（file）" in result.stdout
    assert len(list(setup["out"].glob("*.eml"))) == 1
    (setup["tmp"] / "duban.toml").write_text('[mail]\nsecurity = "plain"\n', encoding="utf-8")
    with SmtpSink() as sink:
        env = {"DUBAN_MAIL_BACKEND": "smtp", "DUBAN_SMTP_HOST": "127.0.0.1",
               "DUBAN_SMTP_PORT": str(sink.port)}
        ok = invoke(setup, "mail", "test", "张三 <me@example.gov.cn>", env=env)
    assert ok.exit_code == 0 and "250" in ok.stdout
    assert str(sink.received[0].message["Subject"]) == "【督办】测试邮件"
    with SmtpSink(refuse={"bad@example.gov.cn"}) as sink:
        env["DUBAN_SMTP_PORT"] = str(sink.port)
        refused = invoke(setup, "mail", "test", "bad@example.gov.cn", env=env)
    assert isinstance(refused.exception, Refused) and "550" in refused.exception.message
    assert isinstance(invoke(setup, "mail", "test", "not an address").exception, BadInput)


def test_daemon_once_and_lock(setup):
    from db.engine import make_engine
    from commands.mail import daemon_lock

    once = invoke(setup, "remind", "daemon", "--once")
    assert once.exit_code == 0, once.output
    assert "已生成催办邮件 3 封" in once.stdout
    with daemon_lock(make_engine(setup["db"])):
        second = invoke(setup, "remind", "daemon", "--once")
    assert isinstance(second.exception, Refused) and "另一个催办守护进程" in second.exception.message
    assert invoke(setup, "remind", "daemon", "--once").exit_code == 0  # lock released


@pytest.mark.parametrize("args", [
    ["outbox", "list"], ["outbox", "send"], ["outbox", "retry"], ["mail", "test"],
    ["remind", "run"], ["remind", "daemon"], ["outbox"], ["remind"], ["mail"]])
def test_help_has_examples(args):
    result = CliRunner().invoke(cli.app, [*args, "--help"])
    assert result.exit_code == 0 and "示例" in result.stdout and "duban " in result.stdout


def test_outbox_times_carry_the_zone_and_created_at_follows_today(setup):
    """Scripts read times with their offset; a mail made on a simulated day says that day."""
    invoke(setup, "remind", "run", "--no-send", today="2021-09-30")
    listing = json.loads(invoke(setup, "outbox", "list", "--json", today="2021-09-30").stdout)
    item = listing["items"][0]
    assert item["created_at"].startswith("2021-09-30T") and item["created_at"].endswith("+08:00")
    assert item["sent_at"] is None
    invoke(setup, "outbox", "send")
    sent = json.loads(invoke(setup, "outbox", "list", "--json").stdout)["items"][0]
    assert sent["sent_at"].endswith("+08:00") and dt.datetime.fromisoformat(sent["sent_at"]).tzinfo
