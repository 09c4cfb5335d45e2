"""duban.toml: mail, reminder policy, calendar additions, templates.

Read once per command (App.config()). Every value is checked here, with a
Chinese message that names the key and says what is expected, so a typo in the
file fails at start-up instead of in the middle of a night's mail run.

The SMTP password never comes from a command-line flag (it would show in `ps`
and in shell history): DUBAN_SMTP_PASSWORD, the env var named by
`password_env`, the file named by `password_file`, or — discouraged — `password`
in the file itself, in that order. repr() of the config hides it.

Relative paths in the file (dir, password_file, templates_dir) are taken
relative to the file's folder, so cron jobs started elsewhere find them.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import stat
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from workflow.errors import BadInput

if TYPE_CHECKING:  # pragma: no cover
    from notifications.backends import MailConfig

DEFAULT_FILE = Path("duban.toml")
BACKENDS = ("file", "smtp", "console")
SECURITY = ("starttls", "tls", "plain")


@dataclass(frozen=True)
class RemindPolicy:
    """When reminders go out; all counts are working days."""

    before: tuple[int, ...] = (5, 1)
    overdue_every: int = 3
    escalate_after: int = 5
    review_wait: int = 3
    warn_window: int = 5


@dataclass(frozen=True)
class CalendarConfig:
    """Holidays and 调休 working days for years chinese_calendar does not cover."""

    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()


@dataclass(frozen=True)
class WebConfig:
    """The web front end (duban serve): the address mails link to, and how long a
    reviewer's approve-from-the-mail link stays valid."""

    base_url: str | None = None  # e.g. https://oa.sfj.gov.cn/duban; None: mails carry no links
    link_days: int = 7
    session_hours: int = 12


@dataclass
class Config:
    mail: "MailConfig" = field(default_factory=lambda: _default_mail())
    web: WebConfig = field(default_factory=WebConfig)
    remind: RemindPolicy = field(default_factory=RemindPolicy)
    calendar: CalendarConfig = field(default_factory=CalendarConfig)
    templates_dir: Path | None = None
    source: Path | None = None  # the file read, None for defaults
    warnings: list[str] = field(default_factory=list)


# --- the schema: key → (python type(s), Chinese description) ----------------------

_MAIL_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "backend": ((str,), "file、smtp 或 console"),
    "from": ((str,), "发件人，如 \"督办系统 <duban@example.gov.cn>\""),
    "dir": ((str,), "文件夹路径（字符串）"),
    "host": ((str,), "邮件服务器主机名（字符串）"),
    "port": ((int,), "1–65535 之间的整数"),
    "security": ((str,), "starttls、tls 或 plain"),
    "username": ((str,), "用户名（字符串）"),
    "password": ((str,), "字符串（建议改用 password_env 或 password_file）"),
    "password_env": ((str,), "环境变量名（字符串）"),
    "password_file": ((str,), "文件路径（字符串）"),
    "timeout": ((int, float), "正数（秒）"),
    "connections": ((int,), "1–64 之间的整数"),
    "max_attempts": ((int,), "正整数"),
    "backoff_seconds": ((int, float), "正数（秒）"),
    "domain": ((str,), "域名，如 sfj.gz.gov.cn（Message-ID 与日历 UID 的后缀；默认取发件人地址的域名）"),
}
_REMIND_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "before": ((list,), "正整数列表（工作日），如 [5, 1]"),
    "overdue_every": ((int,), "正整数（工作日）"),
    "escalate_after": ((int,), "正整数（工作日）"),
    "review_wait": ((int,), "非负整数（工作日）"),
    "warn_window": ((int,), "非负整数（工作日）"),
}
_CALENDAR_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "holidays": ((list,), "日期列表，如 [2027-01-01, \"2027-02-06\"]"),
    "workdays": ((list,), "日期列表（调休上班日），如 [2027-02-14]"),
}
_WEB_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "base_url": ((str,), "网页的地址，如 \"https://oa.example.gov.cn/duban\""),
    "link_days": ((int,), "1–90 之间的整数（天）"),
    "session_hours": ((int,), "1–720 之间的整数（小时）"),
}
_TOP_KEYS = {"mail": dict, "remind": dict, "calendar": dict, "web": dict, "templates_dir": str}


def load_config(path: Path | None = None, *,
                warn: Callable[[str], None] | None = None,
                environ: dict[str, str] | None = None) -> Config:
    """Read `path`, else ./duban.toml, else defaults; then apply DUBAN_* overrides.

    Warnings (a readable file holding a password) go to `warn`, default stderr,
    and are kept in Config.warnings.
    """
    env = os.environ if environ is None else environ
    warn = warn or (lambda line: print(f"警告：{line}", file=sys.stderr))
    source = _pick_file(path)
    data = _read_toml(source) if source else {}
    base = source.parent if source else Path(".")
    config = _build(data, base)
    config.source = source
    _apply_env(config, env, base)
    _resolve_password(config, data.get("mail", {}), env, base, source)
    for line in config.warnings:
        warn(line)
    return config


def _pick_file(path: Path | None) -> Path | None:
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise BadInput(f"配置文件 {path} 不存在或不是文件。")
        return path
    return DEFAULT_FILE if DEFAULT_FILE.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"配置文件 {path} 不是有效的 TOML：{exc}。") from None
    except OSError as exc:
        raise BadInput(f"无法读取配置文件 {path}：{exc.strerror or exc}。") from None


def _build(data: dict[str, Any], base: Path) -> Config:
    for key, value in data.items():
        expected = _TOP_KEYS.get(key)
        if expected is None:
            raise BadInput(f"配置项 {key} 无法识别：可用的有 [mail]、[remind]、[calendar]、[web] 和 templates_dir。")
        if not isinstance(value, expected):
            what = "一个表（如 [mail]）" if expected is dict else "字符串路径"
            raise BadInput(f"配置项 {key} 应为{what}。")
    mail = _section(data, "mail", _MAIL_KEYS)
    remind, calendar = _policy(data)
    web = _section(data, "web", _WEB_KEYS)
    templates = data.get("templates_dir")
    return Config(
        mail=_mail(mail, base),
        web=_web(web),
        remind=remind,
        calendar=calendar,
        templates_dir=_path(templates, base) if templates else None,
    )


def _policy(data: dict[str, Any]) -> tuple[RemindPolicy, CalendarConfig]:
    remind = _section(data, "remind", _REMIND_KEYS)
    calendar = _section(data, "calendar", _CALENDAR_KEYS)
    return _remind(remind), CalendarConfig(holidays=_dates(calendar, "holidays"),
                                           workdays=_dates(calendar, "workdays"))


def load_policy(path: Path | None = None) -> tuple[RemindPolicy, CalendarConfig]:
    """Only [remind] and [calendar] of the file load_config would read, validated the same
    way: what the traffic lights of a listing need, without building the mail settings."""
    source = _pick_file(path)
    return _policy(_read_toml(source) if source else {})


def _section(data: dict[str, Any], name: str,
             schema: dict[str, tuple[tuple[type, ...], str]]) -> dict[str, Any]:
    section = data.get(name, {})
    for key, value in section.items():
        if key not in schema:
            known = "、".join(schema)
            raise BadInput(f"配置项 {name}.{key} 无法识别：[{name}] 可用的有 {known}。")
        types, what = schema[key]
        if isinstance(value, bool) or not isinstance(value, types):
            raise BadInput(f"配置项 {name}.{key} 的值 {value!r} 无效：应为{what}。")
    return section


def _default_mail() -> "MailConfig":
    from notifications.backends import MailConfig

    return MailConfig()


def _mail(section: dict[str, Any], base: Path) -> "MailConfig":
    # The mail layer is loaded only when mail settings are built: a listing reads the
    # lights' policy (load_policy) without it.
    from notifications.backends import DEFAULT_SENDER, MailConfig

    mail = MailConfig()
    mail.backend = _choice("mail.backend", section.get("backend", mail.backend), BACKENDS)
    mail.sender = _sender(section.get("from", DEFAULT_SENDER))
    mail.dir = _path(section.get("dir", "outbox"), base)
    mail.host = section.get("host", mail.host)
    mail.port = _port("mail.port", section.get("port"))
    mail.security = _choice("mail.security", section.get("security", mail.security), SECURITY)
    mail.username = section.get("username")
    mail.timeout = float(_positive("mail.timeout", section.get("timeout", mail.timeout)))
    mail.connections = _ranged("mail.connections", section.get("connections", mail.connections), 1, 64)
    mail.max_attempts = _positive("mail.max_attempts", section.get("max_attempts", mail.max_attempts))
    mail.backoff_seconds = float(_positive("mail.backoff_seconds",
                                           section.get("backoff_seconds", mail.backoff_seconds)))
    mail.domain = _domain(section.get("domain"))
    return mail


_DOMAIN = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


def _domain(value: str | None) -> str | None:
    if value is None:
        return None
    if not _DOMAIN.match(value):
        raise BadInput(f"配置项 mail.domain 的值 {value!r} 无效：应为域名，如 sfj.gz.gov.cn。")
    return value.lower()


def _remind(section: dict[str, Any]) -> RemindPolicy:
    before = section.get("before", [5, 1])
    if not before or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in before):
        raise BadInput(f"配置项 remind.before 的值 {before!r} 无效：应为正整数列表（工作日），如 [5, 1]。")
    return RemindPolicy(
        before=tuple(sorted(set(before), reverse=True)),
        overdue_every=_positive("remind.overdue_every", section.get("overdue_every", 3)),
        escalate_after=_positive("remind.escalate_after", section.get("escalate_after", 5)),
        review_wait=_ranged("remind.review_wait", section.get("review_wait", 3), 0, 10_000),
        warn_window=_ranged("remind.warn_window", section.get("warn_window", 5), 0, 10_000),
    )


def _web(section: dict[str, Any]) -> WebConfig:
    base_url = section.get("base_url")
    if base_url is not None:
        base_url = base_url.strip().rstrip("/")
        if not base_url.startswith(("http://", "https://")) or any(c.isspace() for c in base_url):
            raise BadInput(f"配置项 web.base_url 的值 {base_url!r} 无效：应为 http:// 或 https:// 开头的网址，"
                           "如 \"https://oa.example.gov.cn/duban\"。")
    return WebConfig(base_url=base_url or None,
                     link_days=_ranged("web.link_days", section.get("link_days", 7), 1, 90),
                     session_hours=_ranged("web.session_hours", section.get("session_hours", 12), 1, 720))


def _dates(section: dict[str, Any], key: str) -> frozenset[dt.date]:
    out: set[dt.date] = set()
    for value in section.get(key, []):
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value.strip())
            except ValueError:
                value = None
        if not isinstance(value, dt.date):
            raise BadInput(f"配置项 calendar.{key} 中的 {value!r} 不是日期：应为 YYYY-MM-DD，如 2027-10-01。")
        out.add(value)
    return frozenset(out)


def _apply_env(config: Config, env: dict[str, str] | os._Environ, base: Path) -> None:
    mail = config.mail
    if env.get("DUBAN_MAIL_BACKEND"):
        mail.backend = _choice("DUBAN_MAIL_BACKEND", env["DUBAN_MAIL_BACKEND"].strip(), BACKENDS)
    if env.get("DUBAN_SMTP_HOST"):
        mail.host = env["DUBAN_SMTP_HOST"].strip()
    if env.get("DUBAN_SMTP_PORT"):
        text = env["DUBAN_SMTP_PORT"].strip()
        if not text.isdigit():
            raise BadInput(f"环境变量 DUBAN_SMTP_PORT 的值 {text!r} 无效：应为 1–65535 之间的整数。")
        mail.port = _port("DUBAN_SMTP_PORT", int(text))
    if env.get("DUBAN_SMTP_USER"):
        mail.username = env["DUBAN_SMTP_USER"].strip()


def _resolve_password(config: Config, section: dict[str, Any], env: Any, base: Path,
                      source: Path | None) -> None:
    """Env var, then password_env, then password_file, then the file's own password."""
    mail = config.mail
    if env.get("DUBAN_SMTP_PASSWORD"):
        mail.password = env["DUBAN_SMTP_PASSWORD"]
        return
    name = section.get("password_env")
    if name:
        if not env.get(name):
            config.warnings.append(f"mail.password_env 指定的环境变量 {name} 未设置，将不登录邮件服务器。")
        else:
            mail.password = env[name]
            return
    if section.get("password_file"):
        mail.password = _read_secret(_path(section["password_file"], base), config)
        return
    if section.get("password"):
        mail.password = section["password"]
        if source is not None and _readable_by_others(source):
            config.warnings.append(
                f"配置文件 {source} 含有邮件密码，但其他用户可读：请执行 chmod 600 {source}，"
                "或改用 password_env / password_file。")


def _read_secret(path: Path, config: Config) -> str:
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise BadInput(f"无法读取配置项 mail.password_file 指定的文件 {path}：{exc.strerror or exc}。") from None
    if _readable_by_others(path):
        config.warnings.append(f"密码文件 {path} 其他用户可读：请执行 chmod 600 {path}。")
    return secret


def _readable_by_others(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH))
    except OSError:
        return False


def _choice(key: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise BadInput(f"配置项 {key} 的值 {value!r} 无效：应为 {'、'.join(allowed)} 之一。")
    return value


def _sender(value: str) -> str:
    from email.utils import parseaddr

    text = " ".join(value.split())
    if "@" not in parseaddr(text)[1]:
        raise BadInput(f"配置项 mail.from 的值 {value!r} 无效：应为邮件地址，如 \"督办系统 <duban@example.gov.cn>\"。")
    return text


def _port(key: str, value: int | None) -> int | None:
    if value is None:
        return None
    return _ranged(key, value, 1, 65535)


def _positive(key: str, value: int | float) -> int | float:
    if value <= 0:
        raise BadInput(f"配置项 {key} 的值 {value!r} 无效：应为正数。")
    return value


def _ranged(key: str, value: int, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadInput(f"配置项 {key} 的值 {value!r} 无效：应为 {low}–{high} 之间的整数。")
    return value


def _path(value: str, base: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path
