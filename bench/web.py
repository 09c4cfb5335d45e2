"""Benchmark: the web front end and the REST API of `duban serve` (issue 16).

1. Reads at scale: bench/scale.py's city (100,000 assignments, ~500,000 events) on
   SQLite; a real `duban serve --workers 2` subprocess (one worker per core); 8
   concurrent clients. p50/p95 of the 事项 list page and `GET /api/v1/tasks` (one
   department, first page; targets p95 ≤ 150 ms) and of the 首页 (target p95 ≤ 300 ms),
   with the server's CPU time per request. Baseline in the same run: the library's own
   read of that page (lifecycle.service.list_tasks, first page of 50), in-process.
2. Transitions over HTTP: bench/fire.py's plan (10,000 assigned items); `start` on every
   one through `POST /api/v1/tasks/{id}/start` with 8 concurrent clients (keep-alive
   connections of bench/_http.py, whose CPU per request is printed), against
   `fire()` in-process on a copy of the same database (target ≥ 0.4×); the events are
   counted afterwards (no loss, no duplicates). SQLite, and PostgreSQL when it answers.
3. Bulk approve of 10,000 submitted items through `POST /api/v1/review/approve`
   (target ≥ 400 approvals/s).

The machine has 2 cores: the server, the 8 clients and (for PostgreSQL) the database
share them, so the HTTP figures include the clients' own CPU.

Run: .venv/bin/python bench/web.py [--n 100000] [--fires 10000] [--sqlite-only]
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402
from sqlalchemy import func, select, text, update  # noqa: E402
from sqlmodel import Session  # noqa: E402

from _http import KeepAlive  # noqa: E402
from _report import result  # noqa: E402
from db.engine import make_engine  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Assignment, Event, User  # noqa: E402
from workflow.access.tokens import MIN_N, hash_token, new_token  # noqa: E402

CLIENTS = 8
READ_WORKERS = 2  # one per core, as the writes below
PG_URL = os.environ.get("DUBAN_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


# ---------------------------------------------------------------- server and tokens
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    def __init__(self, url: str, today: str, workers: int = 1):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}
        env.update(DUBAN_DB=url, DUBAN_TODAY=today, DUBAN_DATA=tempfile.mkdtemp(prefix="duban-bench-data-"))
        script = Path(sys.executable).parent / "duban"
        self.proc = subprocess.Popen([str(script), "serve", "--port", str(self.port), "--workers", str(workers)],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True, cwd=ROOT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/api/v1/openapi.json", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("duban serve did not start")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of the server and its worker processes so far."""
        total = 0.0
        pids = [self.proc.pid] + [int(p) for p in subprocess.run(
            ["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout.split()]
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)


def give_tokens(engine, names: list[str] | None = None) -> dict[int, str]:
    """A token per user (by id), stored as the cheapest accepted hash (verified once per
    server process anyway: the server caches a checked token against the user row)."""
    tokens = {}
    with engine.begin() as conn:
        t = User.__table__
        q = select(t.c.id, t.c.name)
        if names is not None:
            q = q.where(t.c.name.in_(names))
        for uid, _name in conn.execute(q).all():
            token = new_token(uid)
            conn.execute(update(t).where(t.c.id == uid).values(token_hash=hash_token(token, n=MIN_N)))
            tokens[uid] = token
    return tokens


def load() -> str:
    return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def concurrently(work, clients: int = CLIENTS) -> float:
    """Run work(k) on `clients` threads; wall seconds."""
    threads = [threading.Thread(target=work, args=(k,)) for k in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


# ---------------------------------------------------------------- 1. reads at scale
def reads(n: int, per_client: int) -> None:
    from scale import DEPTS, build as build_city

    tmp = Path(tempfile.mkdtemp(prefix="duban-bench-web-"))
    url = f"sqlite:///{tmp}/city.db"
    engine = make_engine(url, synchronous="OFF")
    upgrade(engine)
    start = time.perf_counter()
    events = build_city(engine, n)
    print(f"[reads] built {n:,} assignments, {events:,} events, {DEPTS} departments in "
          f"{time.perf_counter() - start:.0f} s")
    with engine.connect() as conn:
        reviewer = conn.execute(select(User.__table__.c.id).where(User.__table__.c.name == "用户0-0")).scalar_one()
    token = give_tokens(engine, ["用户0-0"])[reviewer]
    engine.dispose()

    from workflow.clock import Clock
    from workflow.context import Context
    from workflow.lifecycle.service import TaskQuery, list_tasks

    office = Context(db_url=url, clock=Clock(dt.date(2021, 11, 30)), actor_name="用户0-0")
    baseline, cpu = [], time.process_time()
    for _ in range(20):
        t0 = time.perf_counter()
        list_tasks(office, TaskQuery(dept="处室07"), 1, 50)
        baseline.append(time.perf_counter() - t0)
    base_cpu = (time.process_time() - cpu) / 20 * 1000
    office.close()
    base_p95 = percentile(baseline, 95) * 1000
    print(f"[reads] baseline: lifecycle.service.list_tasks(处室07, first page of 50) in-process "
          f"p95 {base_p95:.1f} ms, CPU {base_cpu:.1f} ms per call")

    served = Served(url, "2021-11-30", workers=READ_WORKERS)
    try:
        with httpx.Client(base_url=served.base) as c:  # a browser session for the pages
            c.get("/login")
            c.post("/login", data={"token": token, "csrf": c.cookies.get("duban_csrf"), "next": "/"})
            cookie = c.cookies.get("duban_session")
        cases = [
            ("GET /api/v1/tasks?dept=处室07 (first page)", "/api/v1/tasks?dept=处室07&per_page=50",
             {"Authorization": f"Bearer {token}"}, {}, 150.0),
            ("事项 list page ?dept=处室07 (first page)", "/tasks?dept=处室07", {}, {"duban_session": cookie}, 150.0),
            ("首页 (reviewer: counts, lights, queue, overdue)", "/", {}, {"duban_session": cookie}, 300.0),
        ]
        for label, path, headers, cookies, target in cases:
            samples: list[float] = []
            lock = threading.Lock()

            def work(k: int) -> None:
                mine = []
                with httpx.Client(base_url=served.base, headers=headers, cookies=cookies, timeout=120) as c:
                    c.get(path)  # warm this client's connection
                    for _ in range(per_client):
                        t0 = time.perf_counter()
                        r = c.get(path)
                        mine.append(time.perf_counter() - t0)
                        assert r.status_code == 200, (r.status_code, r.text[:200])
                with lock:
                    samples.extend(mine)

            server_cpu = served.cpu_seconds()
            wall = concurrently(work)
            server_ms = (served.cpu_seconds() - server_cpu) / (len(samples) + CLIENTS) * 1000
            p50, p95 = percentile(samples, 50) * 1000, percentile(samples, 95) * 1000
            print(f"[reads] {label:48s} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  server CPU {server_ms:.1f} ms/request "
                  f"({len(samples)} requests, {CLIENTS} clients, {len(samples) / wall:.0f} req/s)  target p95 ≤ {target:.0f} ms")
            result(f"web: {label}, {n:,} assignments, {CLIENTS} clients, p95", p95, "ms",
                   baseline=base_p95, baseline_label="lifecycle.service.list_tasks(one department, first page) in-process, p95",
                   ratio=p95 / base_p95 if base_p95 else None, target=f"≤ {target:.0f} ms", met=p95 <= target,
                   note=f"p50 {p50:.1f} ms; server CPU {server_ms:.1f} ms/request; {READ_WORKERS} workers; {load()}")
    finally:
        served.stop()
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- 2 and 3. writes
def build_fires(url: str, n: int) -> None:
    from fire import build_url

    build_url(url, n)


def fire_rate(url: str) -> tuple[int, float]:
    from fire import CLOCK
    from workflow.lifecycle.engine import fire

    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as s:
        users = {u.department_id: u for u in s.execute(select(User)).scalars().all() if "staff" in u.roles}
        work = [(a.id, a.department_id) for a in s.execute(select(Assignment).order_by(Assignment.id)).scalars().all()]
        start, cpu = time.perf_counter(), time.process_time()
        for aid, dept in work:
            fire(s, aid, "start", users[dept], clock=CLOCK)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    engine.dispose()
    return len(work), elapsed, cpu


def http_rate(url: str, workers: int) -> tuple[int, float, int, int, Served, dict]:
    engine = make_engine(url)
    tokens = give_tokens(engine)
    with engine.connect() as conn:
        staff = {r.department_id: r.id for r in conn.execute(select(User.__table__)).all() if "staff" in r.roles}
        work = [(r.id, r.department_id) for r in conn.execute(
            select(Assignment.__table__.c.id, Assignment.__table__.c.department_id).order_by(Assignment.__table__.c.id))]
        events_before = conn.execute(select(func.count()).select_from(Event.__table__)).scalar_one()
    served = Served(url, "2021-08-02", workers=workers)
    failures: list[str] = []
    server_cpu = served.cpu_seconds()

    def client(k: int) -> None:
        with KeepAlive("127.0.0.1", served.port) as c:
            for aid, dept in work[k::CLIENTS]:
                status, body = c.post(f"/api/v1/tasks/{aid}/start",
                                      headers={"Authorization": f"Bearer {tokens[staff[dept]]}"})
                if status != 200:
                    failures.append(f"{aid}: {status} {body[:120].decode('utf-8', 'replace')}")

    client_cpu = time.process_time()
    wall = concurrently(client)
    client_ms = (time.process_time() - client_cpu) / len(work) * 1000
    server_ms = (served.cpu_seconds() - server_cpu) / len(work) * 1000
    with engine.connect() as conn:
        e = Event.__table__
        starts = conn.execute(select(func.count()).select_from(e).where(e.c.trigger == "start")).scalar_one()
        distinct = conn.execute(select(func.count(func.distinct(e.c.assignment_id))).where(e.c.trigger == "start")).scalar_one()
        events_after = conn.execute(select(func.count()).select_from(e)).scalar_one()
    if failures:
        print(f"  {len(failures)} requests failed, first: {failures[0]}")
    engine.dispose()
    reviewer = next(uid for uid, tok in tokens.items() if uid not in staff.values())
    return len(work), wall, starts, distinct, served, {"reviewer": tokens[reviewer], "events": events_after - events_before,
                                                          "server_ms": server_ms, "client_ms": client_ms}


def writes(backend: str, make_url, n: int, workers: int) -> None:
    url_fire, url_http = make_url(), make_url()
    for url in (url_fire, url_http):
        build_fires(url, n)
    fires, fire_s, fire_cpu = fire_rate(url_fire)
    fire_per_s = fires / fire_s
    print(f"[{backend}] fire() in-process: {fires:,} starts in {fire_s:.1f} s = {fire_per_s:,.0f}/s "
          f"(CPU {fire_cpu / fires * 1000:.2f} ms per fire; {load()})")
    count, wall, starts, distinct, served, info = http_rate(url_http, workers)
    try:
        http_per_s = count / wall
        ratio = http_per_s / fire_per_s
        print(f"[{backend}] POST /api/v1/tasks/{{id}}/start, {CLIENTS} clients, {workers} worker(s): {count:,} in "
              f"{wall:.1f} s = {http_per_s:,.0f}/s = {ratio:.2f}× fire() (target ≥ 0.4×); "
              f"server CPU {info['server_ms']:.2f} ms, client CPU {info['client_ms']:.2f} ms per request; {load()}")
        print(f"[{backend}] events: {info['events']:,} new, {starts:,} start events on {distinct:,} items "
              f"(expected {count:,}: {'no loss, no duplicates' if starts == distinct == count else 'MISMATCH'})")
        result(f"web ({backend}): transitions over HTTP, {CLIENTS} clients", http_per_s, "transitions/s",
               baseline=fire_per_s, baseline_label="fire() in-process, same run", ratio=ratio, target="≥ 0.4×",
               met=ratio >= 0.4 and starts == distinct == count,
               note=f"{starts} start events on {distinct} items of {count}; server CPU {info['server_ms']:.2f} ms/request")
        # 3. bulk approve: everything submitted (raw SQL, as bench/fire.py), then one request
        engine = make_engine(url_http)
        with engine.begin() as conn:
            conn.execute(text("UPDATE assignment SET state='submitted', version=version+1, submitted_by_id=("
                              "SELECT id FROM app_user u WHERE u.department_id = assignment.department_id "
                              "ORDER BY u.id LIMIT 1)"))
        engine.dispose()
        t0, server_cpu = time.perf_counter(), served.cpu_seconds()
        r = httpx.post(served.base + "/api/v1/review/approve", json={},
                       headers={"Authorization": f"Bearer {info['reviewer']}"}, timeout=3600)
        took = time.perf_counter() - t0
        server_ms = (served.cpu_seconds() - server_cpu) * 1000
        body = r.json()
        approved = len(body.get("approved", []))
        server_ms /= max(approved, 1)
        rate = approved / took
        print(f"[{backend}] POST /api/v1/review/approve: {approved:,} approved, {len(body.get('skipped', []))} skipped "
              f"in {took:.1f} s = {rate:,.0f}/s (target ≥ 400/s; fire() ran {fire_per_s:,.0f}/s); "
              f"server CPU {server_ms:.2f} ms per approval; {load()}")
        result(f"web ({backend}): bulk approve of {count:,} via the API", rate, "approvals/s",
               baseline=fire_per_s, baseline_label="fire() start in-process, same run",
               ratio=rate / fire_per_s, target="≥ 400/s", met=rate >= 400,
               note=f"server CPU {server_ms:.2f} ms/approval")
    finally:
        served.stop()


def sqlite_urls():
    tmp = Path(tempfile.mkdtemp(prefix="duban-bench-webw-"))
    return lambda: f"sqlite:///{tmp}/{uuid.uuid4().hex[:6]}.db"


def pg_urls():
    import psycopg

    schemas: list[str] = []

    def make():
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as c:
            c.execute(f"CREATE SCHEMA {schema}")
        schemas.append(schema)
        return f"{PG_URL}?options=-csearch_path%3D{schema}"

    def drop():
        with psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as c:
            for schema in schemas:
                c.execute(f"DROP SCHEMA {schema} CASCADE")

    return make, drop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--fires", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=25, help="requests per client per read case")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--skip-reads", action="store_true")
    parser.add_argument("--skip-writes", action="store_true")
    parser.add_argument("--sqlite-workers", type=int, default=1,
                        help="server processes for SQLite's writes (README: one; its writers take turns)")
    parser.add_argument("--pg-workers", type=int, default=2, help="server processes for PostgreSQL's (one per core)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores (shared with whatever else runs); {load()}")
    if not args.skip_reads:
        reads(args.n, args.requests)
    if args.skip_writes:
        return
    writes("sqlite", sqlite_urls(), args.fires, args.sqlite_workers)
    if args.sqlite_only:
        return
    try:
        make, drop = pg_urls()
        make_url = make
        make_url()  # does the server answer?
    except Exception as exc:  # noqa: BLE001
        print(f"PostgreSQL not measured: {exc}")
        return
    try:
        writes("postgresql", make_url, args.fires, args.pg_workers)
    finally:
        drop()


if __name__ == "__main__":
    main()
