"""The `clock` process: APScheduler 3 runs the jobs of jobs/ on their schedule, in one
active clock at a time.

Which clock is active is decided by the database: on PostgreSQL a session advisory lock held
by a connection the clock keeps open (it goes with the connection if the process dies); on
SQLite a lease row the active clock renews. A clock that is not active waits and tries again,
so a second one is a hot standby. The jobs do not rely on the lock to be correct — each item
is marked in the transaction that acts on it — the lock keeps the work from being done twice
over and the database from being read twice as hard.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from datetime import UTC, datetime, time, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from bot.domain.calendar import JST
from bot.store.db import Database, database
from bot.store.models import ClockLease
from jobs import JOBS, run_job

log = logging.getLogger(__name__)

#: pg_try_advisory_lock's key: "furusato clock", as a 64-bit number.
ADVISORY_KEY = 0x6675727573636C6B
LEASE_NAME = "clock"
#: Jobs that write to people start only between these hours (Japan time), also on catch-up.
DAYTIME = (time(8, 0), time(21, 0))


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ClockLock:
    """One active clock per database. `acquire` is also the heartbeat: call it periodically."""

    def __init__(self, db: Database, lease: timedelta = timedelta(seconds=90)):
        self.db = db
        self.lease = lease
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:100]
        self.postgres = db.engine.dialect.name == "postgresql"
        self._connection: Connection | None = None

    @property
    def held(self) -> bool:
        return self._connection is not None if self.postgres else self._lease_until is not None

    _lease_until: datetime | None = None

    def acquire(self, now: datetime | None = None) -> bool:
        """Take the lock, or keep it; False while another clock holds it."""
        return self._advisory() if self.postgres else self._lease(now or _utcnow())

    def release(self) -> None:
        if self.postgres:
            if self._connection is not None:
                try:
                    self._connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                             {"key": ADVISORY_KEY})
                    self._connection.commit()
                finally:
                    self._connection.close()
                    self._connection = None
            return
        if self._lease_until is not None:
            with self.db.transaction() as session:
                row = session.get(ClockLease, LEASE_NAME)
                if row is not None and row.holder == self.holder:
                    session.delete(row)
            self._lease_until = None

    def _advisory(self) -> bool:
        if self._connection is not None:
            try:  # still ours as long as the connection lives
                self._connection.execute(text("SELECT 1"))
                self._connection.commit()
                return True
            except DBAPIError:
                log.warning("clock: lost the database connection that held the lock")
                self._connection.invalidate()
                self._connection = None
        connection = self.db.engine.connect()
        try:
            got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                     {"key": ADVISORY_KEY}).scalar()
            connection.commit()  # the lock is the session's: no transaction left open
        except Exception:
            connection.close()
            raise
        if got:
            self._connection = connection
            return True
        connection.close()
        return False

    def _lease(self, now: datetime) -> bool:
        with self.db.transaction() as session:  # BEGIN IMMEDIATE: one clock at a time here
            row = session.get(ClockLease, LEASE_NAME)
            if row is None:
                session.add(ClockLease(name=LEASE_NAME, holder=self.holder, acquired_at=now,
                                       expires_at=now + self.lease))
            elif row.holder == self.holder or row.expires_at <= now:
                if row.holder != self.holder:
                    row.holder, row.acquired_at = self.holder, now
                row.expires_at = now + self.lease
            else:
                self._lease_until = None
                return False
        self._lease_until = now + self.lease
        return True


def daytime(now: datetime) -> bool:
    local = now.astimezone(JST).time()
    return DAYTIME[0] <= local < DAYTIME[1]


class Clock:
    """Waits to become the active clock, then runs the schedule until stopped or the lock
    is lost (then it waits again)."""

    def __init__(self, app: Flask, *, heartbeat: float = 30.0, catch_up: bool = True):
        self.app = app
        self.lock = ClockLock(database(app), lease=timedelta(seconds=heartbeat * 3))
        self.heartbeat = heartbeat
        self.catch_up = catch_up
        self._stopping = threading.Event()
        self._scheduler: BackgroundScheduler | None = None

    def run_forever(self) -> None:
        previous = {signum: signal.signal(signum, self._on_signal)
                    for signum in (signal.SIGTERM, signal.SIGINT)}
        log.info("clock started (%s)", self.lock.holder)
        try:
            while not self._stopping.is_set():
                active = self.lock.acquire()
                if active and self._scheduler is None:
                    log.info("clock: active; jobs scheduled")
                    self._start_scheduler()
                elif not active and self._scheduler is not None:
                    log.warning("clock: lost the lock; jobs stopped")
                    self._stop_scheduler()
                elif not active:
                    log.info("clock: another clock is active; waiting")
                self._stopping.wait(self.heartbeat)
        finally:
            self._stop_scheduler()
            self.lock.release()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            log.info("clock stopped")

    def stop(self) -> None:
        self._stopping.set()

    def _on_signal(self, signum: int, _frame) -> None:
        log.info("clock stopping (%s)", signal.Signals(signum).name)
        self._stopping.set()

    def _start_scheduler(self) -> None:
        # One job at a time: the jobs share the database with the web processes.
        scheduler = BackgroundScheduler(timezone=JST,
                                        executors={"default": ThreadPoolExecutor(1)},
                                        job_defaults={"coalesce": True, "max_instances": 1,
                                                      "misfire_grace_time": 3600})
        now = _utcnow()
        for job in JOBS.values():
            # A deploy or a failover must not make anything wait a day: every job also runs
            # once on start (idempotent), those that write to people only in the daytime.
            first = now if self.catch_up and (not job.daytime_only or daytime(now)) else None
            scheduler.add_job(self.run, CronTrigger(timezone=JST, **job.schedule),
                              args=[job.name], id=job.name, name=job.name,
                              **({"next_run_time": first} if first else {}))
        scheduler.start()
        self._scheduler = scheduler

    def _stop_scheduler(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)  # lets the job in hand finish its page loop
            self._scheduler = None

    def run(self, name: str) -> None:
        if not self.lock.held:
            return
        try:
            summary = run_job(self.app, name, _utcnow())
            log.info("%s", summary)
        except Exception:
            # The next run resumes where this one stopped (per-item marks).
            log.exception("clock: job %s failed", name)
