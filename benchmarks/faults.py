"""Delivery under faults: one broadcast to N registrants while LINE, a worker or the database fails.

    .venv/bin/python benchmarks/faults.py                          # every scenario, 50,000 each
    .venv/bin/python benchmarks/faults.py --only kill9-workers,401-2s --recipients 5000
    .venv/bin/python benchmarks/faults.py --only timeouts --lease 10 --probe 1

Run by hand; not a test. Each scenario gets a fresh PostgreSQL database `bench_<random>`
(dropped at the end, even on Ctrl+C) with N people following and registered at 神山町 (COPY,
as benchmarks/fanout.py builds them), and two `furusato worker --threads 8` processes (the
Procfile's command, real subprocesses) already polling when the staff's confirm is committed:
the workers fan the broadcast out (one thread in each) and send it to the local LINE platform
(bot/devtools/line_platform.py, every check of the real one), which runs in a process of its
own under gunicorn and counts, per user ID, how many times it accepted a message for them.

For each scenario it prints how many of the N recipients were **delivered once**, **lost**
(never accepted by the platform) and **doubled** (accepted twice or more), the duration
(confirm → the last multicast the platform accepted), the requests made (by status), the
outbox's final state (rows sent, failed by reason, pending) and whether the queue ended paused.
A lost recipient is "refused" when they were in a row LINE refused (400), else unexplained.

Scenarios (`--only NAME,…`):

kill9-workers   kill -9 a worker three times during the send (at 15 %, 45 % and 75 % of the
                recipients accepted; the oldest worker each time), restarting it at once. The
                rows it had leased wait for their lease (OUTBOX_LEASE_SECONDS, `--lease`) and
                are resent with the same retry keys: LINE answers 409 to those it took.
kill9-fanout    kill -9 the worker whose fan-out thread is queuing a page of the broadcast
                (seen in pg_stat_activity by its application_name), then restart it: the
                page's transaction is rolled back, and the other worker resumes at the cursor.
timeouts        LINE_TIMEOUT_SECONDS=1 and the first fifth of the multicasts answered (and
                accepted) after 2 s: the worker gives up on them, retries with the same key,
                and the retry gets 409 (or is the one accepted, and the late original gets 409).
5xx             the first 30 % of the multicasts answered 500: retried after a backoff.
429, 429-retry-after
                every multicast answered 429 for 3 s (once a fifth of the rows were accepted),
                without Retry-After and with `Retry-After: 1`: the whole queue pauses; counts
                the 429s the workers drew.
401-2s          every request answered 401 (the platform's own words for a wrong token, as
                after a rotated token) for 2 s, then accepted: the queue pauses as a whole,
                one message probes every OUTBOX_PROBE_SECONDS (`--probe`); shows the pause as
                `furusato outbox status` words it and how long sending stopped.
db-terminate    during the send, ALTER DATABASE … ALLOW_CONNECTIONS false, pg_terminate_backend
                every connection to the bench database, 3 s later ALLOW_CONNECTIONS true: the
                workers must still be running at the end, everyone delivered once.
400             three people's LINE user IDs are malformed (a digit too many): LINE refuses
                their rows (400), which stay failed 'refused' with LINE's reason; the lost are
                exactly those rows' recipients, everybody else is delivered once.

Worker output: /tmp/furusato-bench-faults.log (each scenario's start is marked in it).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import common
import fanout

WORKERS = 2
THREADS = 8
ROW = 500  # recipients per multicast row (bot/delivery/outbox.py MAX_MULTICAST)
POLL = 0.05
AUTH_FAILED = ("Authentication failed. Confirm that the access token in the authorization "
               "header is valid.")
RATE_LIMITED = "The API rate limit has been exceeded. Try again later."


# The local LINE platform, in a process of its own, with fault injection over HTTP ---------------

def serve_platform(port: int, access_token: str) -> None:
    """`faults.py --serve-platform PORT TOKEN`: bot/devtools/line_platform.py, unchanged, under
    gunicorn (one process: the retry keys live in it), plus `/_bench/…` control endpoints:

    - POST /_bench/inject: `LinePlatform.inject(endpoint, status, times, delay, body)`;
    - POST /_bench/window: every request to `endpoint` ("*": any) answered `status` with
      `body` (and `Retry-After` when given) for `seconds`, from the moment `after` multicasts
      have been accepted — a refusal in time, which `inject` (a count) cannot express;
    - GET /_bench/progress, GET /_bench/report (per user ID counts and the request log),
      POST /_bench/reset.
    """
    from flask import Flask, jsonify, request

    from bot.devtools import line_platform

    class FaultPlatform(line_platform.LinePlatform):
        """The real platform; what it accepts is counted per user ID instead of kept."""

        def reset(self) -> None:
            super().reset()
            self.received: Counter[str] = Counter()
            self.accepted_requests = 0
            self.window: dict | None = None
            self.refusals: list[list] = []  # [at, status, body] of 4xx other than 401/409/429

        def _deliver(self, request_id, via, recipients, messages, retry_key):
            sent = super()._deliver(request_id, via, recipients, messages, retry_key)
            self._deliveries.clear()
            self.received.update(recipients)
            self.accepted_requests += 1
            return sent

    app = Flask("bench_faults_platform")
    app.config["LINE_CHANNEL_ACCESS_TOKEN"] = access_token
    line_platform.init_app(app)
    platform = FaultPlatform()
    app.extensions["line_platform"] = platform

    def in_window() -> dict | None:
        """The window, if this request falls in it (it opens at its `after`-th acceptance)."""
        window = platform.window
        if window is None or not request.path.startswith(line_platform.PREFIX):
            return None
        if window["endpoint"] != "*" and request.path != (
                f"{line_platform.PREFIX}/v2/bot/message/{window['endpoint']}"):
            return None
        now = time.time()
        with platform._lock:
            if window["started"] is None:
                if platform.accepted_requests < window["after"]:
                    return None
                window["started"] = now
        return window if now < window["started"] + window["seconds"] else None

    @app.before_request
    def refuse_in_window():
        window = in_window()
        if window is None:
            return None
        headers = {}
        if window["retry_after"] is not None:
            headers["Retry-After"] = str(window["retry_after"])
        return jsonify(window["body"]), window["status"], headers

    @app.after_request
    def keep_refusal(response):
        if 400 <= response.status_code < 500 and response.status_code not in (401, 409, 429):
            with platform._lock:
                platform.refusals.append([time.time(), response.status_code,
                                          response.get_data(as_text=True)[:300]])
        return response

    @app.post("/_bench/inject")
    def inject():
        platform.inject(**request.get_json())
        return jsonify(ok=True)

    @app.post("/_bench/window")
    def window():
        platform.window = {**request.get_json(), "started": None}
        return jsonify(ok=True)

    @app.get("/_bench/progress")
    def progress():
        with platform._lock:
            return jsonify(requests=platform.accepted_requests,
                           recipients=sum(platform.received.values()))

    @app.get("/_bench/report")
    def report():
        with platform._lock:
            return jsonify(received=dict(platform.received),
                           requests=[[r.at, r.endpoint, r.status] for r in platform.requests],
                           window=platform.window, refusals=platform.refusals)

    @app.post("/_bench/reset")
    def reset():
        platform.reset()
        return jsonify(ok=True)

    common.serve_under_gunicorn(app, port)


class PlatformProcess:
    def __init__(self, log: Path):
        self.port = common.free_port()
        self.token = secrets.token_hex(24)
        self.process = common.spawn([sys.executable, __file__, "--serve-platform",
                                     str(self.port), self.token], log=log)
        self.url = f"http://127.0.0.1:{self.port}"
        common.wait_for_http(f"{self.url}/_bench/progress", self.process)

    def _call(self, path: str, payload: dict | None = None) -> dict:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data,
                                         headers={"Content-Type": "application/json"},
                                         method="GET" if data is None else "POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def reset(self) -> None:
        self._call("/_bench/reset", {})

    def inject(self, endpoint: str, status: int | None, times: int, delay: float = 0.0,
               body: dict | None = None) -> None:
        self._call("/_bench/inject", {"endpoint": endpoint, "status": status, "times": times,
                                      "delay": delay, "body": body})

    def window(self, endpoint: str, status: int, seconds: float, after: int, body: dict,
               retry_after: int | None = None) -> None:
        self._call("/_bench/window", {"endpoint": endpoint, "status": status,
                                      "seconds": seconds, "after": after, "body": body,
                                      "retry_after": retry_after})

    def progress(self) -> dict:
        return self._call("/_bench/progress")

    def report(self) -> dict:
        return self._call("/_bench/report")


# `furusato worker` processes, each named in pg_stat_activity -----------------------------------

class Workers:
    """The worker processes of one run; each connects as application_name `faults-wN`."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env, self.log = env, log
        self.command = [str(Path(sys.executable).parent / "furusato"), "worker",
                        "--threads", str(THREADS)]
        self.current: dict[str, subprocess.Popen] = {}  # name → process, oldest first
        self.started_at: dict[str, float] = {}
        self.started = 0
        self.dead_on_their_own: list[str] = []

    def start(self) -> str:
        self.started += 1
        name = f"faults-w{self.started}"
        self.started_at[name] = time.time()
        self.current[name] = common.spawn(self.command, env={**self.env, "PGAPPNAME": name},
                                          log=self.log)
        return name

    def kill(self, name: str) -> None:
        """kill -9, as the kernel's OOM killer or a lost machine would."""
        process = self.current.pop(name)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        common.stop(process)  # forgets it

    def oldest(self) -> str:
        return next(iter(self.current))

    def alive(self) -> int:
        for name, process in self.current.items():
            if process.poll() is not None and name not in self.dead_on_their_own:
                self.dead_on_their_own.append(name)
        return sum(process.poll() is None for process in self.current.values())

    def stop(self) -> None:
        for process in self.current.values():
            common.stop(process)


# The bench database ------------------------------------------------------------------------------

def connect(url: str, **kw):
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), **kw)


def break_user_ids(url: str, count: int, recipients: int) -> list[str]:
    """Give `count` people, spread over the audience, a malformed user ID (33 hex digits),
    which LINE refuses with a 400; returns the IDs as they now are."""
    broken = []
    with connect(url, autocommit=True) as connection:
        for i in range(count):
            offset = int(recipients * (i + 1) / (count + 1))
            broken.append(connection.execute(
                "UPDATE person SET line_user_id = line_user_id || '0' WHERE id ="
                " (SELECT id FROM person ORDER BY id OFFSET %s LIMIT 1) RETURNING line_user_id",
                (offset,)).fetchone()[0])
    return broken


def audience(url: str) -> set[str]:
    with connect(url) as connection:
        return {uid for (uid,) in connection.execute(
            "SELECT p.line_user_id FROM person p JOIN registration r ON r.person_id = p.id"
            " JOIN entity e ON e.id = r.entity_id"
            " WHERE e.code = %s AND r.status = 'active' AND p.following", (fanout.KAMIYAMA,))}


def wait_for_workers(url: str, names: list[str], timeout: float = 60) -> None:
    """Until every named worker has a connection open: up and polling."""
    deadline = time.monotonic() + timeout
    with connect(url, autocommit=True) as connection:
        while time.monotonic() < deadline:
            seen = {name for (name,) in connection.execute(
                "SELECT DISTINCT application_name FROM pg_stat_activity WHERE datname ="
                " current_database()")}
            if seen.issuperset(names):
                return
            time.sleep(0.1)
    raise RuntimeError(f"the workers {names} did not connect within {timeout} s")


def final_state(url: str, broadcast_id: int) -> dict:
    with connect(url) as connection:
        rows = connection.execute(
            "SELECT status, failure, count(*), coalesce(sum(recipient_count), 0)"
            " FROM outbox_message GROUP BY status, failure ORDER BY status, failure").fetchall()
        refused = connection.execute(
            "SELECT recipients, last_error FROM outbox_message"
            " WHERE status = 'failed' AND failure = 'refused' ORDER BY id").fetchall()
        retried = connection.execute(
            "SELECT count(*) FROM outbox_message WHERE attempts > 1").fetchone()[0]
        pause = connection.execute("SELECT reason, detail FROM outbox_pause").fetchone()
        status, queued = connection.execute(
            "SELECT status, recipients FROM broadcast WHERE id = %s", (broadcast_id,)).fetchone()
    return {"rows": [(s, f, int(n), int(p)) for s, f, n, p in rows],
            "refused_recipients": sorted({uid for recipients, _ in refused for uid in recipients}),
            "refusals": [error for _, error in refused], "retried_rows": retried,
            "paused": None if pause is None else {"reason": pause[0], "detail": pause[1]},
            "broadcast": status, "queued_recipients": queued}


class Monitor(threading.Thread):
    """Reads the bench database every 50 ms, through outages: the queue-wide pause (with
    `furusato outbox status`'s words the first time one is seen) and when nothing is left."""

    def __init__(self, url: str, broadcast_id: int):
        super().__init__(name="monitor", daemon=True)
        from bot.store.db import Database

        self.db = Database(url)
        self.broadcast_id = broadcast_id
        self.pauses: dict[tuple[str, str], dict] = {}  # (reason, since) → what was seen
        self.status_text: str | None = None
        self.done = threading.Event()
        self.done_at: float | None = None
        self.unreadable = 0  # ticks the database did not answer
        self.connected: dict[str, float] = {}  # worker name → first seen in pg_stat_activity
        self._stopping = threading.Event()

    def run(self) -> None:
        from sqlalchemy.exc import DBAPIError

        while not self._stopping.wait(POLL):
            try:
                self._tick()
            except DBAPIError:
                self.unreadable += 1

    def stop(self) -> None:
        self._stopping.set()
        self.join()
        self.db.dispose()

    def _tick(self) -> None:
        from sqlalchemy import text

        from bot.delivery import outbox
        from cli.outbox import describe

        now = datetime.now(UTC)
        with self.db.transaction() as session:
            pause = session.execute(text(
                "SELECT reason, since, resume_at, detail FROM outbox_pause")).first()
            if pause is not None and self.status_text is None:
                self.status_text = describe(outbox.queue_status(session, now), now)
            finished = session.execute(text(
                "SELECT status = 'queued' AND NOT EXISTS (SELECT 1 FROM outbox_message"
                " WHERE status = 'pending') FROM broadcast WHERE id = :id"),
                {"id": self.broadcast_id}).scalar()
            names = session.execute(text(
                "SELECT DISTINCT application_name FROM pg_stat_activity"
                " WHERE datname = current_database() AND application_name LIKE 'faults-w%'"))
            for (name,) in names:
                self.connected.setdefault(name, time.time())
        if pause is not None:
            seen = self.pauses.setdefault((pause.reason, pause.since.isoformat()), {
                "reason": pause.reason, "since": pause.since, "first_seen": time.time(),
                "detail": pause.detail, "resume_at": pause.resume_at})
            seen["last_seen"] = time.time()
            seen["resume_at"] = max(seen["resume_at"], pause.resume_at)
        if finished and not self.done.is_set():
            self.done_at = time.time()
            self.done.set()


# One run ----------------------------------------------------------------------------------------

@dataclass
class Run:
    """What a scenario's actions see and note while the broadcast is sent."""

    url: str
    database: str
    platform: PlatformProcess
    workers: Workers
    recipients: int
    rows: int
    confirm_at: float = 0.0
    monitor: Monitor | None = None
    notes: list[str] = field(default_factory=list)

    def since(self) -> float:
        return time.time() - self.confirm_at

    def note(self, text: str) -> None:
        self.notes.append(f"+{self.since():.2f} s {text}" if self.confirm_at
                          else f"before the confirm: {text}")

    def wait_until(self, condition: Callable[[], bool], timeout: float,
                   every: float = 0.01) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(every)
        return False

    def wait_for_accepted(self, fraction: float, timeout: float) -> bool:
        target = fraction * self.recipients
        return self.wait_until(lambda: self.platform.progress()["recipients"] >= target, timeout)


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    env: dict[str, str] = field(default_factory=dict)  # for the workers, over the defaults
    arm: Callable[[Run], None] | None = None     # before the confirm: faults to inject
    during: Callable[[Run], None] | None = None  # after the confirm: kills, outages
    malformed: int = 0                           # people whose user ID LINE refuses


def kill_workers(run: Run) -> None:
    for number, fraction in enumerate((0.15, 0.45, 0.75), start=1):
        if not run.wait_for_accepted(fraction, timeout=120):
            run.note(f"kill {number} not made: {fraction:.0%} never accepted within 120 s")
            continue
        victim = run.workers.oldest()
        accepted = run.platform.progress()["recipients"]
        run.workers.kill(victim)
        started = run.workers.start()
        run.note(f"kill -9 {victim} at {accepted:,} accepted; {started} started")


def kill_fan_out(run: Run) -> None:
    """Kill the worker running the fan-out's INSERT … SELECT once a first page is committed."""
    with connect(run.url, autocommit=True) as connection:
        deadline = time.monotonic() + 60
        status, victim = fan_out_state(connection)
        while victim is None and status != "queued" and time.monotonic() < deadline:
            time.sleep(0.002)
            status, victim = fan_out_state(connection)
        if victim is None:
            run.note(f"missed: no worker seen queuing a page after the first (broadcast "
                     f"{status}; an audience of one page?)")
            return
        cursor, queued = connection.execute(
            "SELECT cursor, recipients FROM broadcast").fetchone()
    run.workers.kill(victim)
    started = run.workers.start()
    run.note(f"kill -9 {victim} while it queued a page (cursor at person {cursor}, "
             f"{queued:,} queued); {started} started")


def fan_out_state(connection) -> tuple[str, str | None]:
    """The broadcast's status and, once a page is committed, the worker queuing the next."""
    status = connection.execute("SELECT status FROM broadcast").fetchone()[0]
    if status != "sending":
        return status, None
    found = connection.execute(
        "SELECT application_name FROM pg_stat_activity WHERE datname = current_database()"
        " AND state = 'active' AND application_name LIKE 'faults-w%'"
        " AND query LIKE '%INSERT INTO outbox_message%'").fetchone()
    return status, found[0] if found else None


def terminate_database(run: Run) -> None:
    from sqlalchemy import create_engine, text

    from bot.store.db import normalise_url

    if not run.wait_for_accepted(0.2, timeout=120):
        run.note("outage not made: 20 % never accepted within 120 s")
        return
    admin = create_engine(normalise_url(common.SERVER_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{run.database}" ALLOW_CONNECTIONS false'))
            ended = connection.execute(text(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = :name AND pid <> pg_backend_pid()"),
                {"name": run.database}).scalar()
            run.note(f"ALLOW_CONNECTIONS false; {ended} connections terminated")
            time.sleep(3)
            connection.execute(text(f'ALTER DATABASE "{run.database}" ALLOW_CONNECTIONS true'))
            run.note("ALLOW_CONNECTIONS true")
    finally:
        admin.dispose()


def scenarios() -> list[Scenario]:
    def fifth(run: Run) -> int:
        return max(1, run.rows // 5)

    def delayed(run: Run) -> None:
        run.platform.inject("multicast", None, times=fifth(run), delay=2.0)
        run.note(f"the first {fifth(run)} multicasts answered (and accepted) after 2 s")

    def errors(run: Run) -> None:
        times = max(1, math.ceil(run.rows * 0.3))
        run.platform.inject("multicast", 500, times=times,
                            body={"message": "An error occurred in the backend"})
        run.note(f"the first {times} multicasts answered 500")

    def rate_limit(retry_after: int | None) -> Callable[[Run], None]:
        def arm(run: Run) -> None:
            run.platform.window("multicast", 429, 3.0, after=fifth(run),
                                body={"message": RATE_LIMITED}, retry_after=retry_after)
        return arm

    def token_refused(run: Run) -> None:
        run.platform.window("*", 401, 2.0, after=fifth(run), body={"message": AUTH_FAILED})

    return [
        Scenario("kill9-workers", "kill -9 a worker 3 times during the send",
                 during=kill_workers),
        Scenario("kill9-fanout", "kill -9 the worker fanning out", during=kill_fan_out),
        Scenario("timeouts", "LINE answers after the client's 1 s timeout",
                 {"LINE_TIMEOUT_SECONDS": "1"}, arm=delayed),
        Scenario("5xx", "a run of 500s on multicast", arm=errors),
        Scenario("429", "429 for 3 s, no Retry-After", arm=rate_limit(None)),
        Scenario("429-retry-after", "429 for 3 s, Retry-After: 1", arm=rate_limit(1)),
        Scenario("401-2s", "every request 401 for 2 s", arm=token_refused),
        Scenario("db-terminate", "connections terminated, database closed 3 s",
                 during=terminate_database),
        Scenario("400", "3 malformed user IDs: LINE refuses their rows", malformed=3),
    ]


def worker_env(url: str, platform: PlatformProcess, lease: float, probe: float,
               scenario: Scenario) -> dict[str, str]:
    return {"FURUSATO_ENV": "test", "DATABASE_URL": url, "LOG_LEVEL": "WARNING",
            "LINE_API_HOST": f"{platform.url}/_dev/line",
            "LINE_CHANNEL_ACCESS_TOKEN": platform.token, "LINE_CHANNEL_SECRET": "bench",
            "OUTBOX_LEASE_SECONDS": f"{lease:g}", "OUTBOX_PROBE_SECONDS": f"{probe:g}",
            "LINE_TIMEOUT_SECONDS": "5", **scenario.env}


def run_scenario(scenario: Scenario, platform: PlatformProcess, recipients: int, lease: float,
                 probe: float, timeout: float, log: Path) -> dict:
    load = os.getloadavg()[0]
    with common.bench_database() as url, open(log, "a") as marker:
        marker.write(f"\n===== {scenario.name} {time.strftime('%H:%M:%S')} =====\n")
        marker.flush()
        log_from = log.stat().st_size
        database = url.rsplit("/", 1)[1]
        common.prepare_database(url, participating=(fanout.KAMIYAMA,))
        fanout.insert_registrants(url, recipients)
        malformed = break_user_ids(url, scenario.malformed, recipients)
        everyone = audience(url)
        platform.reset()
        env = worker_env(url, platform, lease, probe, scenario)
        workers = Workers(env, log)
        run = Run(url, database, platform, workers, len(everyone), math.ceil(len(everyone) / ROW))
        try:
            names = [workers.start() for _ in range(WORKERS)]
            wait_for_workers(url, names)
            if scenario.arm:
                scenario.arm(run)
            broadcast_id, run.confirm_at = fanout.confirm(url)
            run.monitor = Monitor(url, broadcast_id)
            run.monitor.start()
            if scenario.during:
                scenario.during(run)
            finished = run.monitor.done.wait(max(0.0, timeout - run.since()))
            if not finished:
                run.note(f"TIMED OUT after {timeout:g} s")
            alive = workers.alive()
        finally:
            if run.monitor:
                run.monitor.stop()
            workers.stop()
        state = final_state(url, broadcast_id)
        report = platform.report()
    return {"scenario": scenario.name, "summary": scenario.summary,
            "env": {k: v for k, v in env.items()
                    if k.startswith(("OUTBOX_", "LINE_TIMEOUT"))},
            "audience": len(everyone), "malformed": malformed,
            "tally": tally(everyone, report["received"], set(state["refused_recipients"])),
            "timeline": timeline(report["requests"], run.confirm_at),
            "window": report["window"], "state": state, "notes": run.notes,
            "pauses": list(run.monitor.pauses.values()), "status_text": run.monitor.status_text,
            "done_after": (run.monitor.done_at - run.confirm_at) if run.monitor.done_at else None,
            "unreadable_ticks": run.monitor.unreadable, "alive": alive,
            "workers_started": workers.started, "died": workers.dead_on_their_own,
            "confirm_at": run.confirm_at, "load": load, "log": log_counts(log, log_from),
            "platform_refusals": [[at - run.confirm_at, status, body]
                                  for at, status, body in report["refusals"]],
            "worker_times": {name: [at - run.confirm_at, connected_after(run, name)]
                             for name, at in workers.started_at.items()}}


def connected_after(run: Run, name: str) -> float | None:
    at = run.monitor.connected.get(name)
    return None if at is None else at - run.confirm_at


def log_counts(log: Path, start: int) -> dict[str, int]:
    """WARNING and ERROR lines the workers (and the platform) wrote during the scenario."""
    with open(log, "rb") as file:
        file.seek(start)
        lines = file.read().decode(errors="replace").splitlines()
    return {level: sum(f" {level} " in line for line in lines) for level in ("WARNING", "ERROR")}


# Figures ----------------------------------------------------------------------------------------

def tally(everyone: set[str], received: dict[str, int], refused: set[str]) -> dict:
    """Each recipient of the audience: delivered once, lost (and why) or doubled."""
    lost = [uid for uid in everyone if uid not in received]
    doubled = {uid: n for uid, n in received.items() if n > 1 and uid in everyone}
    return {"once": sum(1 for uid in everyone if received.get(uid) == 1),
            "lost": len(lost), "lost_refused": sum(1 for uid in lost if uid in refused),
            "lost_unexplained": sorted(uid for uid in lost if uid not in refused)[:20],
            "lost_unexplained_count": sum(1 for uid in lost if uid not in refused),
            "doubled": len(doubled), "doubled_max": max(doubled.values(), default=0),
            "doubled_sample": sorted(doubled)[:20],
            "strangers": len(set(received) - everyone)}


def timeline(requests: list[list], confirm_at: float) -> dict:
    """From the platform's request log: counts by status, the last acceptance, the longest gap
    between two accepted multicasts, and when refusals (401/429/5xx) came."""
    statuses = Counter(status for _at, _endpoint, status in requests)
    accepted = sorted(at for at, endpoint, status in requests
                      if status == 200 and endpoint == "multicast")
    gaps = [(b - a, a) for a, b in zip(accepted, accepted[1:])]
    longest = max(gaps, default=(0.0, confirm_at))
    refused = sorted(at for at, _endpoint, status in requests if status in (401, 403, 429)
                     or status >= 500)
    return {"requests": len(requests), "statuses": dict(sorted(statuses.items())),
            "first_accepted": accepted[0] - confirm_at if accepted else None,
            "last_accepted": accepted[-1] - confirm_at if accepted else None,
            "longest_gap": longest[0], "longest_gap_from": longest[1] - confirm_at,
            "refused_from": refused[0] - confirm_at if refused else None,
            "refused_to": refused[-1] - confirm_at if refused else None,
            "resumed": next((at - confirm_at for at in accepted if refused and at > refused[-1]),
                            None)}


def outbox_words(state: dict) -> str:
    sent = sum(n for status, _f, n, _p in state["rows"] if status == "sent")
    pending = sum(n for status, _f, n, _p in state["rows"] if status == "pending")
    failed = ", ".join(f"failed {failure} {n}" for status, failure, n, _p in state["rows"]
                       if status == "failed")
    paused = f"PAUSED ({state['paused']['reason']})" if state["paused"] else "not paused"
    return f"sent {sent}, {failed + ', ' if failed else ''}pending {pending}; {paused}"


def requests_words(line: dict) -> str:
    return f"{line['requests']} (" + ", ".join(
        f"{status}×{n}" for status, n in line["statuses"].items()) + ")"


def short_note(result: dict) -> str:
    line, state, env = result["timeline"], result["state"], result["env"]
    alive = f"workers alive {result['alive']}/{WORKERS}"
    match result["scenario"]:
        case "kill9-workers" | "kill9-fanout":
            return (f"lease {env['OUTBOX_LEASE_SECONDS']} s; {len(result['notes'])} event(s); "
                    f"{state['retried_rows']} rows resent; {alive}")
        case "timeouts":
            return (f"timeout {env['LINE_TIMEOUT_SECONDS']} s; 409×{line['statuses'].get(409, 0)}"
                    f"; {state['retried_rows']} rows retried")
        case "5xx":
            return f"{state['retried_rows']} rows retried"
        case "429" | "429-retry-after" | "401-2s":
            code = 401 if result["scenario"] == "401-2s" else 429
            return (f"{code}×{line['statuses'].get(code, 0)}; sending stopped "
                    f"{_stopped(line):.1f} s; pauses seen {len(result['pauses'])}")
        case "db-terminate":
            return f"{alive}; database unreadable {result['unreadable_ticks'] * POLL:.1f} s"
        case "400":
            return f"{len(state['refusals'])} rows refused (400)"
    return ""


def _stopped(line: dict) -> float:
    if line["refused_from"] is None or line["resumed"] is None:
        return 0.0
    return line["resumed"] - line["refused_from"]


def print_result(result: dict) -> None:
    t, line, state = result["tally"], result["timeline"], result["state"]
    print(f"\n--- {result['scenario']}: {result['summary']} "
          f"({result['audience']:,} recipients, {WORKERS} workers × {THREADS} threads; "
          + ", ".join(f"{k}={v}" for k, v in result["env"].items()) + ")")
    print(f"  load average at the start {result['load']:.1f}; worker log: "
          f"{result['log']['WARNING']} warnings, {result['log']['ERROR']} errors")
    for note in result["notes"]:
        print(f"  {note}")
    for name, (started, connected) in result["worker_times"].items():
        if started > 0:  # a restart
            print(f"  {name} started +{started:.2f} s, first connected to the database "
                  + (f"+{connected:.2f} s" if connected is not None else "after the end"))
    print(f"  delivered once {t['once']:,}, lost {t['lost']:,} (in refused rows "
          f"{t['lost_refused']:,}, unexplained {t['lost_unexplained_count']:,}), doubled "
          f"{t['doubled']:,} (at most {t['doubled_max']}×), accepted for strangers "
          f"{t['strangers']}")
    if t["lost_unexplained_count"]:
        print(f"  UNEXPLAINED LOSS, e.g. {t['lost_unexplained'][:5]}")
    if t["doubled"]:
        print(f"  DOUBLED, e.g. {t['doubled_sample'][:5]}")
    last = line["last_accepted"]
    print(f"  confirm → last multicast accepted {_s(last)}; → outbox done "
          f"{_s(result['done_after'])}; longest gap between accepted multicasts "
          f"{line['longest_gap']:.2f} s (from +{line['longest_gap_from']:.2f} s)")
    print(f"  requests {requests_words(line)}; rows resent/retried {state['retried_rows']}")
    if line["refused_from"] is not None:
        print(f"  401/403/429/5xx from +{line['refused_from']:.2f} s to "
              f"+{line['refused_to']:.2f} s; next acceptance {_s(line['resumed'])}")
    if result["window"] and result["window"]["started"]:
        w = result["window"]
        print(f"  platform answered {w['status']} to {w['endpoint']} from "
              f"+{w['started'] - result['confirm_at']:.2f} s for {w['seconds']:g} s"
              + (f" (Retry-After: {w['retry_after']})" if w["retry_after"] is not None else ""))
    for pause in result["pauses"]:
        print(f"  pause seen: {pause['reason']} since {pause['since']:%H:%M:%S.%f}, "
              f"in the table +{pause['first_seen'] - result['confirm_at']:.2f} s → "
              f"+{pause['last_seen'] - result['confirm_at']:.2f} s: {(pause['detail'] or '').strip()}")
    if result["status_text"]:
        print("  `furusato outbox status` while paused:")
        for text in result["status_text"].splitlines():
            print(f"    {text}")
    for at, status, body in result["platform_refusals"]:
        print(f"  the platform answered {status} at +{at:.2f} s: {body.strip()[:160]}")
    for refusal, rows in sorted(Counter(state["refusals"]).items()):
        print(f"  refused ({rows} row(s)): {refusal.strip()[:160]}")
    print(f"  outbox: {outbox_words(state)}; broadcast {state['broadcast']} "
          f"({state['queued_recipients']:,} queued); workers started {result['workers_started']}"
          f", alive at the end {result['alive']}/{WORKERS}"
          + (f", died on their own: {result['died']}" if result["died"] else ""))


def _s(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.2f} s"


def print_table(results: list[dict]) -> None:
    rows = []
    for r in results:
        t = r["tally"]
        lost = f"{t['lost']:,}"
        if t["lost"]:
            lost += f" ({t['lost_refused']:,} refused)"
        rows.append([r["scenario"], f"{r['audience']:,}", f"{t['once']:,}", lost,
                     f"{t['doubled']:,}", _s(r["timeline"]["last_accepted"]).removesuffix(" s"),
                     requests_words(r["timeline"]), outbox_words(r["state"]), short_note(r)])
    print(common.table(["scenario", "recipients", "delivered once", "lost", "doubled",
                        "duration s", "requests", "outbox at the end", "notes"], rows))


# Main -------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="scenarios, comma list (default: all)")
    parser.add_argument("--recipients", type=int, default=50_000)
    parser.add_argument("--lease", type=float, default=10.0,
                        help="OUTBOX_LEASE_SECONDS for the workers (the product's default is 30)")
    parser.add_argument("--probe", type=float, default=1.0,
                        help="OUTBOX_PROBE_SECONDS for the workers (the product's default is 10)")
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds a scenario may take from the confirm")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    chosen = scenarios()
    if args.only:
        names = args.only.split(",")
        unknown = set(names) - {s.name for s in chosen}
        if unknown:
            parser.error(f"unknown scenarios {sorted(unknown)}; "
                         f"known: {', '.join(s.name for s in chosen)}")
        chosen = [s for s in chosen if s.name in names]

    common.install_signal_handlers()
    machine = common.machine_description()
    print(machine, flush=True)
    log = Path(tempfile.gettempdir()) / "furusato-bench-faults.log"
    log.write_bytes(b"")
    platform = PlatformProcess(log)
    print(f"LINE platform: {platform.url} (own process, gunicorn); worker log: {log}; "
          f"OUTBOX_LEASE_SECONDS={args.lease:g}, OUTBOX_PROBE_SECONDS={args.probe:g}",
          flush=True)
    results = []
    try:
        for scenario in chosen:
            result = run_scenario(scenario, platform, args.recipients, args.lease, args.probe,
                                  args.timeout, log)
            print_result(result)
            results.append(result)
            sys.stdout.flush()
    finally:
        common.stop(platform.process)
    print(f"\nDelivery under faults, {args.recipients:,} recipients per scenario, {WORKERS} "
          f"`furusato worker --threads {THREADS}` processes:")
    print_table(results)
    print("\n" + machine)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--serve-platform":
        serve_platform(int(sys.argv[2]), sys.argv[3])
        sys.exit(0)
    try:
        sys.exit(main())
    except (KeyboardInterrupt, common.Interrupted):
        print("interrupted; processes stopped and the bench database dropped", file=sys.stderr)
        sys.exit(130)
