"""Rendering mails from jinja2 templates (zh-CN, plain text + HTML).

Each kind has three templates in notifications/templates: `<kind>.subject.txt`,
`<kind>.txt` and `<kind>.html`. A user's `templates_dir` is searched first, so an
office can override any one of them (its letterhead, its wording) without copying
the rest. HTML is autoescaped; undefined variables are errors (StrictUndefined),
so a typo in a template fails the test suite instead of mailing a blank.

User text (task requirements, comments, reasons) only ever enters as *values*
of the context, never as template source, so `{{ 7*7 }}` in a comment is
printed literally. The subject is flattened to one line (CR/LF and runs of
whitespace become one space) and capped, whatever the task text holds.

Event kinds and their context (build it with `event_context(**values)`, which
fills every key below with None and rejects unknown keys):

    plan_title      plan title, e.g. "2021年政务公开工作要点分工方案"
    task_seq        task number in the plan (int)
    requirement     the task's 具体要求 (full text)
    department      department name the assignment belongs to
    role_label      牵头 / 配合 / 技术保障 / 督办 / 统筹 / 落实
    period          "" or "2021Q3" / "2021H2" (shown as 2021年第3季度 / 2021年下半年)
    due_date        current due date (date)
    new_due         proposed or approved new due date (delay kinds)
    old_due         due date before the delay
    actor           name of the person who acted
    on_behalf_of    name of the person acted for (代办), or None
    comment         reviewer's comment (approved, sent_back, delay_*)
    reason          reason (delay_requested, cancelled, reopened)
    summary         办理情况 submitted (submitted)
    state_label     Chinese label of the new state
    trigger_label   Chinese label of the trigger

Kinds: distributed, submitted, approved, sent_back, delay_requested,
delay_approved, delay_rejected, cancelled, reopened.

Digest kinds (reminder, escalation, review_waiting) take recipient_name, today,
total, counts (dict by item kind), sections (list of {key, title, items}); each
item has plan_title, task_seq, requirement, department, role_label, period,
due_date, light, light_label, note. The item tables (`_digest.txt`,
`_digest.html`) see only `sections`: they are rendered once per distinct item
list by `digest_tables` and reach the digest templates as `digest_text` and
`digest_html` (the members of a department all get the same tables, and the
tables are most of the work). `render` fills them in when the caller did not.

The `test` kind takes sender and sent_at.

Deferred rendering: an event mail is not rendered inside the transaction that causes
it. `stored_context(context, templates_dir)` turns its context into JSON (dates tagged,
so they come back as dates) with the template folder it is to be rendered from;
`render_stored(kind, stored)` renders exactly what `render(kind, context,
templates_dir)` would have rendered then, given the same templates.
`stored_context_text` is the same stored context as its JSON text, put together from
values serialised once for many mails (the reminder digests' items, db/jsontext.py).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

import states
from db.jsontext import JSONText, compose

PACKAGE_TEMPLATES = Path(__file__).parent / "templates"

# Publishing's mail, then each transition's (states/ says which transition mails what).
EVENT_KINDS = ("distributed",) + states.MAIL_KINDS
DIGEST_KINDS = ("reminder", "escalation", "review_waiting")
KINDS = EVENT_KINDS + DIGEST_KINDS + ("test",)

EVENT_KEYS = ("plan_title", "task_seq", "requirement", "department", "role_label", "period",
              "due_date", "new_due", "old_due", "actor", "on_behalf_of", "comment", "reason",
              "summary", "state_label", "trigger_label", "link")

SUBJECT_LIMIT = 200
PREFIX = "【督办】"
WEEKDAYS = "一二三四五六日"
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


def event_context(**values: Any) -> dict[str, Any]:
    """A complete event context: every documented key present, unknown keys refused."""
    unknown = set(values) - set(EVENT_KEYS)
    if unknown:
        raise TypeError(f"unknown event context keys: {sorted(unknown)}")
    return {key: values.get(key) for key in EVENT_KEYS}


_DATE_TAG = "$date"


def stored_context(context: dict[str, Any], templates_dir: Path | str | None = None, *,
                   stored: dict[str, Any] | None = None) -> dict[str, Any]:
    """`context` as JSON-ready data, with the template folder to render it from later.

    `stored`: more values already made JSON-ready by `stored_value`, such as the item
    sections that all members of a department share in their reminder digests."""
    values = {key: _to_json(value) for key, value in context.items()}
    return {"templates_dir": str(templates_dir) if templates_dir else None,
            "values": {**values, **stored} if stored else values}


def stored_value(value: Any) -> Any:
    """One context value as stored_context stores it (to store it once for many mails)."""
    return _to_json(value)


def stored_context_text(context: dict[str, Any], templates_dir: Path | str | None = None, *,
                        stored: dict[str, JSONText]) -> JSONText:
    """`stored_context` as its JSON text, with `stored` values already serialised.

    A reminder digest's item tables are most of its context, and each item is in the
    digest of every member of its department: serialised once, their texts are put
    together into each member's context (db/jsontext.py). The text is the one
    json.dumps gives for stored_context with those values.
    """
    return compose(stored_context(context, templates_dir, stored=stored))


def render_stored(kind: str, stored: dict[str, Any]) -> Rendered:
    """Render a mail from what `stored_context` kept."""
    values = {key: _from_json(value) for key, value in stored["values"].items()}
    return render(kind, values, stored.get("templates_dir"))


_PLAIN = (str, int, float, bool, type(None))


def _to_json(value: Any) -> Any:
    if type(value) in _PLAIN:  # most values: one test instead of the chain below
        return value
    if isinstance(value, dt.datetime):
        raise TypeError("a datetime in a mail context: store a date or a string")
    if isinstance(value, dt.date):
        return {_DATE_TAG: value.isoformat()}
    if isinstance(value, dict):
        if _DATE_TAG in value:
            raise ValueError(f"a mail context dict may not use the key {_DATE_TAG}")
        return {k: _to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot store a {type(value).__name__} in a mail context")


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and _DATE_TAG in value:
            return dt.date.fromisoformat(value[_DATE_TAG])
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def sanitize_header(value: Any, limit: int = SUBJECT_LIMIT) -> str:
    """One line, no control characters, at most `limit` characters (header injection guard)."""
    text = str(value or "")
    if not text.isprintable():  # the common case skips the per-character pass
        text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = _WS.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def render(kind: str, context: dict[str, Any], templates_dir: Path | str | None = None) -> Rendered:
    """Render the three templates of `kind` with `context`."""
    if kind not in KINDS:
        raise ValueError(f"unknown mail kind: {kind}")
    env = _environment(str(templates_dir) if templates_dir else "")
    if kind in DIGEST_KINDS and "digest_text" not in context:
        context = {**context, **digest_tables(context["sections"], templates_dir)}
    subject = env.get_template(f"{kind}.subject.txt").render(context)
    subject = sanitize_header(subject)
    if not subject.startswith(PREFIX):
        subject = sanitize_header(PREFIX + subject)
    text = env.get_template(f"{kind}.txt").render(context).strip() + "\n"
    html = env.get_template(f"{kind}.html").render(context)
    return Rendered(subject=subject, text=text, html=html)


def digest_tables(sections: list[dict[str, Any]],
                  templates_dir: Path | str | None = None) -> dict[str, Any]:
    """The item tables of a digest, to share between recipients with the same items."""
    env = _environment(str(templates_dir) if templates_dir else "")
    return {"digest_text": env.get_template("_digest.txt").render(sections=sections),
            "digest_html": Markup(env.get_template("_digest.html").render(sections=sections))}


@lru_cache(maxsize=8)
def _environment(templates_dir: str) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir:
        loaders.append(jinja2.FileSystemLoader(templates_dir))
    loaders.append(jinja2.FileSystemLoader(str(PACKAGE_TEMPLATES)))
    # templates_dir in duban.toml is user input: sandboxed, like report templates.
    env = SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["cn_date"] = cn_date
    env.filters["period_label"] = period_label
    env.filters["oneline"] = lambda v, limit=80: sanitize_header(v, limit)
    env.filters["light_badge"] = light_badge
    return env


# A light as the digest item carries it (its emoji, or its name) → its name. The mails
# draw a light as a coloured badge with its word, never an emoji: a mail client without
# a colour-emoji font shows 🔴 as an empty box.
_LIGHT_NAMES = {"🔴": "red", "🟡": "yellow", "🟢": "green", "red": "red", "yellow": "yellow",
                "green": "green"}
BADGE = ("display:inline-block;padding:0 6px;border-radius:3px;white-space:nowrap;font-weight:bold;"
         "background:#{fill};color:#{ink};border:1px solid #{ink}")


def light_badge(light: Any, label: Any) -> Markup:
    """The light as a coloured badge carrying its word: the ledger's own colours
    (states.LIGHT_FILL / LIGHT_INK), so a red means the same in the mail and the ledger."""
    from states import LIGHT_FILL, LIGHT_INK

    name = _LIGHT_NAMES.get(str(light or ""), "")
    if not name:
        return Markup("<span>{}</span>").format(label)
    style = BADGE.format(fill=LIGHT_FILL[name], ink=LIGHT_INK[name])
    return Markup('<span style="{}">{}</span>').format(style, label)


def cn_date(value: Any) -> str:
    """2021-11-30 → 2021年11月30日（星期二）； None → 未定."""
    if value is None or value == "":
        return "未定"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = value.date()
    return _cn_day(value)


@lru_cache(maxsize=4096)
def _cn_day(value: dt.date) -> str:
    """Cached: a digest shows the same few due dates thousands of times."""
    return f"{value.year}年{value.month}月{value.day}日（星期{WEEKDAYS[value.weekday()]}）"


def period_label(value: Any) -> str:
    """'2021Q3' → 2021年第3季度， '2021H2' → 2021年下半年， '' → ''."""
    text = str(value or "")
    m = re.fullmatch(r"(\d{4})Q([1-4])", text)
    if m:
        return f"{m.group(1)}年第{m.group(2)}季度"
    m = re.fullmatch(r"(\d{4})H([12])", text)
    if m:
        return f"{m.group(1)}年{'上' if m.group(2) == '1' else '下'}半年"
    return text
