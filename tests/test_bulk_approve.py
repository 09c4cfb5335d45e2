"""Bulk approval (lifecycle.service.approve_all, committed in batches by engine.fire_many)
leaves exactly what approving the same items one by one leaves: the same states, events,
skipped items with the same sentences, outbox rows and an intact audit chain; and a
failure inside a batch rolls that batch back whole."""
from __future__ import annotations

import json
import sqlite3

import pytest
from sqlalchemy import text

from conftest import build_world, drive, migrated_sqlite
from workflow.errors import Refused
from workflow.lifecycle import engine, service
from workflow.lifecycle.audit import examine
from workflow.lifecycle.engine import Fields

SUBMITTERS = [(1, "装财处", "", "张三"), (3, "装财处", "", "张三"), (1, "科监处", "", "孙科监"),
              (2, "局政务公开办", "2021Q3", "李审核")]  # the last: the reviewer's own (审办分离)


def _submitted_world(tmp_path):
    """Four submitted items and the ids to approve: those, one still assigned, one in
    progress, one that does not exist and a repeat."""
    world = build_world(migrated_sqlite(tmp_path / "a.db"))
    ids = []
    for seq, dept, period, who in SUBMITTERS:
        aid = world.assignment(seq, dept, period=period)
        service.transition(world.app(who), aid, "start")
        service.transition(world.app(who), aid, "submit", Fields(summary=f"{dept}已完成"))
        ids.append(aid)
    started = world.assignment(3, "科监处")
    service.transition(world.app("孙科监"), started, "start")
    untouched = world.assignment(1, "办公室")
    return world, ids, [ids[0], untouched, ids[1], 999_999, started, ids[2], ids[3], ids[0]]


def _copy(world, tmp_path):
    """A second database holding exactly what the first holds (sqlite3's backup)."""
    src, dst = sqlite3.connect(tmp_path / "a.db"), sqlite3.connect(tmp_path / "b.db")
    src.backup(dst)
    src.close(), dst.close()
    return type(world)(f"sqlite:///{tmp_path / 'b.db'}", world.ids, world.plan_id, world.tokens)


def _contents(world) -> dict:
    """Everything the moves write, without the wall-clock times (and the hashes over them)."""
    queries = {
        "assignments": "SELECT * FROM assignment ORDER BY id",
        "events": "SELECT id, assignment_id, plan_id, trigger, from_state, to_state, actor_id, on_behalf_of_id, "
                  "comment, data, hash_form, actor_info, principal_info, changes FROM event ORDER BY id",
        "outbox": "SELECT key, kind, recipient, event_id, assignment_id, status, context FROM notification "
                  "ORDER BY id",
    }
    with world.app().engine().connect() as conn:
        found = {name: [dict(r._mapping) for r in conn.execute(text(sql))] for name, sql in queries.items()}
        report = examine(conn)
    for row in found["assignments"]:
        row.pop("updated_at")
    for row in found["outbox"]:
        row["context"] = json.loads(row["context"])
    assert report.ok, report.breaks + report.records + report.people
    return found


def test_bulk_equals_one_by_one(tmp_path, monkeypatch):
    world, _, ids = _submitted_world(tmp_path)
    other = _copy(world, tmp_path)
    monkeypatch.setattr(engine, "BATCH", 2)  # several batches, a refusal inside some of them

    bulk = service.approve_all(world.app("李审核"), comment="同意", ids=ids)

    approved, skipped = [], []
    for aid in ids:
        try:
            service.transition(other.app("李审核"), aid, "approve", Fields(comment="同意"))
            approved.append(aid)
        except Refused as exc:
            skipped.append((aid, exc.message))
    assert len(bulk.approved) == 3 and len(bulk.skipped) == 5
    assert (bulk.approved, bulk.skipped) == (approved, skipped)
    assert any("审办分离" in why for _, why in bulk.skipped)
    mine, theirs = _contents(world), _contents(other)
    approvals = {e["id"] for e in mine["events"] if e["trigger"] == "approve"}
    assert len(approvals) == 3 and {r["event_id"] for r in mine["outbox"]} >= approvals
    assert mine == theirs


def test_every_submitted_item_of_a_department(tmp_path):
    world, submitted, _ = _submitted_world(tmp_path)
    report = service.approve_all(world.app("李审核"), department="科监处")
    assert report.approved == [submitted[2]] and report.skipped == []


def test_failure_in_a_batch_rolls_that_batch_back(tmp_path, monkeypatch):
    world, (first, second, third, _), _ = _submitted_world(tmp_path)
    with sqlite3.connect(tmp_path / "a.db") as con:  # the third approval's event cannot be written
        con.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON event WHEN NEW.assignment_id = {third} "
                    "AND NEW.trigger = 'approve' BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
    before = _contents(world)
    monkeypatch.setattr(engine, "BATCH", 2)
    with pytest.raises(Exception, match="disk on fire"):
        service.approve_all(world.app("李审核"), ids=[first, second, third])
    after = _contents(world)
    states = {r["id"]: r["state"] for r in after["assignments"]}
    assert (states[first], states[second], states[third]) == ("done", "done", "submitted")
    new_events = after["events"][len(before["events"]):]
    assert [(e["assignment_id"], e["trigger"]) for e in new_events] == [(first, "approve"), (second, "approve")]
    assert {r["assignment_id"] for r in after["outbox"][len(before["outbox"]):]} == {first, second}
