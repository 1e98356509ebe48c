"""The `worker` process: sends the outgoing queue (bot/outbox.py) to LINE.

Any number of workers share the queue. Each round claims a batch under a lease in one short
transaction, sends the batch from a small thread pool with no transaction open, and writes each
result in a transaction of its own as soon as LINE has answered.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from bot import broadcasts, line, outbox
from bot.db import database
from bot.models import OutboxMessage

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class RunSummary:
    """What one round did with the messages it claimed."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0  # nobody left to send to: marked sent without asking LINE

    @property
    def total(self) -> int:
        return self.sent + self.retried + self.failed + self.skipped

    def __str__(self) -> str:
        return (f"sent {self.sent}, retried {self.retried}, failed {self.failed}, "
                f"skipped {self.skipped}")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Worker:
    def __init__(self, app: Flask, *, batch: int = 50, threads: int = 8, lease: float = 60,
                 poll: float = 1.0):
        self.app = app
        self.db = database(app)
        self.batch, self.poll = batch, poll
        self.lease = timedelta(seconds=lease)
        self.timeout = float(app.config.get("LINE_TIMEOUT_SECONDS", line.TIMEOUT_SECONDS))
        if self.lease.total_seconds() <= self.timeout:
            # Otherwise another worker could resend a message whose request is still running.
            raise ValueError(f"the lease ({lease} s) must be longer than the LINE timeout "
                             f"({self.timeout} s)")
        self._stopping = threading.Event()
        # The SDK's ApiClient writes `last_response` on every call, so it is not shared:
        # each sending thread has a gateway of its own.
        self._local = threading.local()
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="outbox",
                                        initializer=self._open_gateway)

    def run_once(self, now: datetime | None = None) -> RunSummary:
        """Queue due broadcasts, then claim one batch, send it, record the results.

        `now` pins the clock (tests and scenario files).
        """
        clock: Clock = _utcnow if now is None else (lambda: now)
        broadcasts.fan_out_due(self.db.transaction, clock())
        with self.db.transaction() as session:
            claimed = outbox.claim(session, clock(), self.batch, self.lease)
        summary = RunSummary(**Counter(self._pool.map(partial(self._process, clock=clock), claimed)))
        if summary.total:
            log.info("outbox: %s", summary)
        return summary

    def run_forever(self) -> None:
        """Send until SIGTERM or SIGINT; either stops it after the batch in hand."""
        previous = {signum: signal.signal(signum, self._on_signal)
                    for signum in (signal.SIGTERM, signal.SIGINT)}
        log.info("worker started")
        try:
            while not self._stopping.is_set():
                if self.run_once().total < self.batch:
                    self._stopping.wait(self.poll)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self._pool.shutdown()
        log.info("worker stopped")

    def _on_signal(self, signum: int, _frame) -> None:
        log.info("worker stopping after this batch (%s)", signal.Signals(signum).name)
        self._stopping.set()

    def _open_gateway(self) -> None:
        config = self.app.config
        self._local.gateway = line.LineGateway(str(config["LINE_API_HOST"]),
                                               str(config["LINE_CHANNEL_ACCESS_TOKEN"]))

    def _process(self, message: OutboxMessage, clock: Clock) -> str:
        """Send one claimed message and record what LINE said; returns a RunSummary field."""
        if outbox.nobody_left(message):
            with self.db.transaction() as session:
                outbox.mark_sent(session, message.id, clock())
            return "skipped"
        result = self._local.gateway.send(message.kind, outbox.request_body(message),
                                          message.retry_key, timeout=self.timeout)
        with self.db.transaction() as session:
            return _record(session, message, result, clock())


def _record(session, message: OutboxMessage, result: line.SendResult, now: datetime) -> str:
    if result.outcome is line.Outcome.SENT:
        outbox.mark_sent(session, message.id, now)
        return "sent"
    if result.outcome is line.Outcome.RETRY:
        at = outbox.next_try(message, now, result.retry_after)
        if at is not None:
            log.info("outbox message %s: try %s failed, again at %s", message.id,
                     message.attempts, at.isoformat(timespec="seconds"))
            outbox.retry_later(session, message.id, at, result.detail)
            return "retried"
        log.warning("outbox message %s: giving up after %s tries", message.id, message.attempts)
        outbox.mark_failed(session, message.id, f"gave up, retry key too old: {result.detail}")
        return "failed"
    log.warning("outbox message %s: refused by LINE", message.id)
    outbox.mark_failed(session, message.id, result.detail)
    return "failed"


@click.command("worker", help="Send the queued outgoing messages (the `worker` process).")
@click.option("--once", is_flag=True, help="Send one batch, print what happened and exit.")
@click.option("--threads", type=click.IntRange(min=1), default=8, show_default=True,
              help="Messages sent at the same time.")
@click.option("--batch", type=click.IntRange(min=1), default=50, show_default=True,
              help="Messages claimed at a time.")
@click.option("--now", type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"]),
              help="With --once: act as if it were this moment (ISO, with offset), e.g. to "
                   "send a scheduled broadcast in a scenario file.")
@with_appcontext
def worker_command(once: bool, threads: int, batch: int, now: datetime | None) -> None:
    if now is not None and not once:
        raise click.UsageError("--now goes with --once")
    worker = Worker(current_app._get_current_object(), batch=batch, threads=threads)
    if once:
        click.echo(worker.run_once(now))
    else:
        worker.run_forever()
