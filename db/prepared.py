"""Core statements compiled once per dialect and sent with `exec_driver_sql`.

fire() writes three rows per call. Through `Connection.execute`, SQLAlchemy looks the
statement up in its compiled cache, rebuilds the parameter dictionary from the
statement's bind parameters and runs each value's type processor, every time; for
these small writes that bookkeeping costs more than SQLite's work. A Prepared
statement does the lookup and the parameter plan once per dialect and applies the
same type processors SQLAlchemy would (so dates, datetimes and JSON are stored exactly
as before). Execution still goes through the Connection: same transaction, same
events, same error wrapping and disconnect handling.

On SQLite, a write (INSERT/UPDATE/DELETE), or a one-row read (PreparedRow), goes one step further, to the sqlite3
connection under the Connection (same connection, same transaction): SQLAlchemy's
execution context and result object cost more than the write itself. A driver error is
wrapped as SQLAlchemy would wrap it (sqlalchemy.exc.OperationalError, …), so callers
answer it alike. Not while the engine has cursor events or echo on: those see every
statement.

Only for statements whose parameters are all plain bind parameters: anything that
needs SQLAlchemy at execution time (expanding IN lists, literal_execute, Python-side
column defaults) is refused when the statement is first prepared.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from sqlalchemy.engine import Connection, CursorResult, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.expression import ClauseElement, Insert


@dataclass(frozen=True)
class _Plan:
    sql: str
    names: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]
    positional: bool
    direct: bool  # a SQLite write: sent to the sqlite3 connection itself (see above)


class Prepared:
    """A DML statement to run many times with the same parameter names."""

    def __init__(self, statement: ClauseElement, names: Sequence[str]) -> None:
        self.statement = statement
        self.names = tuple(names)  # for INSERT: the columns given, as in compile(column_keys=…)
        # One plan per dialect instance (server version can change the SQL); weak, so
        # the engines of a test run do not pile up here.
        self._plans: weakref.WeakKeyDictionary[Dialect, _Plan] = weakref.WeakKeyDictionary()

    def execute(self, conn: Connection, params: dict[str, Any]) -> CursorResult | Any:
        plan = self._plans.get(conn.dialect) or self._prepare(conn.dialect)
        values = [params[n] if p is None else p(params[n]) for n, p in zip(plan.names, plan.processors)]
        if plan.direct and _unobserved(conn):
            return _direct(conn, plan.sql, tuple(values), many=False)
        return conn.exec_driver_sql(plan.sql, tuple(values) if plan.positional else dict(zip(plan.names, values)))

    def execute_many(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> CursorResult | Any:
        """The statement once per parameter set, in one executemany. A value object that
        several rows share (one mail's context for each of its recipients) is converted once."""
        plan = self._plans.get(conn.dialect) or self._prepare(conn.dialect)
        pairs = tuple(zip(plan.names, plan.processors))
        shared: dict[tuple[str, int], Any] = {}
        values = [[params[n] if p is None else _convert(p, params[n], n, shared) for n, p in pairs]
                  for params in rows]
        if plan.direct and _unobserved(conn):
            return _direct(conn, plan.sql, [tuple(v) for v in values], many=True)
        return conn.exec_driver_sql(plan.sql, [tuple(v) for v in values] if plan.positional
                                    else [dict(zip(plan.names, v)) for v in values])

    def execute_values(self, conn: Connection, rows: Sequence[Sequence[Any]]) -> CursorResult | Any:
        """`execute_many` for rows given as tuples in the order of `names`: no dict per row.

        For many narrow rows (a reminder sweep's 17,000 reminder_log rows), where building
        and reading a dict per row cost more than the database's work. Values are
        converted a column at a time, each distinct object once (the sweep's day is
        one date in every row), with the same type processors as execute_many.
        """
        plan = self._plans.get(conn.dialect) or self._prepare(conn.dialect)
        if not rows:
            return None
        columns = [[row[i] for row in rows] for i in map(self.names.index, plan.names)]
        values = list(zip(*(c if p is None else _each_once(p, c) for c, p in zip(columns, plan.processors))))
        if plan.direct and _unobserved(conn):
            return _direct(conn, plan.sql, values, many=True)
        return conn.exec_driver_sql(plan.sql, values if plan.positional
                                    else [dict(zip(plan.names, v)) for v in values])

    def _prepare(self, dialect: Dialect) -> _Plan:
        compiled = self._statement_for(dialect).compile(dialect=dialect, column_keys=list(self.names))
        problem = (compiled.literal_execute_params or compiled.post_compile_params
                   or compiled.insert_prefetch or compiled.update_prefetch or compiled.escaped_bind_names)
        if problem:
            raise ValueError(f"statement needs SQLAlchemy at execution time, cannot be prepared: {self.statement}")
        names = tuple(compiled.positiontup) if compiled.positional else tuple(compiled.binds)
        missing = set(names) - set(self.names)
        if missing:
            raise ValueError(f"prepared statement expects parameters {sorted(missing)} it was not given")
        processors = tuple(compiled.binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names)
        direct = (dialect.name == "sqlite" and compiled.positional and isinstance(self.statement, UpdateBase))
        plan = _Plan(compiled.string, names, processors, compiled.positional, direct)
        self._plans[dialect] = plan
        return plan

    def _statement_for(self, dialect: Dialect) -> ClauseElement:
        return self.statement


def _convert(processor: Callable[[Any], Any], value: Any, name: str, shared: dict) -> Any:
    """processor(value), once per dict or list object (the rows of one call hold them alive)."""
    if type(value) not in (dict, list):
        return processor(value)
    key = (name, id(value))
    if key not in shared:
        shared[key] = processor(value)
    return shared[key]


def _each_once(processor: Callable[[Any], Any], column: Sequence[Any]) -> list[Any]:
    """processor(value) for each value of a column, computed once per distinct object."""
    distinct = {id(v): v for v in column}
    converted = {key: processor(v) for key, v in distinct.items()}
    return [converted[id(v)] for v in column]


def _unobserved(conn: Connection) -> bool:
    """No cursor events and no echo on `conn`: nothing would miss a statement sent past it."""
    return not (conn._has_events or conn.engine._has_events or conn._echo)


def _direct(conn: Connection, sql: str, values: Any, many: bool) -> Any:
    """Run a statement on the sqlite3 connection under `conn`; its cursor answers rowcount,
    lastrowid and fetchone. Errors come out as SQLAlchemy's wrapped DBAPIError, as from
    execute()."""
    dbapi = conn.connection.dbapi_connection
    try:
        return dbapi.executemany(sql, values) if many else dbapi.execute(sql, values)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, values, exc, conn.dialect.loaded_dbapi.Error,
                                  dialect=conn.dialect) from exc


class PreparedInsert(Prepared):
    """A one-row INSERT that returns the new primary key.

    Uses the cursor's lastrowid where the dialect trusts it (SQLite), RETURNING
    elsewhere (PostgreSQL): a statement sent with exec_driver_sql has no cached result
    layout, so reading a returned row costs more than the lastrowid SQLite already has.
    """

    def __init__(self, statement: Insert, names: Sequence[str]) -> None:
        super().__init__(statement, names)
        self._returning = statement.returning(*statement.table.primary_key.columns)

    def insert(self, conn: Connection, params: dict[str, Any]) -> int:
        result = self.execute(conn, params)
        return result.lastrowid if conn.dialect.postfetch_lastrowid else result.scalar_one()

    def _statement_for(self, dialect: Dialect) -> ClauseElement:
        return self.statement if dialect.postfetch_lastrowid else self._returning


class PreparedRow(Prepared):
    """A SELECT read as one row (a dict by column label, or None), e.g. fire()'s read of
    the assignment. On SQLite straight from the sqlite3 connection, each value through
    the result processor SQLAlchemy would apply (dates, datetimes, JSON); elsewhere, or
    under cursor events, through Connection.execute."""

    def __init__(self, statement: ClauseElement, names: Sequence[str]) -> None:
        super().__init__(statement, names)
        self._columns: weakref.WeakKeyDictionary[Dialect, tuple] = weakref.WeakKeyDictionary()

    def first(self, conn: Connection, params: dict[str, Any]) -> dict[str, Any] | None:
        dialect = conn.dialect
        if dialect.name != "sqlite" or not _unobserved(conn):
            row = conn.execute(self.statement, params).mappings().first()
            return dict(row) if row is not None else None
        plan = self._plans.get(dialect) or self._prepare(dialect)
        values = tuple(params[n] if p is None else p(params[n]) for n, p in zip(plan.names, plan.processors))
        found = _direct(conn, plan.sql, values, many=False).fetchone()
        if found is None:
            return None
        columns = self._columns.get(dialect) or self._result_columns(dialect)
        return {name: value if p is None or value is None else p(value)
                for (name, p), value in zip(columns, found)}

    def _result_columns(self, dialect: Dialect) -> tuple:
        compiled = self.statement.compile(dialect=dialect)
        columns = tuple((c.keyname, c.type.dialect_impl(dialect).result_processor(dialect, None))
                        for c in compiled._result_columns)
        self._columns[dialect] = columns
        return columns
