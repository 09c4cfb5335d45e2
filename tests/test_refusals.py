"""Every (state, trigger) pair the table does not allow is refused and changes nothing,
even when the person firing would otherwise be allowed to."""
from __future__ import annotations

import pytest

import states
from conftest import DOER, PATHS, build_world, drive, full_fields, many_tasks_plan, snapshot
from commands.lifecycle import transition
from workflow.errors import InvalidMove

# The table of DESIGN §3, written out again here on purpose: a test that derived its
# expectations from states/ would pass whatever states/ said.
ALLOWED = {
    "assigned": {"start", "request_delay", "cancel", "escalate"},
    "in_progress": {"submit", "request_delay", "cancel", "escalate"},
    "submitted": {"approve", "send_back", "cancel"},
    "returned": {"submit", "request_delay", "cancel", "escalate"},
    "delay_requested": {"approve_delay", "reject_delay", "cancel"},
    "done": {"reopen"},
    "cancelled": set(),
}


def test_table_matches_design():
    for state in ALLOWED:
        assert set(states.triggers_from(state)) == ALLOWED[state], state


@pytest.mark.parametrize("state", list(PATHS))
def test_invalid_pairs_refused(db_url, state):
    world = build_world(db_url, many_tasks_plan(1))
    aid = world.assignment(1, "装财处")
    drive(world, aid, state)
    for trigger in sorted(set(states.TRANSITION_BY_TRIGGER) - ALLOWED[state]):
        before = snapshot(world)
        with pytest.raises(InvalidMove) as err:
            transition(world.app(DOER[trigger]), aid, trigger, full_fields())
        assert states.state_label(state) in err.value.message
        assert snapshot(world) == before, (state, trigger)


@pytest.mark.parametrize("state", list(PATHS))
def test_valid_pairs_succeed(db_url, state):
    world = build_world(db_url, many_tasks_plan(len(ALLOWED[state]) or 1))
    for seq, trigger in enumerate(sorted(ALLOWED[state]), 1):
        aid = world.assignment(seq, "装财处")
        drive(world, aid, state)
        # escalation is for overdue items (the plan's are due 2021-11-30)
        app = world.app(DOER[trigger], **({"today": "2021-12-06"} if trigger == "escalate" else {}))
        result = transition(app, aid, trigger, full_fields())
        assert result.from_state == state
