"""db/write_gate.py: SQLite's writers of `duban serve` take turns at one gate, across
threads and processes, and nothing is lost or repeated when several workers write."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import select

from conftest import PLAN, ROOT, build_world, migrated_sqlite
from web_server import Server

HOLDER = """
import sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from db.write_gate import gate_for
db, marks, release = Path({db!r}), Path({marks!r}), Path({release!r})
with gate_for(db).held():
    with marks.open("a") as f: f.write("child-in\\n")
    while not release.exists():
        time.sleep(0.02)
    with marks.open("a") as f: f.write("child-out\\n")
"""


def test_a_writer_waits_for_another_process_to_finish(tmp_path):
    from db.write_gate import gate_for

    db, marks, release = tmp_path / "duban.db", tmp_path / "marks", tmp_path / "release"
    db.touch()
    child = subprocess.Popen([sys.executable, "-c", HOLDER.format(root=str(ROOT), db=str(db), marks=str(marks),
                                                                   release=str(release))])
    try:
        while not (marks.exists() and "child-in" in marks.read_text()):
            assert child.poll() is None, "the holder exited early"
            time.sleep(0.02)

        def writer():
            with gate_for(db).held():
                with marks.open("a") as f:
                    f.write("parent-in\n")

        waiting = threading.Thread(target=writer)
        waiting.start()
        time.sleep(0.3)  # the writer is queued behind the child meanwhile
        release.touch()
        waiting.join(timeout=30)
        assert not waiting.is_alive()
    finally:
        release.touch()
        child.wait(timeout=30)
    assert marks.read_text().split() == ["child-in", "child-out", "parent-in"]
    assert (tmp_path / "duban.db-writer").exists()


def test_threads_of_one_process_take_turns(tmp_path):
    from db.write_gate import gate_for

    db = tmp_path / "duban.db"
    db.touch()
    inside, most, lock = [0], [0], threading.Lock()

    def writer():
        for _ in range(50):
            with gate_for(db).held():
                with lock:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0.0005)
                with lock:
                    inside[0] -= 1

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1
    assert gate_for(db) is gate_for(Path(str(db)))  # one gate per database in a process


def test_two_workers_on_sqlite_lose_and_repeat_nothing(tmp_path):
    """Eight clients start every item through two `duban serve` workers on one SQLite file:
    every request succeeds (nobody is told the database is busy), one event each."""
    import httpx

    from db.engine import make_engine
    from db.models import Assignment, Event
    from workflow.lifecycle.audit import examine

    url = migrated_sqlite(tmp_path / "duban.db")
    plan = {**PLAN, "tasks": [{"seq": i, "requirement": f"第{i}项任务。", "responsibilities": [
        {"department": "各业务处室", "role": "cooperate", "group": True}]} for i in range(1, 31)]}
    world = build_world(url, plan)
    staff = {"装财处": world.token("张三"), "科监处": world.token("孙科监")}
    engine = make_engine(url)
    with engine.connect() as conn:
        from db.models import Department

        a, d = Assignment.__table__, Department.__table__
        work = [(r.id, staff[r.name]) for r in conn.execute(
            select(a.c.id, d.c.name).join(d, d.c.id == a.c.department_id).where(d.c.name.in_(staff)))]
    assert len(work) == 60
    server = Server(url, workers=2)
    failures: list[str] = []
    try:
        def client(k: int) -> None:
            with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=60) as c:
                for aid, token in work[k::8]:
                    r = c.post(f"/api/v1/tasks/{aid}/start", headers={"Authorization": f"Bearer {token}"})
                    if r.status_code != 200 or r.json()["state"] != "in_progress":
                        failures.append(f"{aid}: {r.status_code} {r.text[:200]}")

        threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.stop()
    assert failures == []
    e = Event.__table__
    with engine.connect() as conn:
        starts = conn.execute(select(e.c.assignment_id).where(e.c.trigger == "start")).scalars().all()
        report = examine(conn)
    engine.dispose()
    assert report.ok and report.checked >= len(work)  # the hash chain, the records and the people hold
    assert sorted(starts) == sorted(aid for aid, _ in work)
    assert (tmp_path / "duban.db-writer").exists()
