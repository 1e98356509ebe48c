"""The `worker` process: sends the outgoing queue (bot/delivery/outbox.py) to LINE.

Any number of workers share the queue. In each, a thread fans due broadcasts out into the
queue while the main thread sends: it claims a batch under a lease in one short transaction,
hands it to a pool of sending threads, and claims the next batch while they send, so the
pool always has work; when a batch is done its results are written in one transaction.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask

from bot import line
from bot.delivery import fanout, outbox
from bot.store.db import database
from bot.store.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: How often an idle worker looks for broadcasts whose time has come.
FAN_OUT_POLL_SECONDS = 0.25


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
        self.batch, self.threads, self.poll = batch, threads, poll
        self.lease = timedelta(seconds=lease)
        self.timeout = float(app.config.get("LINE_TIMEOUT_SECONDS", line.TIMEOUT_SECONDS))
        if self.lease.total_seconds() <= self.timeout:
            # Otherwise another worker could resend a message whose request is still running.
            raise ValueError(f"the lease ({lease} s) must be longer than the LINE timeout "
                             f"({self.timeout} s)")
        self._stopping = threading.Event()
        self._queued = threading.Condition()  # the fan-out thread wakes idle senders
        # The SDK's ApiClient writes `last_response` on every call, so it is not shared:
        # each sending thread has a gateway of its own.
        self._local = threading.local()
        self._pool: ThreadPoolExecutor | None = None

    def run_once(self, now: datetime | None = None) -> RunSummary:
        """Queue due broadcasts, then claim one batch, send it, record the results.

        `now` pins the clock (tests and scenario files).
        """
        clock: Clock = _utcnow if now is None else (lambda: now)
        fanout.fan_out_due(self.db.transaction, clock())
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="outbox")
        return self._claim_send_record(self.batch, clock, self._pool.map)

    def run_forever(self) -> None:
        """Send until SIGTERM or SIGINT; either stops it after the batches in hand."""
        previous = {signum: signal.signal(signum, self._on_signal)
                    for signum in (signal.SIGTERM, signal.SIGINT)}
        try:
            self._run()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def start(self) -> threading.Thread:
        """Run in a background thread (the demo's single process); `stop()` ends it."""
        thread = threading.Thread(target=self._run, name="worker", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stopping.set()
        self._wake_senders()

    def _run(self) -> None:
        log.info("worker started")
        fan_out = threading.Thread(target=self._fan_out_forever, name="fan-out", daemon=True)
        fan_out.start()
        try:
            self._send_forever()
        finally:
            self._stopping.set()
            fan_out.join()
            if self._pool is not None:
                self._pool.shutdown()
        log.info("worker stopped")

    def _on_signal(self, signum: int, _frame) -> None:
        log.info("worker stopping after the batches in hand (%s)", signal.Signals(signum).name)
        self._stopping.set()

    def _fan_out_forever(self) -> None:
        while not self._stopping.is_set():
            try:
                with self.db.transaction() as session:
                    due = fanout.due(session, _utcnow())
                for broadcast_id in due:
                    while not self._stopping.is_set():
                        with self.db.transaction() as session:
                            more = fanout.fan_out_page(session, broadcast_id, _utcnow())
                        self._wake_senders()  # also when another worker holds the broadcast
                        if not more:
                            break
            except Exception:
                log.exception("fan-out failed; trying again")
                self._stopping.wait(self.poll)
            self._stopping.wait(FAN_OUT_POLL_SECONDS)

    def _send_forever(self) -> None:
        """Keep two batches leased: one being sent, the next waiting in the pool's queue.

        A batch's results are written once all of it is sent, while the next is being sent.
        """
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="outbox")
        in_hand: deque[list[Future]] = deque()
        while not (self._stopping.is_set() and not in_hand):
            claimed = []
            if len(in_hand) < 2 and not self._stopping.is_set():
                with self.db.transaction() as session:
                    claimed = outbox.claim(session, _utcnow(), self.batch, self.lease)
                if claimed:
                    in_hand.append([self._pool.submit(self._send, message, _utcnow)
                                    for message in claimed])
            if in_hand and (len(in_hand) == 2 or not claimed):
                summary = self._record([future.result() for future in in_hand.popleft()],
                                       _utcnow())
                if summary.total:
                    log.info("outbox: %s", summary)
            elif not claimed:
                with self._queued:
                    if not self._stopping.is_set():
                        self._queued.wait(self.poll)

    def _wake_senders(self) -> None:
        with self._queued:
            self._queued.notify_all()

    # One round: claim, send, record ------------------------------------------------------

    def _claim_send_record(self, limit: int, clock: Clock, map_) -> RunSummary:
        with self.db.transaction() as session:
            claimed = outbox.claim(session, clock(), limit, self.lease)
        if not claimed:
            return RunSummary()
        return self._record(map_(lambda m: self._send(m, clock), claimed), clock())

    def _record(self, outcomes, now: datetime) -> RunSummary:
        done = [outcome for outcome in outcomes if outcome is not None]
        with self.db.transaction() as session:
            outbox.record(session, [result for result, _ in done], now)
        return RunSummary(**Counter(kind for _, kind in done))

    def _gateway(self) -> line.LineGateway:
        gateway = getattr(self._local, "gateway", None)
        if gateway is None:
            config = self.app.config
            gateway = self._local.gateway = line.LineGateway(
                str(config["LINE_API_HOST"]), str(config["LINE_CHANNEL_ACCESS_TOKEN"]))
        return gateway

    def _send(self, message: OutboxMessage, clock: Clock) -> tuple[outbox.Result, str] | None:
        """Send one claimed message; what to record and the RunSummary field it counts in.

        None when its lease would run out before LINE's timeout: it is left to be due again
        (with the same retry key) rather than sent while another worker may take it.
        """
        if outbox.nobody_left(message):
            return outbox.Result(message.id, OutboxStatus.SENT), "skipped"
        if clock() + timedelta(seconds=self.timeout) >= message.available_at:
            return None
        result = self._gateway().send(message.kind, outbox.request_body(message),
                                      message.retry_key, timeout=self.timeout)
        return judge(message, result, clock())


def judge(message: OutboxMessage, result: line.SendResult,
          now: datetime) -> tuple[outbox.Result, str]:
    """What LINE's answer means for the row: sent, tried again later, or failed for good."""
    if result.outcome is line.Outcome.SENT:
        return outbox.Result(message.id, OutboxStatus.SENT), "sent"
    if result.outcome is line.Outcome.RETRY:
        at = outbox.next_try(message, now, result.retry_after)
        if at is not None:
            log.info("outbox message %s: try %s failed, again at %s", message.id,
                     message.attempts, at.isoformat(timespec="seconds"))
            return outbox.Result(message.id, OutboxStatus.PENDING, at, result.detail), "retried"
        log.warning("outbox message %s: giving up after %s tries", message.id, message.attempts)
        return (outbox.Result(message.id, OutboxStatus.FAILED, None,
                              f"gave up, retry key too old: {result.detail}"), "failed")
    log.warning("outbox message %s: refused by LINE", message.id)
    return outbox.Result(message.id, OutboxStatus.FAILED, None, result.detail), "failed"
