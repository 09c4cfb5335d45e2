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
from db.engine import make_engine
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


def _two_departments(tmp_path, tasks: int):
    """A plan of `tasks` items for every department; the items of 装财处 and 科监处 as
    (id, department), each department's staff token, and the database's URL."""
    from db.models import Assignment, Department

    url = migrated_sqlite(tmp_path / "duban.db")
    plan = {**PLAN, "tasks": [{"seq": i, "requirement": f"第{i}项任务。", "responsibilities": [
        {"department": "各业务处室", "role": "cooperate", "group": True}]} for i in range(1, tasks + 1)]}
    world = build_world(url, plan)
    staff = {"装财处": world.token("张三"), "科监处": world.token("孙科监")}
    engine = make_engine(url)
    with engine.connect() as conn:
        a, d = Assignment.__table__, Department.__table__
        work = [(r.id, r.name) for r in conn.execute(
            select(a.c.id, d.c.name).join(d, d.c.id == a.c.department_id).where(d.c.name.in_(staff)))]
    engine.dispose()
    assert len(work) == 2 * tasks
    return url, work, staff


def _eight_clients(server: Server, work: list, requests) -> None:
    """Eight threads share `work`; each runs requests(client, item) for its share."""
    import httpx

    def client(k: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=60) as c:
            for item in work[k::8]:
                requests(c, item)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _one_start_each(url: str, work: list) -> None:
    """One start event per item, and the hash chain, the records and the people hold."""
    from db.models import Event
    from workflow.lifecycle.audit import examine

    engine = make_engine(url)
    e = Event.__table__
    with engine.connect() as conn:
        starts = conn.execute(select(e.c.assignment_id).where(e.c.trigger == "start")).scalars().all()
        report = examine(conn)
    engine.dispose()
    assert sorted(starts) == sorted(aid for aid, _ in work)
    assert report.ok and report.checked >= len(work)


def test_two_workers_on_sqlite_lose_and_repeat_nothing(tmp_path):
    """Eight clients start every item through two `duban serve` workers on one SQLite file:
    every request succeeds (nobody is told the database is busy), one event each."""
    url, work, staff = _two_departments(tmp_path, 30)
    failures: list[str] = []

    def start(c, item) -> None:
        aid, dept = item
        r = c.post(f"/api/v1/tasks/{aid}/start", headers={"Authorization": f"Bearer {staff[dept]}"})
        if r.status_code != 200 or r.json()["state"] != "in_progress":
            failures.append(f"{aid}: {r.status_code} {r.text[:200]}")

    server = Server(url, workers=2)
    try:
        _eight_clients(server, work, start)
    finally:
        server.stop()
    assert failures == []
    _one_start_each(url, work)
    assert (tmp_path / "duban.db-writer").exists()


def test_concurrent_requests_on_one_worker_get_their_own_answers(tmp_path):
    """Eight clients on the default one worker, whose writer commits the moves that queue
    up together (web/writing.py): starts of their own items succeed, each request on an
    item of another department gets 404 and a repeated start 409, in among the others;
    one start event per item and the audit holds."""
    url, work, staff = _two_departments(tmp_path, 20)
    foreign = {name: next(aid for aid, dept in work if dept != name) for name in staff}
    answers: list[tuple[str, int]] = []

    def three(c, item) -> None:
        aid, dept = item
        auth = {"Authorization": f"Bearer {staff[dept]}"}
        answers.append(("start", c.post(f"/api/v1/tasks/{aid}/start", headers=auth).status_code))
        answers.append(("foreign", c.post(f"/api/v1/tasks/{foreign[dept]}/start", headers=auth).status_code))
        answers.append(("again", c.post(f"/api/v1/tasks/{aid}/start", headers=auth).status_code))

    server = Server(url)
    try:
        _eight_clients(server, work, three)
    finally:
        server.stop()
    assert sorted(set(answers)) == [("again", 409), ("foreign", 404), ("start", 200)]
    assert answers.count(("start", 200)) == len(work)
    _one_start_each(url, work)
