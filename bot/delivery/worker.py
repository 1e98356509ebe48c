"""The `worker` process: sends the outgoing queue (bot/delivery/outbox.py) to LINE.

Any number of workers share the queue. In each, a thread fans due broadcasts out into the
queue, the main thread leases due rows as the sending threads have room for them (all busy
and one round waiting), and a recorder thread writes each result as its send ends (those
ending together in one transaction). A crash therefore strands only the sends in flight and
the round waiting — at most twice `threads` rows — until their lease ends.

The worker outlives its database: a failed claim or record is logged and tried again with a
backoff, on a new connection, and results wait in memory meanwhile. It stops the whole queue,
for every worker, when LINE refuses the channel's token (401/403: until one message gets
through again) or asks us to slow down (429: for its Retry-After).
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy.exc import DBAPIError

from bot import line
from bot.delivery import fanout, outbox
from bot.store.db import database
from bot.store.models import OutboxFailure, OutboxMessage, OutboxPauseReason

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: How often an idle worker looks for broadcasts whose time has come.
FAN_OUT_POLL_SECONDS = 0.25
#: A 429 without Retry-After stops the queue this long.
SLOW_DOWN_SECONDS = 2.0
#: After a database error: wait this long, doubling up to the cap, before trying again.
DATABASE_BACKOFF_FIRST = 0.5
DATABASE_BACKOFF_CAP = 30.0
DEFAULT_LEASE_SECONDS = 30.0
#: A stopping worker tries this many times to record its last results, then leaves them.
STOPPING_RECORD_TRIES = 5


@dataclass(frozen=True)
class RunSummary:
    """What one round did with the messages it leased."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0  # nobody left to send to: marked sent without asking LINE
    held: int = 0     # not taken by LINE (the queue is paused): due again when it resumes

    @property
    def total(self) -> int:
        return self.sent + self.retried + self.failed + self.skipped + self.held

    def __str__(self) -> str:
        text = (f"sent {self.sent}, retried {self.retried}, failed {self.failed}, "
                f"skipped {self.skipped}")
        return f"{text}, held {self.held}" if self.held else text


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Worker:
    def __init__(self, app: Flask, *, batch: int = 50, threads: int = 8,
                 lease: float | None = None, poll: float = 1.0):
        self.app = app
        self.db = database(app)
        self.batch, self.threads, self.poll = batch, threads, poll
        config = app.config
        self.lease = timedelta(seconds=float(
            lease if lease is not None else config.get("OUTBOX_LEASE_SECONDS",
                                                       DEFAULT_LEASE_SECONDS)))
        self.probe_every = timedelta(seconds=float(
            config.get("OUTBOX_PROBE_SECONDS", outbox.PROBE_EVERY.total_seconds())))
        self.timeout = float(config.get("LINE_TIMEOUT_SECONDS", line.TIMEOUT_SECONDS))
        if self.lease.total_seconds() <= self.timeout:
            # Otherwise another worker could resend a message whose request is still running.
            raise ValueError(f"the lease ({self.lease.total_seconds():g} s) must be longer "
                             f"than the LINE timeout ({self.timeout:g} s)")
        self._stopping = threading.Event()
        self._wake = threading.Condition()  # new work, a finished send, or a stop
        # Until then this worker sends nothing (LINE said so); the database holds the same
        # pause for the other workers.
        self._held_until: datetime | None = None
        self._in_flight = 0
        self._results: queue.SimpleQueue[outbox.Result | None] = queue.SimpleQueue()
        # The SDK's ApiClient writes `last_response` on every call, so it is not shared:
        # each sending thread has a gateway of its own.
        self._local = threading.local()
        self._pool: ThreadPoolExecutor | None = None

    def run_once(self, now: datetime | None = None) -> RunSummary:
        """Queue due broadcasts, then lease one batch, send it, record the results.

        `now` pins the clock (tests and scenario files).
        """
        clock: Clock = _utcnow if now is None else (lambda: now)
        fanout.fan_out_due(self.db.transaction, clock())
        with self.db.transaction() as session:
            lease = outbox.claim(session, clock(), self.batch, self.lease, self.probe_every)
        if lease.paused is not None:
            log.info("outbox paused (%s) until %s", lease.paused.reason,
                     lease.paused.resume_at.isoformat(timespec="seconds"))
        if not lease.messages:
            return RunSummary()
        with ThreadPoolExecutor(self.threads, thread_name_prefix="outbox") as pool:
            outcomes = list(pool.map(lambda m: self._send(m, lease, clock), lease.messages))
        with self.db.transaction() as session:
            outbox.record(session, [result for result, _ in outcomes], clock())
        return RunSummary(**Counter(kind for _, kind in outcomes))

    def run_forever(self) -> None:
        """Send until SIGTERM or SIGINT; either stops it after the sends in flight."""
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
        self._notify()

    def _run(self) -> None:
        log.info("worker started")
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="outbox")
        fan_out = threading.Thread(target=self._fan_out_forever, name="fan-out", daemon=True)
        recorder = threading.Thread(target=self._record_forever, name="recorder", daemon=True)
        fan_out.start()
        recorder.start()
        try:
            self._send_forever()
        finally:
            self._stopping.set()
            self._pool.shutdown()  # the sends in flight end and hand in their results
            self._results.put(None)
            recorder.join()
            fan_out.join()
        log.info("worker stopped")

    def _on_signal(self, signum: int, _frame) -> None:
        log.info("worker stopping after the sends in flight (%s)", signal.Signals(signum).name)
        self._stopping.set()

    def _notify(self) -> None:
        with self._wake:
            self._wake.notify_all()

    # The threads ---------------------------------------------------------------------------

    def _fan_out_forever(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                with self.db.transaction() as session:
                    due = fanout.due(session, _utcnow())
                for broadcast_id in due:
                    while not self._stopping.is_set():
                        with self.db.transaction() as session:
                            more = fanout.fan_out_page(session, broadcast_id, _utcnow())
                        self._notify()  # also when another worker holds the broadcast
                        if not more:
                            break
                failures = 0
            except DBAPIError as error:
                failures += 1
                self._stopping.wait(self._database_backoff(failures, "fanning out", error))
            except Exception:  # a bug: the traceback is for us, and the next round tries again
                log.exception("fan-out failed; trying again")
                self._stopping.wait(self.poll)
            self._stopping.wait(FAN_OUT_POLL_SECONDS)

    def _send_forever(self) -> None:
        """Lease rows as the sending threads have room: every thread busy and one more round
        waiting, so a crash strands at most twice `threads` rows until their lease ends."""
        failures = 0
        while not self._stopping.is_set():
            room = 2 * self.threads - self._in_flight
            if room < min(self.threads, self.batch) or self._holding(_utcnow()):
                self._wait(self.poll)
                continue
            try:
                with self.db.transaction() as session:
                    lease = outbox.claim(session, _utcnow(), min(room, self.batch), self.lease,
                                         self.probe_every)
            except DBAPIError as error:
                failures += 1
                self._wait(self._database_backoff(failures, "leasing", error))
                continue
            if failures:
                log.warning("database reachable again: sending resumes")
                failures = 0
            if lease.paused is not None:
                self._hold(lease.paused.resume_at, lease.paused.reason, lease.paused.detail)
                continue
            if not lease.messages:
                self._wait(self.poll)
                continue
            with self._wake:
                self._in_flight += len(lease.messages)
            for message in lease.messages:
                future = self._pool.submit(self._send, message, lease, _utcnow)
                future.add_done_callback(self._sent)

    def _sent(self, future: Future) -> None:
        if future.exception() is not None:  # a bug, not LINE: the lease ends and it is retried
            log.error("sending an outbox message failed", exc_info=future.exception())
        else:
            self._results.put(future.result()[0])
        with self._wake:
            self._in_flight -= 1
            self._wake.notify_all()

    def _record_forever(self) -> None:
        """Write results as they come; what cannot be written yet is kept and tried again."""
        pending: list[outbox.Result] = []
        failures, done = 0, False
        while not (done and not pending):
            done = self._collect(pending, block=not pending) or done
            if not pending:
                continue
            try:
                with self.db.transaction() as session:
                    outbox.record(session, pending, _utcnow())
            except Exception as error:  # the database, or a bug: the results wait, not lost
                failures += 1
                if done and failures > STOPPING_RECORD_TRIES:
                    # Their leases end and they are sent again with the same retry keys:
                    # LINE answers 409 for those it took, and nobody gets one twice.
                    log.error("stopping with %s results not recorded; those messages are "
                              "tried again after their lease", len(pending))
                    return
                if isinstance(error, DBAPIError):
                    time.sleep(self._database_backoff(failures, "recording", error))
                else:
                    log.exception("recording %s results failed; trying again", len(pending))
                    time.sleep(_backoff(failures))
                continue
            if failures:
                log.warning("database reachable again: %s results recorded", len(pending))
            pending, failures = [], 0

    def _collect(self, into: list[outbox.Result], block: bool) -> bool:
        """Move the results handed in so far into `into`; True once the last has come."""
        items = [self._results.get()] if block else []
        while True:
            try:
                items.append(self._results.get_nowait())
            except queue.Empty:
                break
        into.extend(item for item in items if item is not None)
        return None in items

    # Pausing -------------------------------------------------------------------------------

    def _holding(self, now: datetime) -> bool:
        return self._held_until is not None and now < self._held_until

    def _hold(self, until: datetime, reason: str, detail: str | None) -> None:
        """Send nothing until `until`; said once per pause (not by every send in flight)."""
        already = self._holding(_utcnow())
        if self._held_until is None or until > self._held_until:
            self._held_until = until
        if already:
            return
        if reason == OutboxPauseReason.UNAUTHORIZED:
            log.error("LINE refuses the channel access token (%s): sending is paused; it "
                      "resumes when LINE accepts the token again (check "
                      "LINE_CHANNEL_ACCESS_TOKEN; `furusato outbox status`)", detail)
        else:
            log.warning("LINE asks us to slow down (%s): sending paused until %s", detail,
                        until.isoformat(timespec="seconds"))

    def _wait(self, seconds: float) -> None:
        with self._wake:
            if not self._stopping.is_set():
                self._wake.wait(seconds)

    def _database_backoff(self, failures: int, doing: str, error: DBAPIError) -> float:
        wait = _backoff(failures)
        log.warning("database unavailable while %s (%s); trying again in %.1f s", doing,
                    type(error.orig or error).__name__, wait)
        return wait

    # One message ---------------------------------------------------------------------------

    def _gateway(self) -> line.LineGateway:
        gateway = getattr(self._local, "gateway", None)
        if gateway is None:
            config = self.app.config
            gateway = self._local.gateway = line.LineGateway(
                str(config["LINE_API_HOST"]), str(config["LINE_CHANNEL_ACCESS_TOKEN"]))
        return gateway

    def _send(self, message: OutboxMessage, lease: outbox.Lease,
              clock: Clock) -> tuple[outbox.Result, str]:
        """Send one leased message; what to record and the RunSummary field it counts in.

        Not sent, and released, while the queue is paused, or when its lease would run out
        before LINE's timeout (another worker may take it then).
        """
        now = clock()
        if outbox.nobody_left(message):
            return outbox.Result(message.id, lease.token, outbox.Outcome.SENT), "skipped"
        if self._holding(now):
            return (outbox.Result(message.id, lease.token, outbox.Outcome.RELEASED,
                                  self._held_until), "held")
        if now + timedelta(seconds=self.timeout) >= message.available_at:
            return outbox.Result(message.id, lease.token, outbox.Outcome.RELEASED, now), "held"
        result = self._gateway().send(message.kind, outbox.request_body(message),
                                      message.retry_key, timeout=self.timeout)
        judged = judge(message, lease, result, clock(), self.probe_every)
        if judged[0].pause is not None:
            self._hold(judged[0].at, judged[0].pause, result.detail)
        elif lease.probe and judged[0].resumes:
            self._held_until = None
            log.warning("LINE accepts the channel access token again: sending resumes")
        return judged


def _backoff(failures: int) -> float:
    return min(DATABASE_BACKOFF_CAP, DATABASE_BACKOFF_FIRST * 2 ** (failures - 1))


def judge(message: OutboxMessage, lease: outbox.Lease, result: line.SendResult, now: datetime,
          probe_every: timedelta = outbox.PROBE_EVERY) -> tuple[outbox.Result, str]:
    """What LINE's answer means for the row: sent, tried again later, held while the queue
    pauses, or failed for good."""
    Result, Outcome = outbox.Result, outbox.Outcome
    token = lease.token
    match result.outcome:
        case line.Outcome.SENT:
            return Result(message.id, token, Outcome.SENT, resumes=lease.probe), "sent"
        case line.Outcome.UNAUTHORIZED:
            return (Result(message.id, token, Outcome.RELEASED, now + probe_every, result.detail,
                           pause=OutboxPauseReason.UNAUTHORIZED), "held")
        case line.Outcome.SLOW_DOWN:
            wait = result.retry_after if result.retry_after is not None else SLOW_DOWN_SECONDS
            return (Result(message.id, token, Outcome.RELEASED, now + timedelta(seconds=wait),
                           result.detail, pause=OutboxPauseReason.RATE_LIMITED), "held")
        case line.Outcome.RETRY:
            at = outbox.next_try(message, now, None)
            if at is not None:
                log.info("outbox message %s: try %s failed, again at %s", message.id,
                         message.attempts, at.isoformat(timespec="seconds"))
                return Result(message.id, token, Outcome.RETRY, at, result.detail), "retried"
            log.warning("outbox message %s: not tried again, its retry key is too old",
                        message.id)
            return (Result(message.id, token, Outcome.FAILED, None,
                           f"{outbox.EXPIRED_NOTE}: {result.detail}", OutboxFailure.EXPIRED),
                    "failed")
    log.warning("outbox message %s: refused by LINE", message.id)
    return (Result(message.id, token, Outcome.FAILED, None, result.detail,
                   OutboxFailure.REFUSED), "failed")
