"""JSON already serialised, for a JSON column: the database stores its text as it is.

A reminder sweep stores each digest's context (notifications/render.py
`stored_context`), and the members of a department get the same item tables, most of
each context. Serialised whole, every context serialised its tables again for each
member; as JSONText, a table is serialised once and its text spliced into each context
(render.stored_context_text). The engine's JSON serializer (`dumps`, given to every
engine by db/engine.py make_engine) hands a JSONText's text to the database unchanged and
anything else to json.dumps, as SQLAlchemy would: so the stored text is what json.dumps
gives for the value it stands for, byte for byte, on SQLite (TEXT) and on PostgreSQL
(`json` keeps its input text).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class JSONText:
    """A value's JSON text, made by `dumps` (or spliced from its pieces)."""

    text: str


def dumps(value: Any) -> str:
    """The engine's JSON serializer: json.dumps, except for text already serialised."""
    return value.text if type(value) is JSONText else json.dumps(value)
