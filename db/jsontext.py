"""JSON already serialised, for a JSON column: the database stores its text as it is.

A reminder sweep stores each digest's context (notifications/render.py
`stored_context`): 162 digests of 17,000 entries, 9 MB of JSON, where an item appears
in the digest of each member of its department and the tables are most of the text.
Serialised whole, every context serialised its items again for each member; instead
each item is serialised once (`dumps`) and the contexts are put together from those
texts (`compose`). The engine's JSON serializer (`dumps`, given to every engine by
db/engine.py make_engine) hands a JSONText's text to the database unchanged and anything
else to json.dumps, as SQLAlchemy would: so the stored text is what json.dumps gives for
the value it stands for, byte for byte, on SQLite (TEXT) and on PostgreSQL (`json` keeps
its input text).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class JSONText:
    """A value's JSON text, made by `dumps` or `compose`."""

    text: str


def dumps(value: Any) -> str:
    """The engine's JSON serializer: json.dumps, except for text already serialised."""
    return value.text if type(value) is JSONText else json.dumps(value)


def compose(value: Any) -> JSONText:
    """json.dumps(value) where a JSONText inside stands for the value it was made from.

    Dicts and lists are walked in Python, so keep them few: the texts inside carry
    the bulk (json.dumps' own separators, ", " and ": ", so the result is its text).
    """
    return JSONText(_compose(value))


def _compose(value: Any) -> str:
    kind = type(value)
    if kind is JSONText:
        return value.text
    if kind is dict:
        if any(type(key) is not str for key in value):
            raise TypeError("compose takes string keys only")
        return "{" + ", ".join(f"{json.dumps(key)}: {_compose(v)}" for key, v in value.items()) + "}"
    if kind is list or kind is tuple:
        return "[" + ", ".join(map(_compose, value)) + "]"
    return json.dumps(value)
