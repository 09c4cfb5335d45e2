"""Group commit: the web server's SQLite writer hands over the transitions that queued up
behind the last write (web/writing.py), and lifecycle.service.transition_each commits
them in one transaction (engine.fire_each). Each request still gets exactly what it
would get alone: the same states, events, refusals with their sentences, mails and an
intact audit chain; a refused one changes nothing; a database failure changes nothing
of any of them. (Through a real server with eight clients: tests/test_write_gate.py.)"""
from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest

from conftest import build_world, migrated_sqlite
from test_bulk_approve import _contents, _copy
from web.writing import Writer, _Job
from workflow.errors import DubanError
from workflow.lifecycle import service
from workflow.lifecycle.engine import Fields


def _moves(world):
    """(who, assignment, trigger, fields, expected version) in order: a start and a submit
    of one item (the second meets it moved), another department's item (absent for
    this user), a trigger the state refuses, a stale If-Match, a reviewer's approval
    of an item submitted before, and a missing summary; and a staff member's approval."""
    mine, other, theirs, submitted = (world.assignment(1, "装财处"), world.assignment(3, "装财处"),
                                      world.assignment(1, "科监处"), world.assignment(3, "科监处"))
    service.transition(world.app("孙科监"), submitted, "start")
    service.transition(world.app("孙科监"), submitted, "submit", Fields(summary="科监处已完成"))
    return [
        ("张三", mine, "start", None, None),
        ("张三", mine, "submit", Fields(summary="装财处已完成"), None),
        ("张三", mine, "approve", Fields(comment="同意"), None),
        ("张三", theirs, "start", None, None),
        ("孙科监", theirs, "approve", Fields(comment="同意"), None),
        ("孙科监", theirs, "start", None, 7),
        ("李审核", submitted, "approve", Fields(comment="同意"), None),
        ("赵六", other, "start", None, None),
        ("赵六", other, "submit", Fields(), None),
        ("孙科监", theirs, "start", None, None),
    ]


def _outcome(result):
    return result.message if isinstance(result, DubanError) else (result.from_state, result.to_state)


def test_each_equals_one_by_one(tmp_path):
    world = build_world(migrated_sqlite(tmp_path / "a.db"))
    moves = _moves(world)
    other = _copy(world, tmp_path)

    together = service.transition_each([service.Move(world.app(who), aid, trigger, fields, None, version)
                                        for who, aid, trigger, fields, version in moves])
    alone = []
    for who, aid, trigger, fields, version in moves:
        try:
            alone.append(service.transition(other.app(who), aid, trigger, fields, expected_version=version))
        except DubanError as exc:
            alone.append(exc)

    assert [_outcome(r) for r in together] == [_outcome(r) for r in alone]
    kinds = [type(r).__name__ for r in together if isinstance(r, DubanError)]
    assert kinds == [type(r).__name__ for r in alone if isinstance(r, DubanError)]
    assert kinds == ["NotPermitted", "NotFound", "InvalidMove", "LostRace", "MissingField"]
    assert _contents(world) == _contents(other)  # states, events, mails; the audit chain holds


def test_a_database_failure_changes_nothing_of_the_group(tmp_path):
    world = build_world(migrated_sqlite(tmp_path / "a.db"))
    first, second = world.assignment(1, "装财处"), world.assignment(3, "装财处")
    with sqlite3.connect(tmp_path / "a.db") as con:  # the second start's event cannot be written
        con.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON event WHEN NEW.assignment_id = {second} "
                    "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
    before = _contents(world)
    with pytest.raises(Exception, match="disk on fire"):
        service.transition_each([service.Move(world.app("张三"), aid, "start") for aid in (first, second)])
    assert _contents(world) == before


def test_the_writer_hands_over_what_queued_up_in_order():
    """While one write runs, requests queue: those of one kind go to their group function
    together, a change of another kind between them keeps its place, and each request gets
    its own answer (a value, its own error, or the group's failure)."""
    running, release = threading.Event(), threading.Event()
    calls: list = []

    def slow():
        running.set()
        release.wait(10)
        calls.append("slow")
        return "slow done"

    def group(app, items):
        calls.append(list(items))
        if "fail" in items:
            raise RuntimeError("the group failed")
        return [ValueError(f"bad {i}") if i == "bad" else f"{i} done" for i in items]

    def plain():
        calls.append("plain")
        return "plain done"

    async def main():
        writer = Writer()
        jobs = [_Job(slow, None, None)] + [_Job(None, group, i, "app") for i in ("a", "bad", "c")] + \
               [_Job(plain, None, None)] + [_Job(None, group, i, "app") for i in ("d", "fail")]
        first = asyncio.ensure_future(writer.run(jobs[0]))
        while not running.is_set():
            await asyncio.sleep(0.01)
        rest = [asyncio.ensure_future(writer.run(j)) for j in jobs[1:]]
        await asyncio.sleep(0.05)  # all queued behind the slow one
        release.set()
        return await asyncio.gather(first, *rest)

    answers = asyncio.run(main())
    assert calls == ["slow", ["a", "bad", "c"], "plain", ["d", "fail"]]
    assert answers[:3] == ["slow done", "a done"] + answers[2:3] and isinstance(answers[2], ValueError)
    assert answers[3:5] == ["c done", "plain done"]
    assert all(isinstance(a, RuntimeError) for a in answers[5:])
