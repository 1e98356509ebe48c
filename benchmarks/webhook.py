"""Webhook benchmark: the registration flow under gunicorn and PostgreSQL against a bare echo bot.

    .venv/bin/python benchmarks/webhook.py                    # sync:4 and gthread:2x4, 32 users
    .venv/bin/python benchmarks/webhook.py --configs sync:2,sync:4,gthread:2x4 --rounds 2
    .venv/bin/python benchmarks/webhook.py --users 16,64 --load-processes 1,3
    .venv/bin/python benchmarks/webhook.py --profile 200      # where one webhook's time goes
    .venv/bin/python benchmarks/webhook.py --serial 250 --rounds 2  # CPU per POST, no contention

What it does, all on this machine:

1. creates a PostgreSQL database `bench_<random>`, migrates it, loads the shipped entities and
   makes 363421 神山町 and 360007 徳島県 participate (dropped at the end, even on Ctrl+C);
2. runs the local LINE platform (bot/devtools/line_platform.py) in this process on a threaded
   werkzeug server; it issues the real reply tokens and holds the profiles (`add_user`);
3. for each gunicorn setting (`sync:4` = 4 sync workers, `gthread:2x4` = 2 workers × 4
   threads), starts the bare line-bot-sdk echo app (benchmarks/echo_app.py), loads it, stops
   it; then starts the bot (`gunicorn 'web:create_app()'`) the same way and loads it (with
   --rounds, the order alternates);
4. load: N virtual users for a fixed time after a warm-up, as threads with a urllib3
   connection pool in load-generator processes of their own (so that the load generator and
   the platform do not share one GIL); they get users, reply tokens and what the platform
   delivered from this process through a small broker:
   - bot: the registration flow with a fresh LINE user ID — follow, 「登録する」, 「神山」, then
     the 登録する postback read from the bot's reply as the platform recorded it; every step
     must have been answered and the last reply must say 登録しました (checked 5 flows at a
     time), else it is an error;
   - echo: text messages, whose echoes must arrive (checked every 20);
   every webhook POST is timed (signed body ready → 200 received);
5. prints requests/s, p50/p90/p99/max latency and errors for both apps and the ratio, and the
   CPU each part used during the measurement (gunicorn, PostgreSQL, the load generators, the
   platform, everything else): on 2 cores they all share, so this shows who the machine
   worked for, and the CPU each webhook POST cost the service.
"""
from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Client, Listener
from pathlib import Path

import common
import urllib3
from flask import Flask
from werkzeug.serving import WSGIRequestHandler, make_server

from bot.devtools import line_platform
from bot.devtools.events import follow_event, postback_event, signature, text_event, webhook_body
from bot.devtools.statements import counting_statements
from cli.delivered import message_actions, message_texts

KAMIYAMA = "神山"
#: Registration flows per broker call for new users and for the final check (the echo's
#: virtual users fetch 20 reply tokens per call).
FLOWS_PER_CALL = 5


# The local LINE platform, in this process -----------------------------------------------------

class RecordingPlatform(line_platform.LinePlatform):
    """The real platform, keeping only each user's last messages and a count (flat memory)."""

    def reset(self) -> None:
        super().reset()
        self.received: dict[str, tuple[int, list[dict]]] = {}

    def _deliver(self, request_id, via, recipients, messages, retry_key):
        sent = super()._deliver(request_id, via, recipients, messages, retry_key)  # lock held
        for delivery in self._deliveries:
            count = self.received.get(delivery.to, (0, None))[0]
            self.received[delivery.to] = (count + 1, delivery.messages)
        self._deliveries.clear()
        if len(self.requests) > 10_000:
            del self.requests[:5_000]
        return sent

    def last(self, user_id: str) -> tuple[int, list[dict]]:
        with self._lock:
            return self.received.get(user_id, (0, []))


class _QuietHandler(WSGIRequestHandler):
    # Werkzeug's server answers every request with `Connection: close`, so each call to this
    # platform opens a new TCP connection (LINE's API keeps them); the bot and the echo app pay
    # that alike.

    def log_request(self, *args, **kwargs):
        pass


class PlatformServer:
    def __init__(self, access_token: str):
        app = Flask("bench_line_platform")
        app.config["LINE_CHANNEL_ACCESS_TOKEN"] = access_token
        line_platform.init_app(app)
        self.platform = RecordingPlatform()
        app.extensions["line_platform"] = self.platform
        self.server = make_server("127.0.0.1", 0, app, threaded=True,
                                  request_handler=_QuietHandler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5)


# The servers under test -----------------------------------------------------------------------

@dataclass(frozen=True)
class ServerSetting:
    name: str  # "sync:4" or "gthread:2x4"
    worker_class: str
    workers: int
    threads: int

    @classmethod
    def parse(cls, text: str) -> ServerSetting:
        kind, _, size = text.partition(":")
        if kind == "sync":
            return cls(text, "sync", int(size or 4), 1)
        if kind == "gthread":
            workers, _, threads = (size or "2x4").partition("x")
            return cls(text, "gthread", int(workers), int(threads or 4))
        raise argparse.ArgumentTypeError(f"{text!r}: expected sync:W or gthread:WxT")

    def describe(self) -> str:
        if self.worker_class == "sync":
            return f"{self.workers} sync workers"
        return f"{self.workers} gthread workers x {self.threads} threads"

    def gunicorn_args(self, port: int) -> list[str]:
        return [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                "--workers", str(self.workers), "--worker-class", self.worker_class,
                "--threads", str(self.threads), "--backlog", "2048", "--timeout", "60",
                "--graceful-timeout", "5", "--keep-alive", "5", "--log-level", "warning"]


def app_env(database_url: str, secret: str, token: str, platform_url: str) -> dict[str, str]:
    """The environment both apps run with: the bench database and the local LINE platform."""
    return {"FURUSATO_ENV": "test", "DATABASE_URL": database_url,
            "LINE_CHANNEL_SECRET": secret, "LINE_CHANNEL_ACCESS_TOKEN": token,
            "LINE_API_HOST": f"{platform_url}/_dev/line", "LOG_LEVEL": "WARNING",
            "SECRET_KEY": secrets.token_hex(16)}


def start_app(which: str, setting: ServerSetting, env: dict[str, str], log) -> tuple:
    port = common.free_port()
    args = setting.gunicorn_args(port)
    if which == "echo":
        args += ["--pythonpath", str(common.BENCHMARKS), "echo_app:create_app()"]
    else:
        args += ["web:create_app()"]
    process = common.spawn(args, env=env, log=log)
    common.wait_for_http(f"http://127.0.0.1:{port}/healthz", process)
    return process, port


# Load -----------------------------------------------------------------------------------------
#
# The virtual users run in load-generator processes (threads in each), so that neither they nor
# the platform are held back by one GIL. They ask this process's platform for users, reply
# tokens and what was delivered through a small broker (multiprocessing.connection): in the
# registration flow one round trip for the postback's data, and new users and the final check
# 5 flows at a time; a batch of tokens per 20 echo messages.

class Broker:
    """Serves the load generators: new users with their reply tokens, and deliveries."""

    def __init__(self, platform: RecordingPlatform):
        self.platform = platform
        self.authkey = secrets.token_bytes(16)
        self.listener = Listener(("127.0.0.1", 0), authkey=self.authkey)
        self.address = self.listener.address
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection = self.listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection) -> None:
        platform = self.platform
        with connection:
            while True:
                try:
                    request = connection.recv()
                except (EOFError, OSError):
                    return
                match request:
                    case ("begin", int(users), int(tokens)):
                        connection.send([self._begin(tokens) for _ in range(users)])
                    case ("tokens", str(user_id), int(count)):
                        connection.send([platform.issue_reply_token(user_id) for _ in range(count)])
                    case ("last", str(user_id)):
                        connection.send(platform.last(user_id))
                    case ("last", list(user_ids)):
                        connection.send([platform.last(user_id) for user_id in user_ids])

    def _begin(self, tokens: int) -> tuple[str, list[str]]:
        user_id = "U" + secrets.token_hex(16)
        self.platform.add_user(user_id, "ベンチ", "ja")
        return user_id, [self.platform.issue_reply_token(user_id) for _ in range(tokens)]

    def close(self) -> None:
        self.listener.close()


@dataclass
class Samples:
    """One virtual user's record, in time.monotonic() (the same clock in every process):
    (finished at, seconds, ok) per POST, and when flows completed and checks failed."""
    requests: list[tuple[float, float, bool]] = field(default_factory=list)
    flows: list[float] = field(default_factory=list)
    missing: list[float] = field(default_factory=list)


class VirtualUser:
    def __init__(self, pool: urllib3.HTTPConnectionPool, secret: str, broker, stop):
        self.pool, self.secret, self.broker, self.stop = pool, secret, broker, stop
        self.samples = Samples()

    def call(self, *request):
        self.broker.send(request)
        return self.broker.recv()

    def post(self, event: dict) -> bool:
        body = webhook_body(event)
        headers = {"Content-Type": "application/json",
                   "X-Line-Signature": signature(body, self.secret)}
        started = time.monotonic()
        try:
            response = self.pool.urlopen("POST", "/callback", body=body, headers=headers)
            ok = response.status == 200
        except urllib3.exceptions.HTTPError:
            ok = False
        finished = time.monotonic()
        self.samples.requests.append((finished, finished - started, ok))
        return ok

    def registration(self) -> None:
        """The bot: the registration flow with a new LINE user each time. New users come
        FLOWS_PER_CALL at a time and their last replies are checked together, as the echo's
        tokens and echoes are; only the postback's data is asked for in the middle of a flow."""
        samples = self.samples
        while not self.stop.is_set():
            posted = [user_id for user_id, tokens in self.call("begin", FLOWS_PER_CALL, 4)
                      if self.flow(user_id, tokens)]
            if not posted:
                continue
            now = time.monotonic()
            for count, messages in self.call("last", posted):
                if count == 4 and any("登録しました" in text for m in messages
                                      for text in message_texts(m)):
                    samples.flows.append(now)
                else:
                    samples.missing.append(now)

    def flow(self, user_id: str, tokens: list[str]) -> bool:
        """Follow, 「登録する」, 「神山」 and the postback; True if all four were posted."""
        if self.stop.is_set() or not (
                self.post(follow_event(user_id, reply_token=tokens[0]))
                and self.post(text_event("登録する", user_id, reply_token=tokens[1]))
                and self.post(text_event(KAMIYAMA, user_id, reply_token=tokens[2]))):
            return False
        count, messages = self.call("last", user_id)
        data = _postback(messages, "登録する") if count == 3 else None
        if data is None:  # a step went unanswered, or not with the confirmation
            self.samples.missing.append(time.monotonic())
            return False
        return self.post(postback_event(data, user_id, reply_token=tokens[3]))

    def echo(self) -> None:
        """The echo app: text messages, checked 20 at a time against what was delivered."""
        samples = self.samples
        [(user_id, _)] = self.call("begin", 1, 0)
        answered = 0
        while not self.stop.is_set():
            sent, text = 0, None
            for token in self.call("tokens", user_id, 20):
                text = f"こんにちは {answered + sent}"
                sent += self.post(text_event(text, user_id, reply_token=token))
            count, messages = self.call("last", user_id)
            now = time.monotonic()
            echoed = count - answered
            samples.flows += [now] * echoed
            samples.missing += [now] * (sent - echoed)
            if echoed and messages[0].get("text") != text:
                samples.missing.append(now)
            answered = count


def load_process(which: str, port: int, secret: str, address, authkey: bytes, users: int,
                 ready, stop, results) -> None:
    """A load generator process: `users` threads, each a virtual user, until `stop` is set."""
    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=users, block=True,
                                      retries=False, timeout=urllib3.Timeout(30))
    virtual = [VirtualUser(pool, secret, Client(address, authkey=authkey), stop)
               for _ in range(users)]
    threads = [threading.Thread(target=user.registration if which == "bot" else user.echo,
                                daemon=True) for user in virtual]
    for thread in threads:
        thread.start()
    ready.put(os.getpid())
    stop.wait()
    for thread in threads:
        thread.join(35)
    results.put([user.samples for user in virtual])


def _postback(messages: list[dict], label: str) -> str | None:
    for message in reversed(messages):
        for action in message_actions(message):
            if action.get("label") == label and action.get("type") == "postback":
                return action["data"]
    return None


def registration_flow(post: Callable[[dict], object], platform: line_platform.LinePlatform) -> None:
    """One new user's registration, one request at a time: follow, 「登録する」, 「神山」, the
    登録する postback read from the bot's reply. `post` sends one event; RuntimeError if a step
    went unanswered."""
    user_id = "U" + secrets.token_hex(16)
    platform.add_user(user_id, "ベンチ", "ja")
    post(follow_event(user_id, reply_token=platform.issue_reply_token(user_id)))
    post(text_event("登録する", user_id, reply_token=platform.issue_reply_token(user_id)))
    post(text_event(KAMIYAMA, user_id, reply_token=platform.issue_reply_token(user_id)))
    data = _postback(platform.last(user_id)[1], "登録する")
    if data is None:
        raise RuntimeError("「神山」 was not answered with the 登録する button")
    post(postback_event(data, user_id, reply_token=platform.issue_reply_token(user_id)))
    if platform.last(user_id)[0] != 4:
        raise RuntimeError("a step went unanswered")


@dataclass
class Result:
    app: str
    setting: str
    users: int
    processes: int
    seconds: float
    requests: int
    errors: int
    flows: int
    latencies: list[float]
    cpu: dict[str, float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def row(self) -> list[str]:
        ms = [x * 1000 for x in self.latencies]
        p = lambda f: f"{common.percentile(ms, f):.1f}"  # noqa: E731
        return [self.app, self.setting, f"{self.users}/{self.processes}", f"{self.rps:.1f}",
                f"{self.flows / self.seconds:.1f}", p(0.50), p(0.90), p(0.99),
                f"{ms[-1]:.1f}" if ms else "-", str(self.errors)]


def run_load(which: str, port: int, gunicorn_pid: int, broker: Broker, secret: str, users: int,
             processes: int, warmup: float, duration: float, setting: str,
             database: str) -> Result:
    context = multiprocessing.get_context("spawn")
    ready, results, stop = context.Queue(), context.Queue(), context.Event()
    shares = [users // processes + (i < users % processes) for i in range(processes)]
    children = [context.Process(target=load_process, daemon=True,
                                args=(which, port, secret, broker.address, broker.authkey, n,
                                      ready, stop, results)) for n in shares if n]
    for child in children:
        child.start()
    collected: list[Samples] = []
    try:
        for _ in children:
            ready.get(timeout=60)
        time.sleep(warmup)

        def snapshot():
            return (common.process_tree_cpu(gunicorn_pid), common.postgres_cpu(database),
                    common.self_cpu(), common.machine_busy(),
                    sum(common.process_tree_cpu(child.pid) for child in children))

        t0, before = time.monotonic(), snapshot()
        time.sleep(duration)
        t1, after = time.monotonic(), snapshot()
        stop.set()
        for _ in children:
            collected += results.get(timeout=60)
    finally:
        stop.set()
        for child in children:
            child.join(10)
            if child.is_alive():
                child.kill()
    measured = [r for s in collected for r in s.requests if t0 <= r[0] <= t1]
    latencies = sorted(r[1] for r in measured)
    failed = sum(1 for r in measured if not r[2])
    flows = sum(1 for s in collected for at in s.flows if t0 <= at <= t1)
    missing = sum(1 for s in collected for at in s.missing if t0 <= at <= t1)
    seconds = t1 - t0
    busy, total = after[3][0] - before[3][0], after[3][1] - before[3][1]
    cpu = {"gunicorn": (after[0] - before[0]) / seconds,
           "postgres": (after[1] - before[1]) / seconds,
           "platform": (after[2] - before[2]) / seconds,  # this process: platform + broker
           "load": (after[4] - before[4]) / seconds,
           "machine": busy / total * (os.cpu_count() or 1) if total else 0.0}
    # Whatever else ran meanwhile: the kernel's network work, and other people's processes.
    cpu["other"] = cpu["machine"] - sum(cpu[k] for k in ("gunicorn", "postgres", "platform",
                                                         "load"))
    return Result("bot (registration)" if which == "bot" else "echo (line-bot-sdk)", setting,
                  users, len(children), seconds, len(measured), failed + missing, flows,
                  latencies, cpu)


# Profile --------------------------------------------------------------------------------------

def profile_bot(flows: int, top: int) -> None:
    """cProfile of `flows` registration flows through the bot in this process (Flask's test
    client, PostgreSQL, the LINE platform on a local thread): where one webhook's time goes."""
    import cProfile
    import pstats

    from web import create_app

    secret, token = secrets.token_hex(16), secrets.token_hex(24)
    platform_server = PlatformServer(token)
    try:
        with common.bench_database() as database_url:
            common.prepare_database(database_url)
            app = create_app({"FURUSATO_ENV": "test", "DATABASE_URL": database_url,
                              "LINE_CHANNEL_SECRET": secret, "LINE_CHANNEL_ACCESS_TOKEN": token,
                              "LINE_API_HOST": f"{platform_server.url}/_dev/line",
                              "LOG_LEVEL": "WARNING"})
            client = app.test_client()
            platform = platform_server.platform
            statements: dict[str, list[int]] = {}
            current = {"step": None}

            def count() -> None:
                if current["step"]:
                    statements[current["step"]][-1] += 1

            def post(event: dict) -> None:
                step = event["type"] if event["type"] != "message" else event["message"]["text"]
                current["step"] = step
                statements.setdefault(step, []).append(0)
                body = webhook_body(event)
                response = client.post("/callback", data=body, headers={
                    "Content-Type": "application/json",
                    "X-Line-Signature": signature(body, secret)})
                assert response.status_code == 200, response.data

            def flow() -> None:
                registration_flow(post, platform)

            for _ in range(20):  # warm caches, compile queries
                flow()
            profiler = cProfile.Profile()
            with counting_statements(app.extensions["db"].engine, count):
                started, cpu = time.perf_counter(), time.thread_time()
                profiler.enable()
                for _ in range(flows):
                    flow()
                profiler.disable()
            wall, cpu = time.perf_counter() - started, time.thread_time() - cpu
            app.extensions["db"].dispose()
    finally:
        platform_server.stop()
    requests = flows * 4
    profiler.dump_stats(str(Path(tempfile.gettempdir()) / "furusato-bench-webhook.pstats"))
    print(f"\n{flows} registration flows = {requests} webhook POSTs in one thread: "
          f"{wall / requests * 1000:.2f} ms wall and {cpu / requests * 1000:.2f} ms CPU per POST "
          f"(with cProfile's overhead)")
    print("SQL statements sent per webhook (COMMIT included; psycopg sends BEGIN before the "
          "first one, which is not counted: add 1 round trip):")
    for step, counts in statements.items():
        print(f"  {step:10} {sum(counts) / len(counts):.1f}")
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    stats.print_callees(r"handlers/__init__.py:\d+\(handle\)")
    stats.print_callees(r"handlers/__init__.py:\d+\(fetch\)")


# One request at a time ------------------------------------------------------------------------

def serial_cost(flows: int, rounds: int) -> None:
    """CPU per POST with nothing competing: one sync worker, one client, requests one after the
    other. On a shared 2-core machine the loaded runs' CPU per POST includes what contention
    costs (cache, context switches); this is the app's own cost, and moves much less."""
    secret, token = secrets.token_hex(16), secrets.token_hex(24)
    platform_server = PlatformServer(token)
    log = Path(tempfile.gettempdir()) / "furusato-bench-webhook-gunicorn.log"
    try:
        with common.bench_database() as database_url:
            common.prepare_database(database_url)
            env = app_env(database_url, secret, token, platform_server.url)
            print(f"{flows} flows of 4 POSTs after 40 warm-up flows; 1 sync worker, 1 client")
            for _ in range(rounds):
                for which in ("echo", "bot"):
                    user, system, postgres, wall = _serial_run(
                        which, flows, env, platform_server.platform, secret, log,
                        database_url.rsplit("/", 1)[1])
                    print(f"  {which:4}: CPU per POST {user + system + postgres:5.2f} ms = gunicorn "
                          f"worker {user:.2f} user + {system:.2f} system, PostgreSQL "
                          f"{postgres:.2f}; {wall:.2f} ms wall", flush=True)
    finally:
        platform_server.stop()


def _serial_run(which: str, flows: int, env: dict[str, str], platform: RecordingPlatform,
                secret: str, log: Path, database: str) -> tuple[float, float, float, float]:
    process, port = start_app(which, ServerSetting.parse("sync:1"), env, log)
    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=1, retries=False)

    def post(event: dict) -> None:
        body = webhook_body(event)
        response = pool.urlopen("POST", "/callback", body=body, headers={
            "Content-Type": "application/json", "X-Line-Signature": signature(body, secret)})
        assert response.status == 200, response.status

    def flow() -> None:
        if which == "bot":
            registration_flow(post, platform)
            return
        user_id = "U" + secrets.token_hex(16)
        platform.add_user(user_id, "ベンチ", "ja")
        for n in range(4):
            post(text_event(f"こんにちは {n}", user_id,
                            reply_token=platform.issue_reply_token(user_id)))
        if platform.last(user_id)[0] != 4:
            raise RuntimeError("an echo went unanswered")

    try:
        for _ in range(40):
            flow()
        worker = int(Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()[0])
        before = _user_system(worker), common.postgres_cpu(database), time.perf_counter()
        for _ in range(flows):
            flow()
        after = _user_system(worker), common.postgres_cpu(database), time.perf_counter()
    finally:
        common.stop(process)
    per_post = 1000 / (flows * 4)
    return ((after[0][0] - before[0][0]) * per_post, (after[0][1] - before[0][1]) * per_post,
            (after[1] - before[1]) * per_post, (after[2] - before[2]) * per_post)


def _user_system(pid: int) -> tuple[float, float]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / common.CLK_TCK, int(fields[12]) / common.CLK_TCK


# Main -----------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", default="32", help="virtual users; a comma list runs each")
    parser.add_argument("--load-processes", default="2",
                        help="load-generator processes the users are spread over; a comma list "
                             "runs each")
    parser.add_argument("--configs", default="sync:4,gthread:2x4",
                        help="gunicorn settings to try: sync:W and/or gthread:WxT")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--apps", default="echo,bot", help="echo, bot or both (echo,bot)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="repeat everything; the summary takes the median of the rounds")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--profile", type=int, metavar="FLOWS",
                        help="instead of the load: cProfile FLOWS registration flows in-process")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--serial", type=int, metavar="FLOWS",
                        help="instead of the load: CPU per POST of FLOWS flows one request at a "
                             "time, one sync worker (--rounds times)")
    args = parser.parse_args(argv)
    if args.profile:
        common.install_signal_handlers()
        profile_bot(args.profile, args.top)
        return 0
    if args.serial:
        common.install_signal_handlers()
        serial_cost(args.serial, args.rounds)
        return 0
    settings = [ServerSetting.parse(text) for text in args.configs.split(",")]
    user_counts = [int(n) for n in args.users.split(",")]
    process_counts = [int(n) for n in args.load_processes.split(",")]
    apps = args.apps.split(",")

    common.install_signal_handlers()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    print(common.machine_description())
    secret, token = secrets.token_hex(16), secrets.token_hex(24)
    results: list[Result] = []
    log = Path(tempfile.gettempdir()) / "furusato-bench-webhook-gunicorn.log"
    log.write_bytes(b"")
    platform_server = PlatformServer(token)
    broker = Broker(platform_server.platform)
    try:
        with common.bench_database() as database_url:
            common.prepare_database(database_url)
            env = app_env(database_url, secret, token, platform_server.url)
            print(f"database: {database_url}; LINE platform: {platform_server.url}; "
                  f"gunicorn log: {log}")
            runs = [(round_, setting, users, processes) for round_ in range(args.rounds)
                    for setting in settings for users in user_counts
                    for processes in process_counts]
            for round_, setting, users, processes in runs:
                # Alternate which app goes first, so a neighbour's load on a shared machine
                # does not always fall on the same one.
                for which in (apps if round_ % 2 == 0 else apps[::-1]):
                    process, port = start_app(which, setting, env, log)
                    try:
                        result = run_load(which, port, process.pid, broker, secret, users,
                                          processes, args.warmup, args.duration,
                                          setting.name, database_url.rsplit("/", 1)[1])
                    finally:
                        common.stop(process)
                    results.append(result)
                    print(f"  {result.app:20} {setting.describe():32} {users:3} users in "
                          f"{result.processes} processes: "
                          f"{result.rps:7.1f} req/s, p99 {result.row()[7]} ms, "
                          f"{result.errors} errors", flush=True)
    finally:
        broker.close()
        platform_server.stop()

    report(results, args)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump([{**{k: v for k, v in r.__dict__.items() if k != "latencies"},
                        "rps": r.rps, "p50_ms": common.percentile(r.latencies, .5) * 1000,
                        "p90_ms": common.percentile(r.latencies, .9) * 1000,
                        "p99_ms": common.percentile(r.latencies, .99) * 1000,
                        "max_ms": (r.latencies[-1] * 1000) if r.latencies else None}
                       for r in results], handle, indent=2)
    return 0


def report(results: list[Result], args) -> None:
    print()
    print(f"Webhook POSTs ({args.warmup:g} s warm-up, then {args.duration:g} s measured); "
          f"latency in ms; flows/s = completed registrations (bot) or echoes (echo)")
    print(common.table(["app", "gunicorn", "users/procs", "req/s", "flows/s", "p50", "p90",
                        "p99", "max", "errors"], [r.row() for r in results]))
    print()
    print("CPU used during the measurement, in cores (2 = the whole machine):")
    print(common.table(["app", "gunicorn", "users/procs", "gunicorn", "postgres",
                        "load generators", "LINE platform", "other", "machine", "app CPU ms/req"],
                       [[r.app, r.setting, f"{r.users}/{r.processes}"] + [f"{r.cpu[k]:.2f}" for k in
                        ("gunicorn", "postgres", "load", "platform", "other", "machine")]
                        + [f"{(r.cpu['gunicorn'] + r.cpu['postgres']) * 1000 / r.rps:.2f}"
                           if r.rps else "-"]
                        for r in results]))
    print("(load generators = their processes; LINE platform = this process, the platform and "
          "the broker; other = the kernel and anything else running on the machine; app CPU "
          "ms/req = gunicorn + PostgreSQL CPU per webhook POST, what one request costs the "
          "service whatever the load generator does)")
    print()
    groups = dict.fromkeys((r.setting, r.users, r.processes) for r in results)
    for setting, users, processes in groups:
        runs = {kind: [r for r in results if (r.setting, r.users, r.processes)
                       == (setting, users, processes) and r.app.startswith(kind)]
                for kind in ("bot", "echo")}
        if not (runs["bot"] and runs["echo"]):
            continue
        bot_rps = statistics.median(r.rps for r in runs["bot"])
        echo_rps = statistics.median(r.rps for r in runs["echo"])
        p99 = statistics.median(common.percentile(r.latencies, 0.99) for r in runs["bot"])
        cost = {kind: statistics.median((r.cpu["gunicorn"] + r.cpu["postgres"]) / r.rps
                                        for r in runs[kind]) for kind in runs}
        ratio = bot_rps / echo_rps if echo_rps else float("nan")
        rounds = len(runs["bot"])
        median = f" (median of {rounds} rounds)" if rounds > 1 else ""
        print(f"{setting}, {users} users in {processes} processes{median}: "
              f"bot {bot_rps:.1f} req/s, echo {echo_rps:.1f} req/s: bot/echo = {ratio:.0%} "
              f"(target >= 50%: {'met' if ratio >= 0.5 else 'NOT met'}); "
              f"bot p99 {p99 * 1000:.0f} ms against LINE's 2000 ms "
              f"({'within' if p99 < 2 else 'NOT within'}); CPU per POST: bot "
              f"{cost['bot'] * 1000:.1f} ms, echo {cost['echo'] * 1000:.1f} ms "
              f"(echo/bot = {cost['echo'] / cost['bot']:.0%})")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (KeyboardInterrupt, common.Interrupted):
        print("interrupted; servers stopped and the bench database dropped", file=sys.stderr)
        sys.exit(130)
