"""Shared pieces of the benchmark scripts: a throw-away PostgreSQL database, child processes
that are always stopped, CPU accounting from /proc, percentiles and the machine description.

Benchmarks are run by hand and print figures; nothing here is imported by the product or the
tests.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
#: The PostgreSQL server the bench databases are made on (any database of it; trust auth here).
SERVER_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CLK_TCK = os.sysconf("SC_CLK_TCK")


# Stopping on Ctrl+C and on SIGTERM ------------------------------------------------------------

class Interrupted(BaseException):
    """SIGTERM or SIGHUP: unwound like Ctrl+C so every `finally` cleans up."""


def _raise_interrupted(signum, _frame):
    raise Interrupted(signal.Signals(signum).name)


def install_signal_handlers() -> None:
    # Ctrl+C raises KeyboardInterrupt even when a shell started us in the background, where
    # SIGINT would otherwise be ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_interrupted)


# A fresh database -----------------------------------------------------------------------------

def _database_url(name: str) -> str:
    return SERVER_URL.rsplit("/", 1)[0] + "/" + name


@contextlib.contextmanager
def bench_database(prefix: str = "bench") -> Iterator[str]:
    """CREATE a database named bench_<random> and DROP it on the way out, whatever happens."""
    from sqlalchemy import create_engine, text

    from bot.store.db import normalise_url

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(normalise_url(SERVER_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    dropped = False

    def drop() -> None:
        nonlocal dropped
        if dropped:
            return
        dropped = True
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    atexit.register(drop)  # a second line of defence if the `finally` below never runs
    try:
        yield _database_url(name)
    finally:
        # Ctrl+C pressed again while dropping must not leave the database behind.
        with _signals_deferred():
            drop()
            print(f"dropped database {name}", file=sys.stderr)


@contextlib.contextmanager
def _signals_deferred():
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def prepare_database(url: str, participating: Sequence[str] = ("363421", "360007")) -> None:
    """Migrate, load the shipped entities, let some participate (as `furusato` would)."""
    from bot.services import entities
    from bot.store import migrate
    from bot.store.db import Database

    db = Database(url)
    try:
        migrate.upgrade(db)
        with db.transaction() as session:
            entities.load(session)
            entities.set_participation(session, participating, True)
    finally:
        db.dispose()


# Child processes ------------------------------------------------------------------------------

_children: list[subprocess.Popen] = []


def spawn(args: Sequence[str], env: dict[str, str] | None = None,
          log: Path | None = None, capture: bool = False) -> subprocess.Popen:
    """Start a child in its own process group, so it and its own children can be stopped.

    Its output goes to `log` (appended), or to pipes when `capture`, else nowhere."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    try:
        process = subprocess.Popen(list(args), env={**os.environ, **(env or {})}, cwd=ROOT,
                                   stdout=subprocess.PIPE if capture else out,
                                   stderr=subprocess.PIPE if capture else subprocess.STDOUT,
                                   text=capture, start_new_session=True)
    finally:
        if log:
            out.close()  # the child holds its own copy
    _children.append(process)
    return process


def stop(process: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the child's process group, then SIGKILL what is left after `grace` seconds."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # stragglers of the group (workers)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)
    if process in _children:
        _children.remove(process)


@atexit.register
def _stop_children() -> None:
    for process in list(_children):
        stop(process, grace=3)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


# CPU accounting -------------------------------------------------------------------------------

def _stat(pid: int) -> tuple[str, int, float] | None:
    """(command name, parent pid, user+system CPU seconds) of a process, from /proc."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    # fields[0] is state (field 3); utime and stime are fields 14 and 15 of the file.
    return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK


def process_tree_cpu(root_pid: int) -> float:
    """CPU seconds of a process and all its live descendants (gunicorn master + workers)."""
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            found = _stat(int(entry))
            if found:
                stats[int(entry)] = found
    total, frontier = 0.0, [root_pid]
    while frontier:
        pid = frontier.pop()
        if pid in stats:
            total += stats[pid][2]
            frontier += [child for child, (_n, parent, _c) in stats.items() if parent == pid]
    return total


def postgres_cpu(database: str | None = None) -> float:
    """CPU seconds of the live PostgreSQL processes: the server's own (postmaster, writers,
    autovacuum…) and the backends of `database` (all backends when None). Backends of other
    databases — other people's tests on a shared machine — are left out."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        found = _stat(int(entry))
        if not found or found[0] not in ("postgres", "postmaster"):
            continue
        if database is not None:
            try:
                title = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            words = title.split()
            # A backend's title is "postgres: [CLUSTER:] USER DATABASE HOST(PORT) STATE"; the
            # server's own are "postgres: 15/main: checkpointer" or the postmaster's command.
            if words[:1] == ["postgres:"] and len(words) > 1 and words[1].endswith(":"):
                words = words[1:]
            is_backend = (len(words) >= 4 and words[0].endswith(":")
                          and ("(" in words[3] or words[3] == "[local]"))
            if is_backend and words[2] != database:
                continue
        total += found[2]
    return total


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / CLK_TCK, sum(values) / CLK_TCK


def self_cpu() -> float:
    times = os.times()
    return times.user + times.system


# Figures --------------------------------------------------------------------------------------

def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, int(round(fraction * len(sorted_values) + 0.5)) - 1))
    return sorted_values[rank]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [" | ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
             for row in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def machine_description() -> str:
    from sqlalchemy import create_engine, text

    from bot.store.db import normalise_url

    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    engine = create_engine(normalise_url(SERVER_URL))
    try:
        with engine.connect() as connection:
            pg = connection.execute(text("SHOW server_version")).scalar()
    finally:
        engine.dispose()
    import gunicorn
    import linebot
    import sqlalchemy
    return (f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}, "
            f"{memory} RAM, {platform.system()} {platform.release()}\n"
            f"software: Python {platform.python_version()}, PostgreSQL {pg}, "
            f"gunicorn {gunicorn.__version__}, SQLAlchemy {sqlalchemy.__version__}, "
            f"line-bot-sdk {linebot.__version__}\n"
            f"date: {time.strftime('%Y-%m-%d %H:%M %Z')}")


def serve_under_gunicorn(app, port: int) -> None:
    """Serve the local LINE platform's `app` under gunicorn until stopped: one process (its
    state — retry keys, counts — lives in it), 16 threads, keep-alive connections as LINE
    keeps them."""
    from gunicorn.app.base import BaseApplication

    class Platform(BaseApplication):
        def load_config(self):
            for key, value in {"bind": f"127.0.0.1:{port}", "workers": 1,
                               "worker_class": "gthread", "threads": 16, "keepalive": 30,
                               "loglevel": "warning"}.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    Platform().run()
