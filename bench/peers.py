"""Benchmark: the whole flow on duban against open-source peers, in one run.

The workload of issue 13: N items (10,000 by default), each moved start → submit →
approve, every transition its own SQLite transaction (WAL), at synchronous=FULL and
NORMAL. Each contender starts from a fresh copy of its own database for every run; runs
are interleaved (run 1 of every contender at FULL, then at NORMAL, then run 2, …) and the
median of 3 is reported, with duban's ratio to each peer and to the fastest.

- duban: `workflow.engine.fire()` as a command does it (no notifier passed, so each fire
  makes its own, as one CLI command would), with its guards, event, hash chain and, for
  submit and approve, the mails enqueued in the outbox.
- SpiffWorkflow: a BPMN process of three user tasks; each step loads the item's serialized
  workflow, completes the task, serializes it back (one row per item, SQLAlchemy ORM).
- transitions + SQLAlchemy ORM, written plainly: load the row, attach a Machine, fire,
  commit.
- python-statemachine + SQLAlchemy ORM: the same with a StateMachine bound to the row.
- viewflow is not run here; see VIEWFLOW below for why.

The peers write the new state and a timestamp; they write no event, no chain, no mail.

Run: .venv/bin/python bench/peers.py   (peers come with `pip install -e '.[bench]'`)
     DUBAN_BENCH_N=1000 DUBAN_BENCH_RUNS=1 .venv/bin/python bench/peers.py   (a quick look)
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import Integer, String, Text, create_engine, event  # noqa: E402
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column  # noqa: E402

from _report import result  # noqa: E402

N = int(os.environ.get("DUBAN_BENCH_N", "10000"))
RUNS = int(os.environ.get("DUBAN_BENCH_RUNS", "3"))
SYNCS = ("FULL", "NORMAL")
STEPS = ("start", "submit", "approve")
FLOW = {"assigned": "start", "in_progress": "submit", "submitted": "approve"}

VIEWFLOW = ("viewflow (django-viewflow 2.4) is not measured: its flow nodes (Start, View) are "
            "advanced by HTTP views for a logged-in user, so running it headless needs a Django "
            "project, its migrations and either Django's test client or activations driven by hand "
            "— more than this session's time allowed; the issue's earlier figure was 326 / 373 per s.")


# --- duban ------------------------------------------------------------------------

def duban_build(path: Path, n: int) -> None:
    from fire import build
    build(path, n)


def duban_run(path: Path, sync: str) -> tuple[int, float, float]:
    from sqlmodel import Session as SQLModelSession, select

    from db.engine import make_engine
    from db.models import Assignment, User
    from fire import CLOCK
    from workflow.lifecycle.engine import Fields, fire

    engine = make_engine(f"sqlite:///{path}", synchronous=sync)
    with SQLModelSession(engine, expire_on_commit=False) as s:
        staff = {u.department_id: u for u in s.exec(select(User)).all() if "staff" in u.roles}
        reviewer = s.exec(select(User).where(User.name == "审核人")).one()
        work = [(a.id, a.department_id) for a in s.exec(select(Assignment).order_by(Assignment.id)).all()]
        summary = Fields(summary="已按要求完成。")
        start, cpu = time.perf_counter(), time.process_time()
        for aid, dept in work:
            fire(s, aid, "start", staff[dept], clock=CLOCK)
            fire(s, aid, "submit", staff[dept], clock=CLOCK, fields=summary)
            fire(s, aid, "approve", reviewer, clock=CLOCK)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    engine.dispose()
    return 3 * len(work), elapsed, cpu


# --- the peers' storage: SQLAlchemy ORM, written plainly -----------------------------

class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "item"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[str] = mapped_column(String(30))
    workflow: Mapped[str | None] = mapped_column(Text, nullable=True)  # SpiffWorkflow only


def peer_engine(path: Path, sync: str):
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={sync}")
        cur.close()
    return engine


def peer_build(path: Path, n: int, workflow: Callable[[], str] | None = None) -> None:
    engine = peer_engine(path, "NORMAL")
    Base.metadata.create_all(engine)
    blob = workflow() if workflow else None
    with Session(engine) as s:
        s.add_all(Item(id=i, state="assigned", updated_at="", workflow=blob) for i in range(1, n + 1))
        s.commit()
    engine.dispose()


def peer_run(path: Path, sync: str, step: Callable[[Item, str], None]) -> tuple[int, float, float]:
    engine = peer_engine(path, sync)
    with Session(engine) as s:
        ids = [i for (i,) in s.query(Item.id).order_by(Item.id)]
    start, cpu = time.perf_counter(), time.process_time()
    for item_id in ids:
        for trigger in STEPS:
            with Session(engine) as s:
                item = s.get(Item, item_id)
                step(item, trigger)
                item.updated_at = dt.datetime.now().isoformat(" ")
                s.commit()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    engine.dispose()
    return 3 * len(ids), elapsed, cpu


# transitions
TRANSITIONS = [{"trigger": "start", "source": "assigned", "dest": "in_progress"},
               {"trigger": "submit", "source": "in_progress", "dest": "submitted"},
               {"trigger": "approve", "source": "submitted", "dest": "done"}]
STATES = ["assigned", "in_progress", "submitted", "done"]


def transitions_step(item: Item, trigger: str) -> None:
    from transitions import Machine
    Machine(model=item, states=STATES, transitions=TRANSITIONS, initial=item.state, auto_transitions=False)
    item.trigger(trigger)


# python-statemachine
_SM: list[type] = []


def statemachine_class() -> type:
    if not _SM:
        from statemachine import State, StateMachine

        class ItemMachine(StateMachine):
            assigned = State(initial=True)
            in_progress = State()
            submitted = State()
            done = State(final=True)
            start = assigned.to(in_progress)
            submit = in_progress.to(submitted)
            approve = submitted.to(done)
        _SM.append(ItemMachine)
    return _SM[0]


def statemachine_step(item: Item, trigger: str) -> None:
    machine = statemachine_class()(item, state_field="state")
    machine.send(trigger)


# SpiffWorkflow
BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="item" isExecutable="true">
    <bpmn:startEvent id="begin"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="start"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="submit"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="approve"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="begin" targetRef="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="submit"/>
    <bpmn:sequenceFlow id="f2" sourceRef="submit" targetRef="approve"/>
    <bpmn:sequenceFlow id="f3" sourceRef="approve" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""
_SPIFF: dict[str, object] = {}


def spiff() -> dict[str, object]:
    if not _SPIFF:
        from lxml import etree
        from SpiffWorkflow.bpmn import BpmnWorkflow
        from SpiffWorkflow.bpmn.parser import BpmnParser
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
        from SpiffWorkflow.util.task import TaskState

        parser = BpmnParser()
        parser.add_bpmn_xml(etree.fromstring(BPMN.encode()), filename="item.bpmn")
        _SPIFF.update(spec=parser.get_spec("item"), serializer=BpmnWorkflowSerializer(),
                      workflow=BpmnWorkflow, ready=TaskState.READY)
    return _SPIFF


def spiff_new() -> str:
    sp = spiff()
    wf = sp["workflow"](sp["spec"])
    wf.do_engine_steps()
    return sp["serializer"].serialize_json(wf)


def spiff_step(item: Item, trigger: str) -> None:
    sp = spiff()
    wf = sp["serializer"].deserialize_json(item.workflow)
    task = next(t for t in wf.get_tasks(state=sp["ready"]) if t.task_spec.name == trigger)
    task.run()
    wf.do_engine_steps()
    item.workflow = sp["serializer"].serialize_json(wf)
    item.state = {"start": "in_progress", "submit": "submitted", "approve": "done"}[trigger]


# --- the run --------------------------------------------------------------------------

def contenders() -> dict[str, tuple[Callable[[Path, int], None], Callable[[Path, str], tuple]]]:
    found = {"duban": (duban_build, duban_run)}
    try:
        import lxml  # noqa: F401
        import SpiffWorkflow  # noqa: F401
        found["SpiffWorkflow"] = (lambda p, n: peer_build(p, n, spiff_new),
                                  lambda p, s: peer_run(p, s, spiff_step))
    except ImportError:
        print("SpiffWorkflow not installed (pip install -e '.[bench]'): skipped")
    found["transitions + SQLAlchemy"] = (peer_build, lambda p, s: peer_run(p, s, transitions_step))
    try:
        import statemachine  # noqa: F401
        found["python-statemachine + SQLAlchemy"] = (peer_build, lambda p, s: peer_run(p, s, statemachine_step))
    except ImportError:
        print("python-statemachine not installed (pip install -e '.[bench]'): skipped")
    return found


def main() -> None:
    who = contenders()
    rates: dict[tuple[str, str], list[float]] = {}
    cpus: dict[tuple[str, str], list[float]] = {}
    print(f"{N:,} items × start → submit → approve, one transaction each, WAL; "
          f"{RUNS} interleaved run(s) per contender and setting (median shown)")
    with tempfile.TemporaryDirectory() as tmp:
        bases = {}
        for name, (build, _) in who.items():
            bases[name] = Path(tmp) / f"base-{len(bases)}.db"
            build(bases[name], N)
        for run in range(RUNS):
            for sync in SYNCS:
                for name, (_, go) in who.items():
                    path = Path(tmp) / "run.db"
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{path}{suffix}").unlink(missing_ok=True)
                    shutil.copy(bases[name], path)
                    n, seconds, cpu = go(path, sync)
                    rates.setdefault((name, sync), []).append(n / seconds)
                    cpus.setdefault((name, sync), []).append(cpu / n)
                    print(f"  run {run + 1} {sync:6} {name:34} {n / seconds:8,.0f} transitions/s "
                          f"({seconds:.1f} s, CPU {cpu / n * 1e6:,.0f} µs each)", flush=True)
    print()
    for sync in SYNCS:
        ours = statistics.median(rates[("duban", sync)])
        peers = {name: statistics.median(rates[(name, sync)]) for name in who if name != "duban"}
        print(f"synchronous={sync}: duban {ours:,.0f} transitions/s "
              f"(CPU {statistics.median(cpus[('duban', sync)]) * 1e6:,.0f} µs each)")
        for name, rate in peers.items():
            print(f"  {name:34} {rate:8,.0f}/s  duban's ratio {ours / rate:.2f}× "
                  f"(CPU {statistics.median(cpus[(name, sync)]) * 1e6:,.0f} µs each)")
            result(f"whole flow against {name}, synchronous={sync}", ours, "transitions/s",
                   baseline=rate, baseline_label=f"{name} transitions/s", ratio=ours / rate,
                   note="informational; the target is against the fastest peer")
        if peers:
            fastest = max(peers, key=peers.get)
            ratio = ours / peers[fastest]
            print(f"  fastest peer: {fastest}; duban's ratio {ratio:.2f}× (target ≥ 1.0×: "
                  f"{'met' if ratio >= 1.0 else 'missed'})")
            result(f"whole flow ({N:,} items × 3 transitions) against the fastest peer ({fastest}), "
                   f"synchronous={sync}", ours, "transitions/s", baseline=peers[fastest],
                   baseline_label=f"{fastest} transitions/s", ratio=ratio, target="≥ 1.0×", met=ratio >= 1.0)
    print(VIEWFLOW)


if __name__ == "__main__":
    main()
