"""duban.toml: defaults, values, environment overrides, validation, password hygiene."""
import datetime as dt
import os
from pathlib import Path

import pytest

from workflow.config import load_config
from workflow.errors import BadInput


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "duban.toml"
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_config(None, environ={})
    assert cfg.source is None
    assert cfg.mail.backend == "file"
    assert cfg.mail.sender == "督办系统 <duban@localhost>"
    assert cfg.mail.dir == Path("outbox")
    assert cfg.mail.connections == 8
    assert cfg.remind.before == (5, 1)
    assert (cfg.remind.overdue_every, cfg.remind.escalate_after) == (3, 5)
    assert (cfg.remind.review_wait, cfg.remind.warn_window) == (3, 5)
    assert cfg.templates_dir is None


def test_reads_dot_duban_toml_from_the_working_directory(tmp_path, monkeypatch):
    write(tmp_path, '[mail]\nbackend = "console"\n')
    monkeypatch.chdir(tmp_path)
    assert load_config(None, environ={}).mail.backend == "console"


def test_all_sections(tmp_path):
    path = write(tmp_path, """
templates_dir = "my-templates"

[mail]
backend = "smtp"
from = "政务公开办 <gkb@example.gov.cn>"
host = "smtp.example.gov.cn"
port = 465
security = "tls"
username = "gkb"
timeout = 12.5
connections = 4
max_attempts = 5
backoff_seconds = 30

[remind]
before = [1, 5, 10]
overdue_every = 2
escalate_after = 4
review_wait = 2
warn_window = 3

[calendar]
holidays = [2027-10-01, "2027-10-04"]
workdays = [2027-09-26]
""")
    cfg = load_config(path, environ={})
    m = cfg.mail
    assert (m.backend, m.host, m.port, m.security, m.username) == (
        "smtp", "smtp.example.gov.cn", 465, "tls", "gkb")
    assert m.sender == "政务公开办 <gkb@example.gov.cn>" and m.envelope_sender == "gkb@example.gov.cn"
    assert (m.timeout, m.connections, m.max_attempts, m.backoff_seconds) == (12.5, 4, 5, 30.0)
    assert cfg.remind.before == (10, 5, 1)
    assert cfg.remind.overdue_every == 2 and cfg.remind.escalate_after == 4
    assert cfg.calendar.holidays == {dt.date(2027, 10, 1), dt.date(2027, 10, 4)}
    assert cfg.calendar.workdays == {dt.date(2027, 9, 26)}
    assert cfg.templates_dir == tmp_path / "my-templates"  # relative to the file
    assert m.dir == tmp_path / "outbox"


def test_port_follows_security_when_not_given(tmp_path):
    path = write(tmp_path, '[mail]\nsecurity = "starttls"\n')
    assert load_config(path, environ={}).mail.effective_port == 587
    path = write(tmp_path, '[mail]\nsecurity = "plain"\n')
    assert load_config(path, environ={}).mail.effective_port == 25


def test_environment_overrides(tmp_path):
    path = write(tmp_path, '[mail]\nbackend = "file"\nhost = "a"\nport = 25\n')
    env = {"DUBAN_MAIL_BACKEND": "smtp", "DUBAN_SMTP_HOST": "mx.example.gov.cn",
           "DUBAN_SMTP_PORT": "2525", "DUBAN_SMTP_USER": "bot", "DUBAN_SMTP_PASSWORD": "s3cret"}
    m = load_config(path, environ=env).mail
    assert (m.backend, m.host, m.port, m.username, m.password) == (
        "smtp", "mx.example.gov.cn", 2525, "bot", "s3cret")


@pytest.mark.parametrize("text, words", [
    ('[mail]\nport = "25"\n', ["mail.port", "整数"]),
    ('[mail]\nbackend = "pigeon"\n', ["mail.backend", "file、smtp、console"]),
    ('[mail]\nsecurity = "ssl"\n', ["mail.security"]),
    ('[mail]\nconnections = 0\n', ["mail.connections"]),
    ('[mail]\nhots = "x"\n', ["mail.hots", "无法识别"]),
    ('[mail]\nfrom = "nobody"\n', ["mail.from"]),
    ('[remind]\nbefore = [5, "1"]\n', ["remind.before"]),
    ('[remind]\noverdue_every = true\n', ["remind.overdue_every"]),
    ('[remind]\noverdue_every = 0\n', ["remind.overdue_every"]),
    ('[calendar]\nholidays = ["2027-02-30"]\n', ["calendar.holidays", "YYYY-MM-DD"]),
    ('mail = 3\n', ["mail"]),
    ('[smtp]\nhost = "x"\n', ["smtp", "无法识别"]),
    ('[mail\nbackend = "smtp"\n', ["TOML"]),
])
def test_bad_files_name_the_key(tmp_path, text, words):
    path = write(tmp_path, text)
    with pytest.raises(BadInput) as info:
        load_config(path, environ={})
    for word in words:
        assert word in info.value.message
    assert info.value.exit_code == 2


def test_bad_environment_port(tmp_path):
    with pytest.raises(BadInput, match="DUBAN_SMTP_PORT"):
        load_config(write(tmp_path, ""), environ={"DUBAN_SMTP_PORT": "smtp"})


def test_missing_explicit_file(tmp_path):
    with pytest.raises(BadInput, match="不存在"):
        load_config(tmp_path / "nope.toml", environ={})


def test_password_from_named_env_var_and_hidden_from_repr(tmp_path):
    path = write(tmp_path, '[mail]\nusername = "bot"\npassword_env = "GKB_MAIL_PW"\n')
    cfg = load_config(path, environ={"GKB_MAIL_PW": "hunter2"})
    assert cfg.mail.password == "hunter2"
    assert "hunter2" not in repr(cfg) and "hunter2" not in repr(cfg.mail)
    assert "***" in repr(cfg.mail)


def test_password_file(tmp_path):
    secret = tmp_path / "smtp.pw"
    secret.write_text("pw-from-file\n")
    os.chmod(secret, 0o600)
    warnings = []
    path = write(tmp_path, '[mail]\npassword_file = "smtp.pw"\n')
    cfg = load_config(path, environ={}, warn=warnings.append)
    assert cfg.mail.password == "pw-from-file" and warnings == []
    os.chmod(secret, 0o644)
    load_config(path, environ={}, warn=warnings.append)
    assert len(warnings) == 1 and "chmod 600" in warnings[0]


def test_env_password_wins(tmp_path):
    path = write(tmp_path, '[mail]\npassword = "in-file"\n')
    assert load_config(path, environ={"DUBAN_SMTP_PASSWORD": "env"}).mail.password == "env"


def test_readable_file_with_password_warns_on_stderr(tmp_path, capsys):
    path = write(tmp_path, '[mail]\npassword = "in-file"\n', mode=0o644)
    cfg = load_config(path, environ={})
    err = capsys.readouterr().err
    assert "警告" in err and "chmod 600" in err and "in-file" not in err
    assert cfg.mail.password == "in-file"
    write(tmp_path, '[mail]\npassword = "in-file"\n', mode=0o600)
    load_config(path, environ={})
    assert capsys.readouterr().err == ""


def test_app_config_uses_load_config(tmp_path):
    from commands.common import App

    path = write(tmp_path, '[remind]\noverdue_every = 4\n')
    assert App(config_path=path).config().remind.overdue_every == 4
