"""Two OS processes fire on the same assignment at the same moment: exactly one wins,
the other gets the lost-race error, and the event log has exactly one event."""
from __future__ import annotations

import multiprocessing as mp

from sqlmodel import select

from db.models import Assignment, Event


def _racer(url: str, aid: int, user: str, barrier, results) -> None:
    import datetime as dt

    from sqlmodel import Session, select

    from db.engine import make_engine
    from db.models import User
    from workflow.clock import Clock
    from workflow.lifecycle.engine import Fields, fire
    from workflow.errors import DubanError

    engine = make_engine(url)
    with Session(engine) as session:
        actor = session.exec(select(User).where(User.name == user)).one()
        try:
            fire(session, aid, "start", actor, clock=Clock(dt.date(2021, 8, 2)), fields=Fields(),
                 before_write=lambda: barrier.wait(timeout=30))
            results.put((user, "ok", ""))
        except DubanError as exc:
            results.put((user, type(exc).__name__, exc.message))


def test_two_processes_race(world):
    aid = world.assignment(1, "装财处")
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_racer, args=(world.url, aid, who, barrier, results))
             for who in ("张三", "赵六")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    outcomes = sorted(results.get(timeout=5) for _ in procs)
    kinds = sorted(o[1] for o in outcomes)
    assert kinds == ["LostRace", "ok"], outcomes
    assert "未生效" in next(o[2] for o in outcomes if o[1] == "LostRace")
    with world.session() as s:
        row = s.get(Assignment, aid)
        starts = s.exec(select(Event).where(Event.assignment_id == aid, Event.trigger == "start")).all()
    assert (row.state, row.version) == ("in_progress", 2)
    assert len(starts) == 1
    winner = next(o[0] for o in outcomes if o[1] == "ok")
    assert starts[0].actor_id == world.ids[winner]
