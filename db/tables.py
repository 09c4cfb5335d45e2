"""The read side's view of the tables, declared with SQLAlchemy Core alone.

db/models.py declares the schema as SQLModel classes; building them imports SQLModel,
pydantic and SQLAlchemy's ORM on top of SQLAlchemy Core and creates eleven pydantic
models: about 200 ms before a command can read a row, three times what `duban task list`
spends on its query, its JSON and its (deliberately slow) scrypt check together
(bench/cli_latency.py). The listings in workflow/queries.py and the token check only
read and need no ORM object, so they use these plain tables.

Only the columns those readers use are declared. db/models.py stays the one definition
of the schema: tests/test_read_path.py checks every column here against it (name, Python
type, nullability, primary key), so a change there that this file misses fails a test.
"""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Date, DateTime, Integer, LargeBinary, MetaData, String, Table

metadata = MetaData()  # never used to create or alter anything: migrations own the schema

department = Table(
    "department", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String, nullable=False),
    Column("aliases", JSON, nullable=False),
)

app_user = Table(
    "app_user", metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String, nullable=False),
    Column("department_id", Integer),
    Column("roles", JSON, nullable=False),
    Column("token_hash", String),
    Column("active", Boolean, nullable=False),
)

plan = Table(
    "plan", metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String, nullable=False),
)

task = Table(
    "task", metadata,
    Column("id", Integer, primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("requirement", String, nullable=False),
)

assignment = Table(
    "assignment", metadata,
    Column("id", Integer, primary_key=True),
    Column("plan_id", Integer, nullable=False),
    Column("task_id", Integer, nullable=False),
    Column("department_id", Integer, nullable=False),
    Column("role", String, nullable=False),
    Column("period", String, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("state", String, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

event = Table(
    "event", metadata,
    Column("id", Integer, primary_key=True),
    Column("assignment_id", Integer, nullable=False),
    Column("trigger", String, nullable=False),
    Column("from_state", String, nullable=False),
    Column("to_state", String, nullable=False),
    Column("actor_id", Integer, nullable=False),
    Column("on_behalf_of_id", Integer),
    Column("comment", String),
    Column("data", JSON, nullable=False),
    Column("at", DateTime, nullable=False),
)

attachment = Table(
    "attachment", metadata,
    Column("id", Integer, primary_key=True),
    Column("assignment_id", Integer, nullable=False),
    Column("name", String, nullable=False),
    Column("sha256", String, nullable=False),
    Column("size", Integer, nullable=False),
)

attachment_blob = Table(
    "attachment_blob", metadata,
    Column("sha256", String, primary_key=True),
    Column("size", Integer, nullable=False),
)

attachment_chunk = Table(
    "attachment_chunk", metadata,
    Column("sha256", String, primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)
