"""Two versions of the bot side by side under the same load: is a change faster?

    git worktree add /tmp/before HEAD~1
    .venv/bin/python benchmarks/webhook_ab.py /tmp/before              # that against this tree
    .venv/bin/python benchmarks/webhook_ab.py /tmp/before --rounds 5 --users 8 --duration 25
    git worktree remove --force /tmp/before

On this project's shared 2-vCPU machines the figures of `webhook.py` move by 15 % or more from
one run to the next with the same code (the neighbours' load is not visible as steal time), so
two runs made one after the other cannot show a change of 5 %. Here both versions run at the
same moment — each under gunicorn (`sync:2`) on a database of its own, migrated by its own code,
answering the same number of virtual users (threads of this process, one local LINE platform)
— so whatever the machine does, it does to both. Per round: each version's webhook POSTs per
second and its CPU per POST (gunicorn + PostgreSQL); then the median of this tree ÷ the other.
"""
from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import common
import urllib3
from webhook import PlatformServer, ServerSetting, app_env, registration_flow

from bot.devtools.events import signature, webhook_body


@dataclass
class Version:
    name: str
    tree: Path
    database: str = ""
    pool: urllib3.HTTPConnectionPool | None = None
    pid: int = 0
    flows: int = 0
    errors: int = 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("other", type=Path, help="a checkout of the version to compare against")
    parser.add_argument("--users", type=int, default=8, help="virtual users per version")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=25.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    common.install_signal_handlers()
    print(common.machine_description())
    versions = [Version("other", args.other.resolve()), Version("this", common.ROOT)]
    secret, token = secrets.token_hex(16), secrets.token_hex(24)
    platform_server = PlatformServer(token)
    log = Path(tempfile.gettempdir()) / "furusato-bench-webhook-ab.log"
    try:
        with common.bench_database("bench_ab") as first, common.bench_database("bench_ab") as second:
            for version, url in zip(versions, (first, second)):
                start(version, url, secret, token, platform_server.url, log, args.users)
            ratios = []
            for round_ in range(args.rounds):
                figures = measure(versions, platform_server.platform, secret, args)
                for version, (rps, cost) in zip(versions, figures):
                    print(f"round {round_ + 1}: {version.name:5} {rps:6.1f} req/s, "
                          f"{cost:.2f} ms CPU per POST, {version.errors} failed flows so far",
                          flush=True)
                ratios.append((figures[1][0] / figures[0][0], figures[1][1] / figures[0][1]))
    finally:
        platform_server.stop()
    print(f"\nthis tree ÷ {args.other} (median of {len(ratios)} rounds): throughput "
          f"{statistics.median(r[0] for r in ratios):.3f}, CPU per POST "
          f"{statistics.median(r[1] for r in ratios):.3f}")
    return 0


def start(version: Version, url: str, secret: str, token: str, platform_url: str, log: Path,
          users: int) -> None:
    """Migrate the version's database with its own code, then start its gunicorn."""
    path = {"PYTHONPATH": str(version.tree)}  # ahead of the editable install of this tree
    subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, 'benchmarks'); "
                    f"import common; common.prepare_database({url!r})"],
                   cwd=version.tree, env={**os.environ, **path}, check=True)
    port = common.free_port()
    args = ServerSetting.parse("sync:2").gunicorn_args(port) + [app_target(version.tree)]
    with log.open("ab") as out:  # the child keeps its own copy
        process = subprocess.Popen(args, cwd=version.tree, start_new_session=True,
                                   env={**os.environ, **app_env(url, secret, token, platform_url),
                                        **path},
                                   stdout=out, stderr=subprocess.STDOUT)
    common._children.append(process)  # stopped at exit, as `common.spawn` does
    common.wait_for_http(f"http://127.0.0.1:{port}/healthz", process)
    version.database, version.pid = url.rsplit("/", 1)[1], process.pid
    version.pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=users, retries=False,
                                              timeout=urllib3.Timeout(30))


def app_target(tree: Path) -> str:
    """The tree's Flask app for gunicorn: `web.create_app` since the relayout of issue #16,
    `bot.create_app` before it."""
    return "web:create_app()" if (tree / "web" / "__init__.py").exists() else "bot:create_app()"


def measure(versions: list[Version], platform, secret: str, args) -> list[tuple[float, float]]:
    """Both versions loaded at once; (POSTs per second, CPU ms per POST) of each."""
    stop = threading.Event()
    lock = threading.Lock()

    def user(version: Version) -> None:
        while not stop.is_set():
            try:
                registration_flow(lambda event: post(version.pool, event, secret), platform)
            except (RuntimeError, urllib3.exceptions.HTTPError):
                with lock:
                    version.errors += 1
                continue
            with lock:
                version.flows += 1

    threads = [threading.Thread(target=user, args=(v,), daemon=True)
               for v in versions for _ in range(args.users)]
    for thread in threads:
        thread.start()
    time.sleep(args.warmup)
    before = [(v.flows, cpu(v)) for v in versions]
    time.sleep(args.duration)
    after = [(v.flows, cpu(v)) for v in versions]
    stop.set()
    for thread in threads:
        thread.join(30)
    posts = [(a[0] - b[0]) * 4 for a, b in zip(after, before)]
    return [(n / args.duration, (a[1] - b[1]) * 1000 / n)
            for n, a, b in zip(posts, after, before)]


def post(pool: urllib3.HTTPConnectionPool, event: dict, secret: str) -> None:
    body = webhook_body(event)
    response = pool.urlopen("POST", "/callback", body=body, headers={
        "Content-Type": "application/json", "X-Line-Signature": signature(body, secret)})
    if response.status != 200:
        raise RuntimeError(f"the webhook answered {response.status}")


def cpu(version: Version) -> float:
    return common.process_tree_cpu(version.pid) + common.postgres_cpu(version.database)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (KeyboardInterrupt, common.Interrupted):
        print("interrupted; servers stopped and the bench databases dropped", file=sys.stderr)
        sys.exit(130)
