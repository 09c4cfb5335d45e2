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


def array(texts: list[str]) -> JSONText:
    """The JSON array of elements whose texts are given (each made by `dumps`)."""
    return JSONText("[" + ", ".join(texts) + "]")


def compose(value: Any) -> JSONText:
    """json.dumps(value) where a JSONText inside stands for the value it was made from.

    Dicts and lists are walked in Python, so keep them few: the texts inside carry
    the bulk. The pieces (json.dumps' own separators, ", " and ": ") are joined once,
    so a large text inside is copied once, not once per level.
    """
    parts: list[str] = []
    _emit(value, parts)
    return JSONText("".join(parts))


def _emit(value: Any, parts: list[str]) -> None:
    kind = type(value)
    if kind is JSONText:
        parts.append(value.text)
    elif kind is dict:
        parts.append("{")
        for n, (key, v) in enumerate(value.items()):
            if type(key) is not str:
                raise TypeError("compose takes string keys only")
            parts.append(f"{', ' if n else ''}{json.dumps(key)}: ")
            _emit(v, parts)
        parts.append("}")
    elif kind is list or kind is tuple:
        parts.append("[")
        for n, v in enumerate(value):
            if n:
                parts.append(", ")
            _emit(v, parts)
        parts.append("]")
    else:
        parts.append(json.dumps(value))
