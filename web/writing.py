"""Where the web runs a change: in a worker thread; on SQLite, one at a time per process.

SQLite takes one writer at a time (and its writers take turns at db/write_gate.py).
Worker threads of one process that all run writes fight over the GIL with the one
that holds the gate, which then holds it longer; so on SQLite a process runs one write
at a time, and the requests behind it wait in the event loop, costing no thread and
no CPU. Reads are not queued. PostgreSQL takes concurrent writers: there only the
thread pool's own limit applies.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import Request


async def run_write(request: Request, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """fn(*args, **kwargs) in a worker thread; on SQLite after this process's writes before it."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs), limiter=_limiter(request))


def _limiter(request: Request) -> CapacityLimiter | None:
    state = request.app.state
    if not hasattr(state, "write_limiter"):  # made in the event loop (anyio needs one), on first use
        sqlite = state.core.write_gate is not None
        state.write_limiter = CapacityLimiter(1) if sqlite else None
    return state.write_limiter
