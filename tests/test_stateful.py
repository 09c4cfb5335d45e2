"""Hypothesis fires random triggers by random users with random fields; after every
step the stored state of each assignment equals the replay of its event log, refused
steps change nothing, and successful ones add exactly one event."""
from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlmodel import select

import states
from conftest import USERS, build_world, migrated_sqlite, snapshot
from db.models import Assignment, Event
from commands.lifecycle import transition
from workflow.lifecycle.engine import Fields
from workflow.errors import DubanError

TEXT = st.one_of(st.none(), st.just(""), st.text(min_size=1, max_size=30))


class Lifecycle(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        url = migrated_sqlite(Path(self.tmp.name) / "duban.db")
        self.world = build_world(url)
        with self.world.session() as s:
            self.ids = list(s.exec(select(Assignment.id).order_by(Assignment.id)).all())

    def teardown(self):
        self.tmp.cleanup()

    @rule(index=st.integers(0, 40), trigger=st.sampled_from([t.trigger for t in states.TRANSITIONS]),
          user=st.sampled_from([u[0] for u in USERS]), summary=TEXT, comment=TEXT, reason=TEXT,
          days=st.one_of(st.none(), st.integers(-30, 60)))
    def fire_one(self, index, trigger, user, summary, comment, reason, days):
        aid = self.ids[index % len(self.ids)]
        until = dt.date(2021, 11, 30) + dt.timedelta(days=days) if days is not None else None
        before = snapshot(self.world)
        try:
            transition(self.world.app(user), aid, trigger,
                       Fields(summary=summary, comment=comment, reason=reason, until=until))
        except DubanError:
            assert snapshot(self.world) == before
            return
        after = snapshot(self.world)
        assert after[1] == before[1] + 1

    @invariant()
    def stored_state_is_replay_of_events(self):
        machine = states.build_machine()
        with self.world.session() as s:
            rows = {a.id: a for a in s.exec(select(Assignment)).all()}
            events = s.exec(select(Event).order_by(Event.id)).all()
        replayed: dict[int, states.Carrier] = {}
        counts: dict[int, int] = {}
        for e in events:
            if e.trigger == "distribute":
                replayed[e.assignment_id] = states.Carrier("assigned")
                counts[e.assignment_id] = 1
                continue
            carrier = replayed[e.assignment_id]
            assert carrier.state == e.from_state
            machine.events[e.trigger].trigger(carrier)
            assert carrier.state == e.to_state
            counts[e.assignment_id] += 1
        for aid, row in rows.items():
            assert row.state == replayed[aid].state
            assert row.version == counts[aid]


Lifecycle.TestCase.settings = settings(max_examples=15, stateful_step_count=25, deadline=None,
                                       suppress_health_check=[HealthCheck.too_slow])
TestLifecycle = Lifecycle.TestCase
