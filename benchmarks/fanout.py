"""Fan-out benchmark: a broadcast to N synthetic registrants of one entity, confirm → last multicast.

    .venv/bin/python benchmarks/fanout.py                              # 100,000 and 1,000,000
    .venv/bin/python benchmarks/fanout.py --sizes 100000 --workers 1,8
    .venv/bin/python benchmarks/fanout.py --sizes 1000000 --profile --top 0   # where time goes

For each audience size, on a fresh PostgreSQL database `bench_<random>` (dropped at the end,
even on Ctrl+C):

1. migrate, load the shipped entities, make 363421 神山町 participate, and COPY N people (LINE
   user ID `U` + 32 hex digits, following) with an active basic registration there;
2. **queue** — in a child process, as the worker process would: `fanout.create(...)` (the
   staff's confirm, committed), then `fanout.fan_out_page` one transaction at a time until
   every recipient is in the outbox (one INSERT … SELECT per page of 20,000, one row per 500
   recipients); timed, and the process's peak RSS read from /proc/self/status (VmHWM:
   `resource.getrusage`'s ru_maxrss survives execve on Linux and would show the parent's size
   at the fork);
3. **send** — W `furusato worker` processes (the Procfile's `worker`, sharing the queue with
   FOR UPDATE SKIP LOCKED) send every row to the local LINE platform, which runs in a process of
   its own (so it does not share a GIL with anyone) and only counts what it accepts. The workers
   are started first and left idle; the clock starts when every row becomes due and stops at
   the last multicast the platform accepted; each worker's peak RSS is read from /proc (VmHWM).
   The same rows are made pending again (new retry keys) for each worker count;
4. **as in production** — W `furusato worker` processes already up and polling when staff
   confirm; each fans due broadcasts out in a thread of its own (`fanout.fan_out_page`,
   the broadcast row locked so that one worker queues a page at a time) while its main thread
   claims and sends: confirm → all queued, and confirm → last multicast accepted.

Prints recipients/s queued and sent, confirm → last accepted, multicast requests, peak memory,
and the CPU each process used.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import common

KAMIYAMA = "363421"
MESSAGES = [{"type": "text", "text": "【神山町】\n棚田の草刈りの参加者を募集します。"}]
ROWS_PER_COPY_CHUNK = 100_000


# The local LINE platform, in a process of its own ----------------------------------------------

def serve_platform(port: int, access_token: str, server: str) -> None:
    """`fanout.py --serve-platform PORT TOKEN SERVER`: the real platform, counting instead of
    keeping; under gunicorn (one process, keep-alive connections, as LINE keeps them) or
    werkzeug's threaded server (a new connection and thread for every request)."""
    from flask import Flask, jsonify
    from werkzeug.serving import WSGIRequestHandler, make_server

    from bot.devtools import line_platform

    class CountingPlatform(line_platform.LinePlatform):
        """Every check of the real platform; accepted deliveries are counted, not kept in memory
        (a million Delivery records would measure the platform, not the bot)."""

        def reset(self) -> None:
            super().reset()
            self.accepted = {"requests": 0, "recipients": 0, "first_at": None, "last_at": None}

        def _deliver(self, request_id, via, recipients, messages, retry_key):
            sent = super()._deliver(request_id, via, recipients, messages, retry_key)
            self._deliveries.clear()
            del self.requests[:-100]
            now = time.time()
            accepted = self.accepted
            accepted["requests"] += 1
            accepted["recipients"] += len(recipients)
            accepted["first_at"] = accepted["first_at"] or now
            accepted["last_at"] = now
            return sent

    class Quiet(WSGIRequestHandler):
        protocol_version = "HTTP/1.1"  # werkzeug still closes every connection

        def log_request(self, *args, **kwargs):
            pass

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = Flask("bench_line_platform")
    app.config["LINE_CHANNEL_ACCESS_TOKEN"] = access_token
    line_platform.init_app(app)
    platform = CountingPlatform()
    app.extensions["line_platform"] = platform

    @app.get("/_bench/counts")
    def counts():
        with platform._lock:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            return jsonify({**platform.accepted, "cpu": usage.ru_utime + usage.ru_stime,
                            "peak_rss_kb": peak_rss_kb(os.getpid())})

    @app.post("/_bench/reset")
    def reset():
        platform.reset()
        return jsonify(ok=True)

    if server == "werkzeug":
        httpd = make_server("127.0.0.1", port, app, threaded=True, request_handler=Quiet)
        httpd.daemon_threads = True
        httpd.serve_forever()
        return
    common.serve_under_gunicorn(app, port)


class PlatformProcess:
    def __init__(self, log: Path, server: str = "gunicorn"):
        self.port = common.free_port()
        self.token = secrets.token_hex(24)
        self.process = common.spawn([sys.executable, __file__, "--serve-platform", str(self.port),
                                     self.token, server], log=log)
        self.url = f"http://127.0.0.1:{self.port}"
        common.wait_for_http(f"{self.url}/_bench/counts", self.process)

    def counts(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/_bench/counts", timeout=10) as response:
            return json.loads(response.read())

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/_bench/reset", method="POST", data=b"")
        urllib.request.urlopen(request, timeout=10).close()


# Synthetic registrants --------------------------------------------------------------------------

def insert_registrants(url: str, count: int) -> float:
    """COPY `count` people with an active basic registration at 神山町; returns seconds taken."""
    import psycopg

    started = time.perf_counter()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as connection:
        entity_id = connection.execute("SELECT id FROM entity WHERE code = %s", (KAMIYAMA,)).fetchone()[0]
        now = datetime.now(UTC)
        with connection.cursor() as cursor:
            with cursor.copy("COPY person (line_user_id, following, created_at) FROM STDIN") as copy:
                for start in range(0, count, ROWS_PER_COPY_CHUNK):
                    chunk = min(ROWS_PER_COPY_CHUNK, count - start)
                    copy.write("".join(f"U{secrets.token_hex(16)}\tt\t{now.isoformat()}\n"
                                       for _ in range(chunk)))
            cursor.execute(
                "INSERT INTO registration (person_id, entity_id, kind, status, origin,"
                " registered_at, counted_in_statistics)"
                " SELECT id, %s, 'basic', 'active', 'direct', %s, true FROM person",
                (entity_id, now))
        connection.commit()
        connection.autocommit = True
        connection.execute("VACUUM ANALYZE person")
        connection.execute("VACUUM ANALYZE registration")
    return time.perf_counter() - started


def _connect(url: str, **kw):
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), **kw)


def reset_outbox(url: str, pending_again: bool) -> None:
    """Before another run: every row pending again but not due yet (same rows, new retry keys),
    or no rows at all."""
    with _connect(url, autocommit=True) as connection:
        if pending_again:
            connection.execute(
                "UPDATE outbox_message SET status = 'pending', attempts = 0,"
                " available_at = now() + interval '1 day', sent_at = NULL, last_error = NULL,"
                " retry_key = gen_random_uuid()::text")
        else:
            connection.execute("DELETE FROM outbox_message")
            connection.execute("DELETE FROM broadcast")
        connection.execute("VACUUM ANALYZE outbox_message")


def make_due(url: str) -> None:
    with _connect(url, autocommit=True) as connection:
        connection.execute("UPDATE outbox_message SET available_at = now()")


def wait_for_connections(url: str, database: str, count: int, timeout: float = 60) -> None:
    """Until `count` sessions are open on the database: the workers are up and polling."""
    deadline = time.monotonic() + timeout
    with _connect(url, autocommit=True) as connection:
        while time.monotonic() < deadline:
            found = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
                " AND pid <> pg_backend_pid()", (database,)).fetchone()[0]
            if found >= count:
                time.sleep(0.5)
                return
            time.sleep(0.2)
    raise RuntimeError("the workers did not connect to the database")


def outbox_status(url: str) -> dict[str, int]:
    with _connect(url, autocommit=True) as connection:
        return dict(connection.execute(
            "SELECT status, count(*) FROM outbox_message GROUP BY status").fetchall())


# Queuing: the fan-out, in a child process so its peak memory is its own -------------------------

def fan_out(url: str) -> None:
    """`fanout.py --fan-out URL`: confirm a broadcast, queue every page; prints JSON figures."""
    from bot.delivery import fanout
    from bot.domain.audience import Audience
    from bot.services import entities
    from web import create_app

    app = create_app({"FURUSATO_ENV": "test", "DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    db = app.extensions["db"]
    # VmHWM, not getrusage's ru_maxrss: Linux keeps ru_maxrss across execve, so a child would
    # report its parent's size at the fork if that was larger.
    baseline_kb = peak_rss_kb(os.getpid())
    with db.engine.connect() as connection:  # the pool's one connection: its server process
        from sqlalchemy import text
        backend = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    backend_cpu0 = common.process_tree_cpu(backend)
    cpu0 = os.times()
    confirm_at = time.time()
    with db.transaction() as session:  # the staff's confirm: the broadcast row, committed
        now = datetime.now(UTC)
        entity = entities.by_code(session, KAMIYAMA)
        broadcast = fanout.create(session, entity, MESSAGES, "bench", Audience(), now, now)
        broadcast_id = broadcast.id
    pages = 0
    while True:
        with db.transaction() as session:
            more = fanout.fan_out_page(session, broadcast_id, datetime.now(UTC))
        if not more:
            break
        pages += 1
    queued_at = time.time()
    cpu1 = os.times()
    backend_cpu = common.process_tree_cpu(backend) - backend_cpu0
    with db.transaction() as session:
        from bot.store.models import Broadcast
        recipients = session.get(Broadcast, broadcast_id).recipients
    print(json.dumps({"confirm_at": confirm_at, "queued_at": queued_at, "pages": pages,
                      "recipients": recipients,
                      "cpu": (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system),
                      "postgres_cpu": backend_cpu, "connections": db.engine.pool.checkedin(),
                      "baseline_kb": baseline_kb,
                      "maxrss_kb": peak_rss_kb(os.getpid()),
                      "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


def run_fan_out(url: str) -> dict:
    process = common.spawn([sys.executable, __file__, "--fan-out", url], capture=True)
    try:
        stdout, stderr = process.communicate()
    finally:
        common.stop(process)
    if process.returncode != 0:
        raise RuntimeError(f"fan-out failed:\n{stderr[-3000:]}")
    return json.loads(stdout.strip().splitlines()[-1])


# Sending: `furusato worker` processes ------------------------------------------------------------

def start_workers(count: int, url: str, platform: PlatformProcess, log: Path,
                  threads: int, batch: int) -> list[subprocess.Popen]:
    furusato = str(Path(sys.executable).parent / "furusato")
    env = {"FURUSATO_ENV": "test", "DATABASE_URL": url, "LOG_LEVEL": "WARNING",
           "LINE_API_HOST": f"{platform.url}/_dev/line",
           "LINE_CHANNEL_ACCESS_TOKEN": platform.token, "LINE_CHANNEL_SECRET": "bench"}
    return [common.spawn([furusato, "worker", "--threads", str(threads), "--batch", str(batch)],
                         env=env, log=log) for _ in range(count)]


def peak_rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def wait_until_sent(platform: PlatformProcess, expected: int, workers: list[subprocess.Popen],
                    timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        counts = platform.counts()
        if counts["recipients"] >= expected:
            return counts
        for worker in workers:
            if worker.poll() is not None:
                raise RuntimeError(f"a worker exited with {worker.returncode}; see the log")
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {counts['recipients']} of {expected} recipients accepted "
                               f"after {timeout} s")
        time.sleep(0.05)


def run_send(url: str, database: str, platform: PlatformProcess, workers: int, expected: int,
             log: Path, threads: int, batch: int, timeout: float) -> dict:
    """Workers up and idle first; then every row becomes due at once, and the clock starts."""
    reset_outbox(url, pending_again=True)
    platform.reset()
    processes = start_workers(workers, url, platform, log, threads, batch)
    try:
        wait_for_connections(url, database, workers)
        platform_cpu0 = platform.counts()["cpu"]
        pg0 = common.postgres_cpu(database)
        worker_cpu0 = sum(common.process_tree_cpu(p.pid) for p in processes)
        machine0, own0, window0 = common.machine_busy()[0], common.self_cpu(), time.time()
        started_at = time.time()
        make_due(url)
        counts = wait_until_sent(platform, expected, processes, timeout)
        machine = common.machine_busy()[0] - machine0 - (common.self_cpu() - own0)
        window = time.time() - window0
        worker_cpu = sum(common.process_tree_cpu(p.pid) for p in processes) - worker_cpu0
        postgres_cpu = common.postgres_cpu(database) - pg0
        peaks = [peak_rss_kb(p.pid) for p in processes]
    finally:
        for process in processes:
            common.stop(process)
    return {"workers": workers, "started_at": started_at, "first_at": counts["first_at"],
            "last_at": counts["last_at"], "requests": counts["requests"],
            "recipients": counts["recipients"], "worker_cpu": worker_cpu,
            "platform_cpu": counts["cpu"] - platform_cpu0, "postgres_cpu": postgres_cpu,
            "machine_cpu": machine, "window": window,
            "worker_peak_kb": max(p or 0 for p in peaks), "status": outbox_status(url)}


def confirm(url: str) -> tuple[int, float]:
    """The staff's confirm, as the chat does it: the broadcast row, committed. (id, when)"""
    from bot.delivery import fanout
    from bot.domain.audience import Audience
    from bot.services import entities
    from bot.store.db import Database

    db = Database(url)
    try:
        at = time.time()
        with db.transaction() as session:
            now = datetime.now(UTC)
            entity = entities.by_code(session, KAMIYAMA)
            broadcast_id = fanout.create(session, entity, MESSAGES, "bench", Audience(), now,
                                             now).id
        return broadcast_id, at
    finally:
        db.dispose()


def run_production(url: str, database: str, platform: PlatformProcess, workers: int,
                   expected: int, log: Path, threads: int, batch: int, timeout: float) -> dict:
    """As in production: the workers are up and polling when staff confirm; they fan the
    broadcast out themselves (`Worker.run_once` → `fanout.fan_out_due`) and send."""
    reset_outbox(url, pending_again=False)
    platform.reset()
    processes = start_workers(workers, url, platform, log, threads, batch)
    try:
        wait_for_connections(url, database, workers)
        platform_cpu0 = platform.counts()["cpu"]
        pg0 = common.postgres_cpu(database)
        worker_cpu0 = sum(common.process_tree_cpu(p.pid) for p in processes)
        machine0, own0, window0 = common.machine_busy()[0], common.self_cpu(), time.time()
        broadcast_id, confirm_at = confirm(url)
        queued_at = None
        deadline = time.monotonic() + timeout
        with _connect(url, autocommit=True) as connection:
            while True:
                counts = platform.counts()
                if queued_at is None and connection.execute(
                        "SELECT status FROM broadcast WHERE id = %s",
                        (broadcast_id,)).fetchone()[0] == "queued":
                    queued_at = time.time()
                if counts["recipients"] >= expected and queued_at is not None:
                    break
                for process in processes:
                    if process.poll() is not None:
                        raise RuntimeError(f"a worker exited with {process.returncode}; see {log}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {counts['recipients']} of {expected} recipients "
                                       f"accepted after {timeout} s")
                time.sleep(0.05)
        machine = common.machine_busy()[0] - machine0 - (common.self_cpu() - own0)
        window = time.time() - window0
        worker_cpu = sum(common.process_tree_cpu(p.pid) for p in processes) - worker_cpu0
        postgres_cpu = common.postgres_cpu(database) - pg0
        peaks = [peak_rss_kb(p.pid) for p in processes]
    finally:
        for process in processes:
            common.stop(process)
    return {"workers": workers, "confirm_at": confirm_at, "queued_at": queued_at,
            "last_at": counts["last_at"], "requests": counts["requests"],
            "recipients": counts["recipients"], "worker_cpu": worker_cpu,
            "platform_cpu": counts["cpu"] - platform_cpu0, "postgres_cpu": postgres_cpu,
            "machine_cpu": machine, "window": window,
            "worker_peak_kb": max(p or 0 for p in peaks), "status": outbox_status(url)}


# Profiles ---------------------------------------------------------------------------------------

def _best(function, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def profile(url: str, size: int, platform: PlatformProcess, top: int, batch: int) -> None:
    """Where the time goes: each step of queuing and sending timed on its own (rolled back
    where it writes), beside the check a claim falls back to after a deletion, then cProfile
    of one batch claimed, sent and recorded."""
    import cProfile
    import pstats
    import uuid

    import urllib3
    from sqlalchemy import select, update

    from bot.delivery import fanout, outbox
    from bot.delivery.worker import Worker
    from bot.domain.audience import Audience
    from bot.services import audience, entities
    from bot.store.models import OutboxMessage, OutboxStatus
    from web import create_app

    app = create_app({"FURUSATO_ENV": "test", "DATABASE_URL": url, "LOG_LEVEL": "WARNING",
                      "LINE_API_HOST": f"{platform.url}/_dev/line",
                      "LINE_CHANNEL_ACCESS_TOKEN": platform.token})
    db = app.extensions["db"]
    everyone = Audience()

    def rolled_back(function):
        def run():
            with db.sessions() as session, session.begin():
                result = function(session)
                session.rollback()
                return result
        return run

    print(f"\n=== queuing: one page of {fanout.PAGE:,} recipients (bot/delivery/fanout.py "
          "fan_out_page → outbox.multicast_selected, one INSERT … SELECT; rolled back) ===")
    with db.transaction() as session:
        entity = entities.by_code(session, KAMIYAMA)
        entity_id = entity.id
    for after in (0, size // 2, max(0, size - fanout.PAGE)):
        def one_page(session, after=after):
            page = audience.page_query(session.get(type(entity), entity_id), everyone, after,
                                       fanout.PAGE)
            return outbox.multicast_selected(session, page, MESSAGES, datetime.now(UTC), None)
        seconds = _best(rolled_back(one_page))
        print(f"  after person {after:>9,}: {seconds * 1000:6.1f} ms "
              f"= {fanout.PAGE / seconds:,.0f} recipients/s")

    # The real outbox, for the sending side.
    with db.transaction() as session:
        now = datetime.now(UTC)
        broadcast_id = fanout.create(session, entity, MESSAGES, "bench", everyone, now, now).id
    while True:
        with db.transaction() as session:
            if not fanout.fan_out_page(session, broadcast_id, datetime.now(UTC)):
                break

    worker = Worker(app, threads=1, batch=batch)
    print(f"\n=== sending: claiming {batch} rows ({batch * 500:,} recipients; bot/delivery/outbox.py claim; "
          "rolled back) ===")
    with db.transaction() as session:
        sample = list(session.scalars(select(OutboxMessage).limit(batch)))
    user_ids = sorted({uid for message in sample for uid in message.recipients})
    cpu = time.thread_time()
    whole = _best(rolled_back(lambda s: outbox.claim(s, datetime.now(UTC), batch, worker.lease)))
    cpu = (time.thread_time() - cpu) / 3
    print(f"  claim: {whole * 1000:.1f} ms ({cpu * 1000:.1f} ms of it this process's CPU) "
          f"= {whole / batch * 1000:.2f} ms per multicast row")
    full = _best(rolled_back(lambda s: outbox._reachable(s, user_ids)))
    print(f"  the full check a claim falls back to when someone deleted their data since the rows "
          f"were queued (`= ANY`, {len(user_ids):,} user IDs): {full * 1000:.0f} ms")

    print(f"\n=== sending: {batch} rows one after another (bot/line/__init__.py send) ===")
    with db.transaction() as session:
        claimed = outbox.claim(session, datetime.now(UTC), batch, worker.lease)
    gateway = worker._gateway()
    outcomes = []
    started = time.perf_counter()
    for message in claimed:
        outcomes.append(worker._send(message, lambda: datetime.now(UTC)))
    send_seconds = time.perf_counter() - started
    http = urllib3.PoolManager()
    started = time.perf_counter()
    for message in claimed:
        response = http.request(
            "POST", f"{platform.url}/_dev/line/v2/bot/message/multicast",
            body=json.dumps(outbox.request_body(message)).encode(),
            headers={"Authorization": f"Bearer {platform.token}",
                     "Content-Type": "application/json", "X-Line-Retry-Key": str(uuid.uuid4())})
        assert response.status == 200, response.data
    raw_seconds = time.perf_counter() - started
    n = len(claimed)
    with db.sessions() as session, session.begin():
        started = time.perf_counter()
        outbox.record(session, [result for result, _ in outcomes], datetime.now(UTC))
        session.flush()
        record_seconds = time.perf_counter() - started
        session.rollback()
    assert gateway is worker._gateway()
    print(f"  send through line-bot-sdk's ApiClient.call_api (the stored JSON): "
          f"{send_seconds / n * 1000:.2f} ms per row")
    print(f"  the same JSON body POSTed with urllib3 alone:                     "
          f"{raw_seconds / n * 1000:.2f} ms per row (the platform's own work is in both)")
    print(f"  record the batch's results (outbox.record, one UPDATE; rolled back): "
          f"{record_seconds / n * 1000:.2f} ms per row")

    if top <= 0:
        return
    profiler = cProfile.Profile()
    with db.transaction() as session:
        session.execute(update(OutboxMessage).values(status=OutboxStatus.PENDING,
                                                     available_at=datetime.now(UTC)))
    profiler.enable()
    summary = worker._claim_send_record(batch, lambda: datetime.now(UTC), map)
    profiler.disable()
    print(f"\n=== cProfile: claim, send and record {summary.total} rows, in one thread ===")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(top)


# Main -------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="audience sizes, comma list")
    parser.add_argument("--workers", default="1,2,4", help="worker process counts, comma list")
    parser.add_argument("--threads", type=int, default=8, help="each worker's sending threads")
    parser.add_argument("--batch", type=int, default=50, help="rows a worker claims at a time")
    parser.add_argument("--no-production", action="store_true",
                        help="skip the runs where the workers fan out and send, as in production")
    parser.add_argument("--platform-server", choices=["gunicorn", "werkzeug"], default="gunicorn",
                        help="what serves the local LINE platform: gunicorn keeps connections "
                             "alive (as LINE does); werkzeug opens one per request")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--profile", action="store_true",
                        help="instead of the runs: time each step of queuing and sending, beside "
                             "cheaper prototypes, then cProfile (first size only)")
    parser.add_argument("--top", type=int, default=25, help="cProfile lines; 0 = no cProfile")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.sizes.split(",")]
    worker_counts = [int(n) for n in args.workers.split(",")]

    common.install_signal_handlers()
    print(common.machine_description(), flush=True)
    log = Path(tempfile.gettempdir()) / "furusato-bench-fanout.log"
    log.write_bytes(b"")
    platform = PlatformProcess(log, args.platform_server)
    print(f"LINE platform: {platform.url} (own process, {args.platform_server}); "
          f"worker log: {log}", flush=True)
    results = []
    try:
        for size in sizes:
            with common.bench_database() as url:
                database = url.rsplit("/", 1)[1]
                common.prepare_database(url, participating=(KAMIYAMA,))
                seconds = insert_registrants(url, size)
                print(f"\n{size:,} registrants: COPY + INSERT … SELECT + VACUUM ANALYZE "
                      f"{seconds:.1f} s", flush=True)
                if args.profile:
                    profile(url, size, platform, args.top, args.batch)
                    return 0
                result = {"size": size, "copy_seconds": seconds}
                queue = run_fan_out(url)
                result["queue"] = queue
                print(f"  queued {queue['recipients']:,} in "
                      f"{queue['queued_at'] - queue['confirm_at']:.2f} s "
                      f"({queue['pages']} pages), peak RSS {queue['maxrss_kb'] / 1024:.0f} MiB",
                      flush=True)
                result["send"] = []
                for workers in worker_counts:
                    reset_outbox(url, pending_again=True)
                    sent = run_send(url, database, platform, workers, queue["recipients"], log,
                                    args.threads, args.batch, args.timeout)
                    result["send"].append(sent)
                    print(f"  sent by {workers} worker(s) in {sent['last_at'] - sent['started_at']:.2f} s"
                          f" ({sent['requests']} multicasts), outbox {sent['status']}", flush=True)
                result["production"] = []
                for workers in ([] if args.no_production else worker_counts):
                    run = run_production(url, database, platform, workers, queue["recipients"],
                                         log, args.threads, args.batch, args.timeout)
                    result["production"].append(run)
                    print(f"  {workers} worker(s) fanning out and sending: confirm → all queued "
                          f"{run['queued_at'] - run['confirm_at']:.2f} s, → last accepted "
                          f"{run['last_at'] - run['confirm_at']:.2f} s", flush=True)
                results.append(result)
    finally:
        common.stop(platform.process)
    report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


def report(results: list[dict]) -> None:
    print("\nQueuing (confirm → every recipient in the outbox; one fan-out process):")
    rows = []
    for r in results:
        q = r["queue"]
        seconds = q["queued_at"] - q["confirm_at"]
        rows.append([f"{r['size']:,}", f"{q['recipients']:,}", f"{seconds:.2f}",
                     f"{q['recipients'] / seconds:,.0f}", str(q["pages"]), f"{q['cpu']:.1f}",
                     f"{q['postgres_cpu']:.1f}", f"{q['baseline_kb'] / 1024:.0f}",
                     f"{q['maxrss_kb'] / 1024:.0f}"])
    print(common.table(["audience", "queued", "seconds", "recipients/s", "pages",
                        "fan-out CPU s", "PostgreSQL CPU s", "RSS at start MiB",
                        "peak RSS MiB"], rows))

    print("\nSending (workers started → last multicast accepted by the platform):")
    rows = []
    for r in results:
        for s in r["send"]:
            seconds = s["last_at"] - s["started_at"]
            rows.append([f"{r['size']:,}", str(s["workers"]), f"{s['requests']:,}",
                         f"{s['recipients']:,}", f"{seconds:.2f}",
                         f"{s['recipients'] / seconds:,.0f}", f"{s['requests'] / seconds:,.0f}",
                         f"{s['worker_cpu']:.1f}", f"{s['platform_cpu']:.1f}",
                         f"{s['postgres_cpu']:.1f}", _other_cores(s),
                         f"{s['worker_peak_kb'] / 1024:.0f}"])
    print(common.table(["audience", "workers", "multicasts", "recipients", "seconds",
                        "recipients/s", "requests/s", "workers CPU s", "platform CPU s",
                        "PostgreSQL CPU s", "other cores", "peak RSS per worker MiB"], rows))

    print("\nAs in production — `furusato worker` processes up and polling when staff confirm; each "
          "fans out in a thread of its own (fanout.fan_out_page) while it sends:")
    rows = []
    for r in results:
        for p in r["production"]:
            queued = p["queued_at"] - p["confirm_at"]
            total = p["last_at"] - p["confirm_at"]
            rows.append([f"{r['size']:,}", str(p["workers"]), f"{queued:.2f}",
                         f"{total:.2f}", f"{p['recipients'] / total:,.0f}",
                         f"{p['requests']:,}", f"{p['worker_cpu']:.1f}",
                         f"{p['platform_cpu']:.1f}", f"{p['postgres_cpu']:.1f}",
                         _other_cores(p), f"{p['worker_peak_kb'] / 1024:.0f}"])
    print(common.table(["audience", "workers", "confirm → all queued s",
                        "confirm → last accepted s", "recipients/s", "multicasts",
                        "workers CPU s", "platform CPU s", "PostgreSQL CPU s", "other cores",
                        "peak RSS per worker MiB"], rows))
    print("other cores: the machine's busy CPU during the run minus the workers', the "
          "platform's, the bench database's and this script's, per second: other people's work.")
    print("\nTarget: >= 100,000 recipients/s queued and sent; peak memory flat from 100k to 1M.")


def _other_cores(run: dict) -> str:
    other = run["machine_cpu"] - run["worker_cpu"] - run["platform_cpu"] - run["postgres_cpu"]
    return f"{max(0.0, other) / run['window']:.2f}"


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--serve-platform":
        serve_platform(int(sys.argv[2]), sys.argv[3], sys.argv[4])
        sys.exit(0)
    if len(sys.argv) >= 2 and sys.argv[1] == "--fan-out":
        fan_out(sys.argv[2])
        sys.exit(0)
    try:
        sys.exit(main())
    except (KeyboardInterrupt, common.Interrupted):
        print("interrupted; processes stopped and the bench database dropped", file=sys.stderr)
        sys.exit(130)
