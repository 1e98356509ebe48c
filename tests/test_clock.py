"""One active clock, and jobs that act once per item whatever runs them (issue #6).

What they prove is "Jobs and scale" in docs/rules.md. The concurrency tests need PostgreSQL's
row locks (TEST_DATABASE_URL); the lock tests run on both databases (an advisory lock on
PostgreSQL, a lease row on SQLite).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, insert, select, text

from bot.services import entities
from bot.store.models import JobMark, OutboxMessage, Person, Registration
from jobs import run_job
from jobs.clock import ClockLock
from tests.factories import now

PEOPLE = 60


def premium_people(db, count: int = PEOPLE, expires_in: timedelta = timedelta(days=20)) -> list[int]:
    """`count` premium registrants of 神山町 whose year ends in `expires_in` (due a reminder)."""
    moment = now()
    with db.transaction() as session:
        entity = entities.by_code(session, "363421")
        entity.participating = True
        ids = session.scalars(insert(Person).returning(Person.id), [
            {"line_user_id": f"U{i:032x}", "following": True, "created_at": moment,
             "last_access_at": moment} for i in range(count)]).all()
        session.execute(insert(Registration), [
            {"person_id": person_id, "entity_id": entity.id, "kind": "premium",
             "status": "active", "origin": "direct", "registered_at": moment - timedelta(days=400),
             "premium_since": moment - timedelta(days=345), "premium_origin": "direct",
             "premium_until": moment + expires_in} for person_id in ids])
    return sorted(ids)


def counts(db) -> tuple[int, int, int]:
    """(outbox messages, job marks, distinct recipients)."""
    with db.transaction() as session:
        messages = session.scalars(select(OutboxMessage.recipients)).all()
        marks = session.scalar(select(func.count(JobMark.id)))
    return len(messages), marks, len({r for recipients in messages for r in recipients})


@pytest.fixture
def postgres(database_template):
    if database_template[0] != "postgresql":
        pytest.skip("row locks and concurrent transactions: PostgreSQL (TEST_DATABASE_URL)")


# The jobs, run concurrently, twice, interrupted ------------------------------------------------

def test_a_job_run_twice_sends_each_reminder_once(app, db):
    premium_people(db)
    first = run_job(app, "premium-reminders", now(), batch=7)
    second = run_job(app, "premium-reminders", now(), batch=7)
    assert first.counts == {"reminded 30 days before": PEOPLE}
    assert second.counts == {}
    assert counts(db) == (PEOPLE, PEOPLE, PEOPLE)


def test_two_runs_at_the_same_moment_send_each_reminder_once(app, db, postgres):
    premium_people(db)
    moment = now()
    start = threading.Barrier(2)
    summaries = []

    def clock():
        start.wait()
        summaries.append(run_job(app, "premium-reminders", moment, batch=5))

    threads = [threading.Thread(target=clock) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    total = sum((s.counts for s in summaries), Counter())
    assert total["reminded 30 days before"] == PEOPLE
    assert counts(db) == (PEOPLE, PEOPLE, PEOPLE)


def test_a_run_killed_half_way_resumes_without_doing_anything_twice(app, db, database_url,
                                                                      postgres, tmp_path):
    """A real crash: the job process is SIGKILLed while it waits for a person's row that a
    webhook (here: another connection) holds; the next run finishes the rest."""
    ids = premium_people(db)
    blocker = create_engine(database_url)
    connection = blocker.connect()
    transaction = connection.begin()
    connection.execute(text("SELECT id FROM person WHERE id = :id FOR UPDATE"),
                       {"id": ids[PEOPLE // 2]})
    furusato = str(Path(sys.executable).parent / "furusato")
    env = {**os.environ, "FURUSATO_ENV": "test", "DATABASE_URL": database_url,
           "LOG_LEVEL": "WARNING"}
    log = (tmp_path / "job.log").open("wb")
    process = subprocess.Popen([furusato, "jobs", "run", "premium-reminders", "--batch", "5"],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while counts(db)[1] < PEOPLE // 2 - 5 and time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "job.log").read_text()
            time.sleep(0.1)
        time.sleep(0.5)  # now it waits on the locked row
        assert process.poll() is None
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    finally:
        transaction.rollback()
        connection.close()
        blocker.dispose()
        log.close()
    messages, marks, people = counts(db)
    assert 0 < marks < PEOPLE and messages == marks == people  # whole pages, nothing else

    resumed = run_job(app, "premium-reminders", now(), batch=5)
    assert resumed.counts == {"reminded 30 days before": PEOPLE - marks}
    assert counts(db) == (PEOPLE, PEOPLE, PEOPLE)


# One active clock ------------------------------------------------------------------------------

def test_only_one_clock_holds_the_lock_and_another_takes_over_when_it_goes(db):
    first, second = ClockLock(db), ClockLock(db)
    moment = now()
    assert first.acquire(moment)
    assert first.acquire(moment + timedelta(seconds=30))  # the heartbeat keeps it
    assert not second.acquire(moment + timedelta(seconds=31))
    first.release()
    assert second.acquire(moment + timedelta(seconds=32))
    assert not first.acquire(moment + timedelta(seconds=33))
    second.release()


def test_a_clock_that_stops_beating_loses_the_lease_on_sqlite(db, database_template):
    if database_template[0] != "sqlite":
        pytest.skip("PostgreSQL's advisory lock goes with the connection (next test)")
    first, second = ClockLock(db, timedelta(seconds=90)), ClockLock(db, timedelta(seconds=90))
    moment = now()
    assert first.acquire(moment)
    assert not second.acquire(moment + timedelta(seconds=89))
    assert second.acquire(moment + timedelta(seconds=91))  # the first one hung or died
    assert not first.acquire(moment + timedelta(seconds=92))


def test_a_clock_whose_connection_dies_loses_the_lock_on_postgresql(db, postgres):
    first, second = ClockLock(db), ClockLock(db)
    assert first.acquire()
    backend = first._connection.execute(text("SELECT pg_backend_pid()")).scalar()
    first._connection.commit()
    assert not second.acquire()
    with db.engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    # pg_terminate_backend only signals; the lock goes when that backend has exited.
    _wait_for(second.acquire, seconds=10)
    assert not first.acquire()  # it notices, and the lock is now the other's
    second.release()


def _clock(database_url: str, log: Path) -> subprocess.Popen:
    furusato = str(Path(sys.executable).parent / "furusato")
    env = {**os.environ, "FURUSATO_ENV": "test", "DATABASE_URL": database_url,
           "LOG_LEVEL": "INFO"}
    return subprocess.Popen([furusato, "clock", "--heartbeat", "1", "--no-catch-up"], env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _wait_for(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_two_clock_processes_one_active_the_other_takes_over(database_url, tmp_path):
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    first = _clock(database_url, logs[0])
    try:
        _wait_for(lambda: "clock: active" in logs[0].read_text())
        second = _clock(database_url, logs[1])
        try:
            _wait_for(lambda: "another clock is active" in logs[1].read_text())
            assert "clock: active" not in logs[1].read_text()
            first.send_signal(signal.SIGTERM)
            assert first.wait(30) == 0
            assert "clock stopped" in logs[0].read_text()
            _wait_for(lambda: "clock: active" in logs[1].read_text())
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(10)
