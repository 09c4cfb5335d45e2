"""fire() asks the shared machine once per (state, trigger) and reuses the answer; that is
only sound while the machine's outcome depends on nothing else, which these tests pin."""
from __future__ import annotations

from transitions import Machine

import states
from workflow.lifecycle import engine


def _fresh(state: str, trigger: str) -> states.Carrier:
    carrier = states.Carrier(state)
    engine.MACHINE.events[trigger].trigger(carrier)
    return carrier


def test_memoised_answer_equals_a_fresh_run_for_every_move():
    assert engine._PURE
    for t in states.TRANSITIONS:
        for source in t.sources:
            memo, fresh = engine._run_machine(source, t.trigger), _fresh(source, t.trigger)
            assert memo.state == fresh.state == states.destination(t, source)
            assert memo.effects == fresh.effects
            assert engine._triggers_from(source) == engine.MACHINE.get_triggers(source)


def test_callers_cannot_change_the_memoised_answer():
    first = engine._run_machine("submitted", "approve")
    first.effects.clear()
    first.state = "cancelled"
    again = engine._run_machine("submitted", "approve")
    assert again.state == "done" and [k for k, _ in again.effects] == ["event", "notify"]


def test_a_machine_with_a_condition_is_not_memoised():
    def machine(**extra) -> Machine:
        return Machine(model=None, states=["a", "b"], initial=None, auto_transitions=False, send_event=True,
                       transitions=[{"trigger": "go", "source": "a", "dest": "b", "after": "record", **extra}])

    assert engine._pure(machine())
    assert not engine._pure(machine(conditions="allowed"))
    assert not engine._pure(machine(before="check"))
    assert not engine._pure(machine(after=["record", "mail"]))
