"""fire() links its event to the chain head it read with the assignment, and checks at
write time that the head has not moved; these tests make it move.

Another writer extending the plan's chain between fire()'s read and its write, two
engines taking turns on one plan, and a fire rolled back after it had linked its event:
each time the next event's prev_hash is the head at commit and `verify` finds no break.
And a plan's first events, which have no head row to compare with yet.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import event, text
from sqlmodel import Session

from conftest import build_world
from db.models import Plan
from workflow.lifecycle.audit import verify
from workflow.clock import Clock
from workflow.lifecycle.engine import Fields, fire
from workflow.lifecycle.notify import Notifier
from workflow.plans.publish import publish

CLOCK = Clock(dt.date(2021, 8, 2))


def _head(world) -> str | None:
    with world.app().engine().connect() as conn:
        return conn.execute(text("SELECT last_hash FROM chain_head WHERE plan_id = :p"), {"p": world.plan_id}).scalar()


def _event(world, event_id: int):
    with world.app().engine().connect() as conn:
        return conn.execute(text("SELECT prev_hash, hash FROM event WHERE id = :i"), {"i": event_id}).one()


def _no_breaks(world) -> None:
    with world.app().engine().connect() as conn:
        checked, breaks = verify(conn)
    assert checked > 0 and breaks == []


def _head_reads(engine) -> list[str]:
    """Every statement that reads the plan's chain head on its own, as it runs."""
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(_conn, _cursor, statement, *_args) -> None:
        sql = statement.lstrip().upper()
        if sql.startswith("SELECT") and "LAST_HASH" in sql and "ASSIGNMENT" not in sql:
            seen.append(statement)

    return seen


def test_head_moved_between_read_and_write(world):
    """Another engine commits an event on the same plan while fire() is between its read
    and its write: fire() must notice and link to that event, not to the head it read."""
    mine, theirs = world.assignment(1, "装财处"), world.assignment(1, "科监处")
    other = world.app("孙科监").engine()
    moved: list[int] = []

    def other_writer() -> None:
        with Session(other) as s:
            moved.append(fire(s, theirs, "start", world.user(s, "孙科监"), clock=CLOCK).event_id)

    engine = world.app().engine()
    reads = _head_reads(engine)
    with Session(engine) as s:
        result = fire(s, mine, "start", world.user(s, "张三"), clock=CLOCK, before_write=other_writer)
    assert reads, "the stale head went unnoticed: no re-read of plan.last_hash"
    assert _event(world, result.event_id).prev_hash == _event(world, moved[0]).hash
    assert _head(world) == _event(world, result.event_id).hash
    _no_breaks(world)


def test_two_engines_take_turns(world):
    """Two long-lived sessions on two engines alternate fires on one plan."""
    apps = [world.app("张三"), world.app("孙科监")]
    items = [[world.assignment(1, "装财处"), world.assignment(3, "装财处")],
             [world.assignment(1, "科监处"), world.assignment(3, "科监处")]]
    sessions = [Session(a.engine()) for a in apps]
    mailers = [Notifier(), Notifier()]  # the default one would keep this test's directory
    try:
        actors = [world.user(sessions[0], "张三"), world.user(sessions[1], "孙科监")]
        ids = []
        for turn in range(2):
            for who in (0, 1):
                for trigger, fields in (("start", None), ("submit", Fields(summary="已完成"))):
                    ids.append(fire(sessions[who], items[who][turn], trigger, actors[who], clock=CLOCK,
                                    fields=fields, notifier=mailers[who]).event_id)
    finally:
        for s in sessions:
            s.close()
    links = [_event(world, i) for i in ids]
    assert all(b.prev_hash == a.hash for a, b in zip(links, links[1:]))
    assert _head(world) == links[-1].hash
    _no_breaks(world)


class _BrokenMailer(Notifier):
    """Fails after fire() has linked its event and moved the head, before the commit."""

    def outgoing(self, session, row, event, effects) -> list:
        raise RuntimeError("模板损坏")


def test_rolled_back_fire_leaves_no_trace_in_the_chain(world):
    """A fire rolled back after linking its event: the head stays, the next fire in the same
    session links to the head from before the failure."""
    aid = world.assignment(1, "装财处")
    before = _head(world)
    with Session(world.app().engine()) as s:
        actor = world.user(s, "张三")
        try:
            fire(s, aid, "start", actor, clock=CLOCK, notifier=_BrokenMailer())
        except RuntimeError:
            pass
        else:  # pragma: no cover - the mailer always raises
            raise AssertionError("fire() swallowed the notifier's failure")
        assert _head(world) == before
        result = fire(s, aid, "start", actor, clock=CLOCK)
    assert _event(world, result.event_id).prev_hash == before
    assert _head(world) == _event(world, result.event_id).hash
    _no_breaks(world)


def test_first_events_of_a_plan_create_its_head(db_url):
    """A plan stored without events has no head row; publishing creates it, the first
    fire extends it."""
    world = build_world(db_url, publish=False)
    assert _head(world) is None
    with world.session() as s:
        publish(s, s.get(Plan, world.plan_id), world.user(s, "李审核"), CLOCK)
    published = _head(world)
    assert published is not None
    with Session(world.app().engine()) as s:
        result = fire(s, world.assignment(1, "装财处"), "start", world.user(s, "张三"), clock=CLOCK)
    assert _event(world, result.event_id).prev_hash == published
    _no_breaks(world)
