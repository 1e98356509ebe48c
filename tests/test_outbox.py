"""The outgoing queue and the `worker` process (Outgoing messages, Jobs and scale: docs/rules.md).

Everything goes through the local LINE platform over real HTTP: faults are injected there,
and what LINE received is read back from it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from linebot.v3.messaging.models import TextMessage
from sqlalchemy import create_engine, insert, select, text

from bot import line
from bot.delivery import fanout, outbox
from bot.delivery.worker import RunSummary, Worker
from bot.domain.audience import Audience
from bot.services import entities
from bot.store.models import (
    Broadcast,
    BroadcastStatus,
    OutboxFailure,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    Person,
    Registration,
)
from jobs import run_job
from tests.factories import KAMIYAMA, Chat, now, register_by_name, user_id

HANAKO, TARO, JIRO, SABURO = (user_id(name) for name in ("花子", "太郎", "次郎", "三郎"))
NEWS = [TextMessage(text="お知らせ")]


def add_people(db, user_ids, **fields) -> None:
    with db.transaction() as session:
        session.execute(insert(Person), [
            {"line_user_id": uid, "created_at": now(), "following": True, **fields}
            for uid in user_ids])


def queue_push(db, to: str, messages=NEWS) -> OutboxMessage:
    with db.transaction() as session:
        return outbox.push(session, to, messages, now())


def stored(db) -> list[OutboxMessage]:
    with db.transaction() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def requests_to(line, endpoint: str):
    return [r for r in line.requests if r.endpoint == endpoint]


def wait_for(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def many_users(count: int) -> list[str]:
    return [f"U{index:032x}" for index in range(1, count + 1)]


# Enqueueing ------------------------------------------------------------------------------------

def test_a_message_is_queued_in_the_callers_transaction_or_not_at_all(db):
    add_people(db, [HANAKO])
    with pytest.raises(RuntimeError), db.transaction() as session:
        outbox.push(session, HANAKO, NEWS, now())
        raise RuntimeError("the change that caused it failed")
    assert stored(db) == []

    message = queue_push(db, HANAKO, [TextMessage(text="一"), {"type": "text", "text": "二"}])

    [row] = stored(db)
    assert (row.id, row.kind, row.status, row.attempts) == (message.id, "push", "pending", 0)
    assert row.recipients == [HANAKO]
    assert row.messages == [{"type": "text", "text": "一"}, {"type": "text", "text": "二"}]
    assert len(row.retry_key) == 36 and row.retry_key != queue_push(db, HANAKO).retry_key


@pytest.mark.parametrize("messages", [
    [], NEWS * 6, [{"type": "no such type"}], [{"text": "no type"}], [{"type": "text"}],
], ids=["none", "six", "unknown type", "no type", "no text"])
def test_what_line_would_not_take_is_refused_when_queued(db, messages):
    with pytest.raises(ValueError), db.transaction() as session:
        outbox.push(session, HANAKO, messages, now())
    assert stored(db) == []


def test_the_lease_must_outlast_a_request_to_line(app):
    app.config["LINE_TIMEOUT_SECONDS"] = 5
    with pytest.raises(ValueError, match="lease"):
        Worker(app, lease=5)


# Sending ---------------------------------------------------------------------------------------

def test_a_queued_push_is_delivered_once_with_its_retry_key(app, db, line):
    add_people(db, [HANAKO])
    message = queue_push(db, HANAKO)
    worker = Worker(app)

    assert worker.run_once() == RunSummary(sent=1)
    assert worker.run_once() == RunSummary()

    [row] = stored(db)
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 1, None)
    assert row.sent_at is not None
    [delivery] = line.deliveries()
    assert (delivery.to, delivery.via, delivery.retry_key) == (HANAKO, "push", message.retry_key)
    assert delivery.messages == [{"type": "text", "text": "お知らせ"}]


def test_a_5xx_is_retried_with_backoff_and_the_same_key(app, db, line):
    add_people(db, [HANAKO])
    message = queue_push(db, HANAKO)
    line.inject("push", 500, times=2)
    worker, start = Worker(app), now()

    assert worker.run_once(start) == RunSummary(retried=1)
    [first] = stored(db)
    assert worker.run_once(start) == RunSummary()  # not due yet
    assert worker.run_once(start + timedelta(minutes=10)) == RunSummary(retried=1)
    [second] = stored(db)
    assert worker.run_once(start + timedelta(minutes=20)) == RunSummary(sent=1)

    assert start + timedelta(seconds=1) <= first.available_at <= start + timedelta(seconds=2)
    assert first.last_error.startswith("500") and "injected fault" in first.last_error
    later = start + timedelta(minutes=10)
    assert later + timedelta(seconds=2) <= second.available_at <= later + timedelta(seconds=4)
    [row] = stored(db)
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.SENT, 3, None)
    pushes = requests_to(line, "push")
    assert [r.status for r in pushes] == [500, 500, 200]
    assert {r.retry_key for r in pushes} == {message.retry_key}
    assert len(line.deliveries(HANAKO)) == 1


def test_a_429_pauses_the_whole_queue_not_row_by_row(app, db, line):
    add_people(db, [HANAKO, TARO, JIRO])
    messages = [queue_push(db, to) for to in (HANAKO, TARO, JIRO)]
    line.inject("push", 429, body={"message": "Too many requests"})
    worker, start = Worker(app, threads=1), now()

    assert worker.run_once(start) == RunSummary(held=3)  # one request, the others held back
    with db.transaction() as session:
        pause = outbox.current_pause(session)
        assert (pause.reason, pause.resume_at) == ("rate_limited",
                                                   start + timedelta(seconds=2))
    assert Worker(app).run_once(start + timedelta(seconds=1)) == RunSummary()  # every worker
    assert worker.run_once(start + timedelta(seconds=3)) == RunSummary(sent=3)

    assert [r.status for r in requests_to(line, "push")] == [429, 200, 200, 200]
    assert [(row.status, row.attempts, row.retry_key) for row in stored(db)] == [
        (OutboxStatus.SENT, 1, m.retry_key) for m in messages]
    with db.transaction() as session:
        assert outbox.current_pause(session) is None


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_pauses_sending_and_it_resumes_with_the_same_keys(
        app, db, line, status, caplog):
    """A rotated channel token: nothing is failed, everything goes out once LINE takes it."""
    add_people(db, [HANAKO, TARO, JIRO])
    messages = [queue_push(db, to) for to in (HANAKO, TARO, JIRO)]
    line.inject("push", status, times=2, body={"message": "Authentication failed"})
    worker, start = Worker(app, threads=1), now()

    assert worker.run_once(start) == RunSummary(held=3)
    assert "LINE refuses the channel access token" in caplog.text
    with db.transaction() as session:
        pause = outbox.current_pause(session)
        assert pause.reason == "unauthorized" and "Authentication failed" in pause.detail
    assert worker.run_once(start + timedelta(seconds=5)) == RunSummary()
    # Then one message tries the token: still refused, then accepted.
    assert worker.run_once(start + timedelta(seconds=11)) == RunSummary(held=1)
    assert worker.run_once(start + timedelta(seconds=22)) == RunSummary(sent=1)
    with db.transaction() as session:
        assert outbox.current_pause(session) is None
    assert worker.run_once(start + timedelta(seconds=22)) == RunSummary(sent=2)

    assert [r.status for r in requests_to(line, "push")] == [status, status, 200, 200, 200]
    assert [(row.status, row.attempts, row.failure) for row in stored(db)] == [
        (OutboxStatus.SENT, 1, None)] * 3
    assert Counter(d.retry_key for d in line.deliveries()) == Counter(
        m.retry_key for m in messages)


def test_retry_after_is_read_in_seconds_or_as_a_date():
    moment = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert line.retry_after_seconds("120") == 120
    assert line.retry_after_seconds("Tue, 01 Dec 2026 09:00:30 GMT", moment) == 30
    assert line.retry_after_seconds("Tue, 01 Dec 2026 08:00:00 GMT", moment) == 0
    assert line.retry_after_seconds(None) is None
    assert line.retry_after_seconds("soon") is None


def test_after_a_timeout_the_retry_gets_409_and_counts_as_sent(app, db, line):
    add_people(db, [HANAKO])
    message = queue_push(db, HANAKO)
    app.config["LINE_TIMEOUT_SECONDS"] = 0.3
    line.inject("push", None, delay=1.0)  # slow, but LINE does take the request
    worker, start = Worker(app), now()

    assert worker.run_once(start) == RunSummary(retried=1)
    [waiting] = stored(db)
    wait_for(lambda: len(requests_to(line, "push")) == 1)
    assert worker.run_once(start + timedelta(minutes=5)) == RunSummary(sent=1)

    assert waiting.last_error == "no answer from LINE: ReadTimeoutError"
    [row] = stored(db)
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)
    pushes = requests_to(line, "push")
    assert [r.status for r in pushes] == [200, 409]
    assert {r.retry_key for r in pushes} == {message.retry_key}
    assert len(line.deliveries(HANAKO)) == 1


def test_a_4xx_fails_with_lines_message_and_is_never_retried(app, db, line):
    add_people(db, [HANAKO])
    queue_push(db, HANAKO, [TextMessage(text="あ" * 6000)])  # the SDK's model lets it through
    worker, start = Worker(app), now()

    assert worker.run_once(start) == RunSummary(failed=1)
    assert worker.run_once(start + timedelta(days=1)) == RunSummary()

    [row] = stored(db)
    assert (row.status, row.sent_at, row.attempts) == (OutboxStatus.FAILED, None, 1)
    assert row.failure == OutboxFailure.REFUSED
    assert row.last_error.startswith("400 ") and "The request body has 1 error(s)" in row.last_error
    assert "messages[0].text" in row.last_error
    assert len(requests_to(line, "push")) == 1 and line.deliveries() == []


def test_a_row_line_refuses_fails_with_lines_message_and_the_worker_goes_on(app, db, line):
    add_people(db, [HANAKO])
    with db.transaction() as session:
        broken = outbox.push(session, HANAKO, NEWS, now())
        broken.messages = [{"type": "text"}]  # as if written by hand, past the checks
    queue_push(db, HANAKO)

    assert Worker(app).run_once() == RunSummary(sent=1, failed=1)

    failed, sent = stored(db)
    assert failed.status == OutboxStatus.FAILED and failed.last_error.startswith("400 ")
    assert "messages[0].text" in failed.last_error
    assert sent.status == OutboxStatus.SENT and len(line.deliveries(HANAKO)) == 1


def test_blocked_and_deleted_people_are_skipped(app, db, line):
    add_people(db, [HANAKO])
    add_people(db, [TARO], following=False)      # blocked the account
    add_people(db, [JIRO], deleted_at=now())     # deleted, user ID not erased yet
    # SABURO deleted their data: the person row no longer holds the user ID.
    with db.transaction() as session:
        outbox.multicast(session, [HANAKO, TARO, JIRO, SABURO], NEWS, now())
        for to in (TARO, SABURO):
            outbox.push(session, to, NEWS, now())

    assert Worker(app).run_once() == RunSummary(sent=1, skipped=2)

    multicast, *pushes = stored(db)
    assert (multicast.status, multicast.recipients) == (OutboxStatus.SENT, [HANAKO])
    assert [(p.status, p.recipients, p.last_error) for p in pushes] == [(OutboxStatus.SENT, [], None)] * 2
    assert [d.to for d in line.deliveries()] == [HANAKO]
    assert [r.endpoint for r in line.requests] == ["multicast"]


def test_whoever_blocks_after_being_queued_is_not_sent_to(app, client, db, line):
    """The claim looks up only who changed since the row was queued (by index), not everyone."""
    staying, leaving = Chat(app, client, line, "残る人"), Chat(app, client, line, "去る人")
    staying.follow()
    leaving.follow()
    with db.transaction() as session:
        [row] = outbox.multicast(session, [staying.user_id, leaving.user_id], NEWS, now())
    leaving.unfollow()

    assert Worker(app).run_once() == RunSummary(sent=1)

    assert [d.to for d in line.deliveries() if d.via == "multicast"] == [staying.user_id]
    [stored_row] = [r for r in stored(db) if r.id == row.id]
    assert (stored_row.status, stored_row.recipients) == (OutboxStatus.SENT, [staying.user_id])


def test_whoever_deletes_their_data_after_being_queued_is_not_sent_to(app, client, db, line, join):
    join(KAMIYAMA)
    staying, leaving = Chat(app, client, line, "残る人"), Chat(app, client, line, "消す人")
    for person in (staying, leaving):
        person.follow()
        register_by_name(person, "神山")
    with db.transaction() as session:
        outbox.multicast(session, [staying.user_id, leaving.user_id], NEWS, now())
    leaving.say("登録状況")
    leaving.tap("すべてのデータを削除")
    leaving.tap("削除する")
    assert "データを削除しました" in leaving.text()

    assert Worker(app).run_once() == RunSummary(sent=1)

    multicasts = [d for d in line.deliveries() if d.via == "multicast"]
    assert [d.to for d in multicasts] == [staying.user_id]
    assert all(leaving.user_id not in row.recipients for row in stored(db))


def test_a_multicast_of_1201_is_three_requests_of_at_most_500(app, db, line):
    users = many_users(1201)
    add_people(db, users)
    with db.transaction() as session:
        kamiyama = entities.by_code(session, KAMIYAMA)
        broadcast = Broadcast(entity_id=kamiyama.id, messages=[], summary="お知らせ", audience={},
                              status=BroadcastStatus.QUEUED, send_at=now(), created_at=now())
        session.add(broadcast)
        session.flush()
        rows = outbox.multicast(session, users + users[:3], NEWS, now(), broadcast_id=broadcast.id)
        assert [len(row.recipients) for row in rows] == [500, 500, 201]
    with db.transaction() as session:
        queued = outbox.counts(session, broadcast.id)

    assert Worker(app).run_once() == RunSummary(sent=3)

    assert queued == {"pending": 1201, "sent": 0, "failed": 0}
    with db.transaction() as session:
        assert outbox.counts(session, broadcast.id) == {"pending": 0, "sent": 1201, "failed": 0}
    assert Counter(d.to for d in line.deliveries()) == Counter(users)
    assert sorted(r.retry_key for r in requests_to(line, "multicast")) == sorted(
        row.retry_key for row in rows)


def queue_for_every_follower(session, messages, at: datetime) -> OutboxMessage:
    """A row for LINE's broadcast endpoint (everyone who follows the account). The product
    queues none yet (staff's broadcasts are multicasts to their audience); the worker sends it."""
    row = OutboxMessage(kind=OutboxKind.BROADCAST, recipients=[],
                        messages=[line.message_json(m) for m in messages], retry_key=str(uuid.uuid4()),
                        status=OutboxStatus.PENDING, attempts=0, available_at=at, created_at=at)
    session.add(row)
    return row


def test_a_broadcast_row_is_sent_through_lines_broadcast(app, db, line):
    line.add_user(HANAKO, "花子")
    with db.transaction() as session:
        message = queue_for_every_follower(session, NEWS, now())

    assert Worker(app).run_once() == RunSummary(sent=1)

    assert [(d.to, d.via, d.retry_key) for d in line.deliveries()] == [
        (HANAKO, "broadcast", message.retry_key)]
    assert [row.kind for row in stored(db)] == [OutboxKind.BROADCAST]


# The worker process ----------------------------------------------------------------------------

def start_worker(app, database_url, log_path: Path, *args: str) -> subprocess.Popen:
    """`furusato worker` in its own process, on the test's database and LINE platform."""
    env = {**os.environ, "FURUSATO_ENV": "test", "DATABASE_URL": database_url,
           "LINE_API_HOST": app.config["LINE_API_HOST"],
           "LINE_CHANNEL_ACCESS_TOKEN": app.config["LINE_CHANNEL_ACCESS_TOKEN"],
           "LINE_CHANNEL_SECRET": app.config["LINE_CHANNEL_SECRET"],
           "SECRET_KEY": app.config["SECRET_KEY"]}
    furusato = Path(sys.executable).with_name("furusato")
    with log_path.open("w") as log:
        return subprocess.Popen([str(furusato), "worker", *args], env=env, stdout=log,
                                stderr=subprocess.STDOUT)


def test_a_worker_killed_while_sending_loses_nothing_and_sends_nothing_twice(
        app, db, line, database_url, tmp_path):
    users = many_users(4)
    add_people(db, users)
    messages = [queue_push(db, to) for to in users]
    line.inject("push", None, times=2, delay=2.0)  # LINE takes these two, slowly
    line.inject("push", 500, times=2, delay=2.0)   # and answers these two with an error
    worker_log = tmp_path / "worker.log"

    process = start_worker(app, database_url, worker_log, "--threads", "4")
    try:
        wait_for(lambda: all(row.attempts == 1 for row in stored(db)), seconds=30)
        time.sleep(1.0)  # the four requests are now inside the platform's delay
    finally:
        process.kill()
        process.wait()
    assert not line.deliveries(), worker_log.read_text()
    wait_for(lambda: len(requests_to(line, "push")) == 4)

    assert [row.status for row in stored(db)] == [OutboxStatus.PENDING] * 4
    worker = Worker(app)
    assert worker.run_once() == RunSummary()  # still leased to the dead worker
    assert worker.run_once(now() + timedelta(seconds=61)) == RunSummary(sent=4)

    assert [(row.status, row.attempts) for row in stored(db)] == [(OutboxStatus.SENT, 2)] * 4
    assert Counter(d.retry_key for d in line.deliveries()) == Counter(m.retry_key for m in messages)
    assert sorted(r.status for r in requests_to(line, "push")) == [200, 200, 200, 200, 409, 409, 500, 500]


def test_the_worker_process_sends_until_sigterm_and_stops_cleanly(app, db, line, database_url,
                                                                  tmp_path):
    add_people(db, [HANAKO])
    queue_push(db, HANAKO)
    worker_log = tmp_path / "worker.log"

    process = start_worker(app, database_url, worker_log)
    try:
        wait_for(lambda: [row.status for row in stored(db)] == [OutboxStatus.SENT], seconds=30)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=15)

    assert code == 0, worker_log.read_text()
    assert "worker stopped" in worker_log.read_text()
    assert len(line.deliveries(HANAKO)) == 1


def test_the_worker_process_fans_a_broadcast_out_and_sends_it_once(app, db, line, database_url,
                                                                  tmp_path, join):
    """As in production: the worker is up when staff confirm; it queues and sends."""
    join(KAMIYAMA)
    users = many_users(1201)
    add_people(db, users)
    with db.transaction() as session:
        kamiyama = entities.by_code(session, KAMIYAMA)
        session.execute(insert(Registration), [
            {"person_id": person_id, "entity_id": kamiyama.id, "kind": "basic",
             "status": "active", "origin": "direct", "registered_at": now()}
            for person_id in session.scalars(select(Person.id))])
    worker_log = tmp_path / "worker.log"
    process = start_worker(app, database_url, worker_log, "--batch", "2", "--threads", "2")
    try:
        with db.transaction() as session:
            broadcast_id = fanout.create(session, kamiyama, [{"type": "text", "text": "全員へ"}],
                                             "全員へ", Audience(), now(), now()).id
        wait_for(lambda: len(line.deliveries()) >= 1201, seconds=60)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)

    assert code == 0, worker_log.read_text()
    assert Counter(d.to for d in line.deliveries()) == Counter(users)
    with db.transaction() as session:
        assert session.get(Broadcast, broadcast_id).status == BroadcastStatus.QUEUED
        assert outbox.counts(session, broadcast_id) == {"pending": 0, "sent": 1201, "failed": 0}
    assert len(requests_to(line, "multicast")) == 3


def test_worker_once_prints_what_it_did(runner, db):
    add_people(db, [HANAKO])
    add_people(db, [TARO], following=False)
    queue_push(db, HANAKO)
    queue_push(db, TARO)

    result = runner.invoke(args=["worker", "--once", "--threads", "2", "--batch", "10"])

    assert result.exit_code == 0, result.output
    assert result.output == "sent 1, retried 0, failed 0, skipped 1\n"


def test_four_workers_share_the_queue_and_send_each_message_once(app, db, line, database_template):
    if database_template[0] != "postgresql":
        pytest.skip("SQLite has no row locks (one worker at a time); "
                    "FOR UPDATE SKIP LOCKED is proven on PostgreSQL")
    users = many_users(200)
    add_people(db, users)
    with db.transaction() as session:
        keys = [outbox.push(session, to, NEWS, now()).retry_key for to in users]

    def drain() -> int:
        worker, sent = Worker(app, batch=10, threads=2), 0
        while (summary := worker.run_once()).total:
            sent += summary.sent
        return sent

    with ThreadPoolExecutor(4) as pool:
        sent_by_worker = list(pool.map(lambda _: drain(), range(4)))

    assert sum(sent_by_worker) == 200
    assert sum(1 for sent in sent_by_worker if sent) > 1
    assert Counter(d.retry_key for d in line.deliveries()) == Counter(keys)
    assert len(requests_to(line, "push")) == 200  # no message was sent a second time
    assert {(row.status, row.attempts) for row in stored(db)} == {(OutboxStatus.SENT, 1)}


# Leases, results and LINE's 24 hours ---------------------------------------------------------

def test_a_late_result_cannot_overwrite_another_workers_lease(db):
    add_people(db, [HANAKO])
    queue_push(db, HANAKO)
    start, lease = now(), timedelta(seconds=30)
    with db.transaction() as session:
        first = outbox.claim(session, start, 10, lease)
    with db.transaction() as session:  # the first worker's lease ran out: another takes it
        second = outbox.claim(session, start + lease, 10, lease)
    assert first.token != second.token and [m.id for m in second.messages] == [
        m.id for m in first.messages]
    [row_id] = [m.id for m in first.messages]

    with db.transaction() as session:
        late = outbox.Result(row_id, first.token, outbox.Outcome.FAILED, error="400 late",
                             failure=OutboxFailure.REFUSED)
        assert outbox.record(session, [late], start + lease) == 0
    [row] = stored(db)
    assert (row.status, row.lease_token, row.attempts) == (OutboxStatus.PENDING, second.token, 2)
    with db.transaction() as session:
        done = outbox.Result(row_id, second.token, outbox.Outcome.SENT)
        assert outbox.record(session, [done], start + lease) == 1
    [row] = stored(db)
    assert (row.status, row.lease_token) == (OutboxStatus.SENT, None)


def test_a_sent_result_is_recorded_even_after_its_lease_ran_out(db):
    """LINE took it: another worker's try can only get a 409, so "sent" is the truth."""
    add_people(db, [HANAKO])
    queue_push(db, HANAKO)
    start, lease = now(), timedelta(seconds=30)
    with db.transaction() as session:
        first = outbox.claim(session, start, 10, lease)
    with db.transaction() as session:
        outbox.claim(session, start + lease, 10, lease)
    [row_id] = [m.id for m in first.messages]

    with db.transaction() as session:
        sent = outbox.Result(row_id, first.token, outbox.Outcome.SENT)
        assert outbox.record(session, [sent], start + lease) == 1
    [row] = stored(db)
    assert (row.status, row.lease_token) == (OutboxStatus.SENT, None)


def test_a_paused_queue_with_nothing_left_to_send_is_no_longer_paused(app, db, line):
    add_people(db, [HANAKO])
    queue_push(db, HANAKO)
    line.inject("push", 401)
    worker, start = Worker(app, threads=1), now()
    assert worker.run_once(start) == RunSummary(held=1)
    with db.transaction() as session:  # the message is gone meanwhile (R14, say)
        session.execute(OutboxMessage.__table__.delete())

    assert worker.run_once(start + timedelta(seconds=11)) == RunSummary()

    with db.transaction() as session:
        assert outbox.current_pause(session) is None


def test_a_row_that_may_have_reached_line_is_never_resent_after_its_key_expires(app, db, line):
    """A worker died after sending: nobody knows whether LINE took it. Within 23 hours the
    resend is protected by the retry key; after that it is failed as "expired", unsent."""
    add_people(db, [HANAKO, TARO])
    queue_push(db, HANAKO)
    start = now()
    with db.transaction() as session:
        outbox.claim(session, start, 10, timedelta(seconds=30))  # and the worker died
    later = start + timedelta(hours=23)
    queue_never_tried = queue_push(db, TARO)  # LINE never saw it: it may go at any time

    assert Worker(app).run_once(later) == RunSummary(sent=1)

    expired, never_tried = stored(db)
    assert (expired.status, expired.failure) == (OutboxStatus.FAILED, OutboxFailure.EXPIRED)
    assert "retry key" in expired.last_error
    assert never_tried.status == OutboxStatus.SENT
    assert [d.retry_key for d in line.deliveries()] == [queue_never_tried.retry_key]


def test_retries_stop_23_hours_after_the_first_try_not_after_queueing(app, db, line):
    add_people(db, [HANAKO])
    queued_at = now()
    queue_push(db, HANAKO)
    line.inject("push", 500, times=2)
    worker = Worker(app)
    first_try = queued_at + timedelta(hours=30)  # the queue was paused until then

    assert worker.run_once(first_try) == RunSummary(retried=1)
    assert worker.run_once(first_try + timedelta(hours=22, minutes=59, seconds=58)) == (
        RunSummary(failed=1))

    [row] = stored(db)
    assert (row.status, row.failure, row.first_tried_at) == (
        OutboxStatus.FAILED, OutboxFailure.EXPIRED, first_try)
    assert row.last_error.startswith(outbox.EXPIRED_NOTE) and "500" in row.last_error


def test_each_result_is_recorded_when_its_send_ends_not_with_the_batch(app, db, line,
                                                                       database_url, tmp_path):
    add_people(db, [HANAKO, TARO])
    queue_push(db, HANAKO)
    queue_push(db, TARO)
    line.inject("push", None, times=1, delay=6.0)  # whichever goes first is slow
    worker_log = tmp_path / "worker.log"

    process = start_worker(app, database_url, worker_log, "--threads", "2")
    try:
        # The quick one is written while the slow one is still in flight.
        wait_for(lambda: sorted(r.status for r in stored(db)) == [OutboxStatus.PENDING,
                                                                  OutboxStatus.SENT],
                 seconds=20)
        assert len(line.deliveries()) == 1
    finally:
        process.kill()  # only the slow one, in flight, is left to its lease
        process.wait()

    assert sorted((r.status, r.attempts) for r in stored(db)) == [(OutboxStatus.PENDING, 1),
                                                                 (OutboxStatus.SENT, 1)]


def test_the_lease_is_configurable(app, runner, db):
    app.config["OUTBOX_LEASE_SECONDS"] = "12"
    assert Worker(app).lease == timedelta(seconds=12)
    assert Worker(app, lease=20).lease == timedelta(seconds=20)
    app.config["OUTBOX_LEASE_SECONDS"] = "3"
    with pytest.raises(ValueError, match="lease"):
        Worker(app)


def test_a_worker_survives_the_database_going_away_and_records_what_it_sent(
        app, db, line, database_url, database_template, tmp_path):
    """As a failover or a restart does: every connection ends, and none is let in for a while."""
    if database_template[0] != "postgresql":
        pytest.skip("terminating the server's connections is a PostgreSQL test")
    add_people(db, [HANAKO, TARO])
    queue_push(db, HANAKO)
    line.inject("push", None, times=1, delay=3.0)  # in flight while the database is away
    worker_log = tmp_path / "worker.log"
    name = database_url.rsplit("/", 1)[1]
    admin = create_engine(database_url.rsplit("/", 1)[0] + "/postgres",
                          isolation_level="AUTOCOMMIT")

    process = start_worker(app, database_url, worker_log, "--threads", "2")
    try:
        # Leased, so its request is on its way (the platform holds it for 3 s): cut now.
        wait_for(lambda: [r.attempts for r in stored(db)] == [1], seconds=30)
        db.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                    "WHERE datname = :name"), {"name": name})
        time.sleep(5)  # the send ends, its result cannot be written, claims fail
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        wait_for(lambda: [r.status for r in stored(db)] == [OutboxStatus.SENT], seconds=30)
        queue_push(db, TARO)  # and it goes on sending
        wait_for(lambda: len(line.deliveries()) == 2, seconds=30)
        assert process.poll() is None, worker_log.read_text()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)

    assert code == 0, worker_log.read_text()
    assert "database unavailable while recording" in worker_log.read_text()
    assert "database unavailable while leasing" in worker_log.read_text()
    assert [(r.status, r.attempts) for r in stored(db)] == [(OutboxStatus.SENT, 1)] * 2
    assert [r.status for r in requests_to(line, "push")] == [200, 200]  # nothing sent twice


# Privacy: the queue is not an archive ----------------------------------------------------------

def test_bodies_of_finished_messages_are_purged_after_the_retention_period(app, db, line, join):
    add_people(db, [HANAKO, TARO, JIRO])
    with db.transaction() as session:
        kamiyama = entities.by_code(session, KAMIYAMA)
        broadcast = Broadcast(entity_id=kamiyama.id, messages=[], summary="お知らせ", audience={},
                              status=BroadcastStatus.QUEUED, send_at=now(), created_at=now(),
                              recipients=2)
        session.add(broadcast)
        session.flush()
        outbox.multicast(session, [HANAKO, TARO], NEWS, now(), broadcast_id=broadcast.id)
        outbox.push(session, JIRO, [TextMessage(text="本人確認の結果：山田花子さん")], now())
    line.inject("push", 400, body={"message": "refused"})
    assert Worker(app).run_once() == RunSummary(sent=1, failed=1)
    late = queue_push(db, HANAKO)  # still to be sent when the period ends: kept
    with db.transaction() as session:
        before = outbox.counts(session, broadcast.id)

    assert run_job(app, "cleanup", now() + timedelta(days=29)).counts == {}
    summary = run_job(app, "cleanup", now() + timedelta(days=31))

    assert summary.counts == {"outgoing messages purged": 2}
    multicast, push, pending = stored(db)
    for row in (multicast, push):
        assert (row.messages, row.recipients) == ([], []) and row.purged_at is not None
    assert (pending.id, pending.messages, pending.recipients) == (
        late.id, [{"type": "text", "text": "お知らせ"}], [HANAKO])
    with db.transaction() as session:
        assert outbox.counts(session, broadcast.id) == before == {
            "pending": 0, "sent": 2, "failed": 0}


def test_deleting_ones_data_erases_what_was_queued_for_them_at_once(app, client, db, line, join):
    join(KAMIYAMA)
    staying, leaving = Chat(app, client, line, "残る人"), Chat(app, client, line, "消す人")
    for person in (staying, leaving):
        person.follow()
        register_by_name(person, "神山")
    with db.transaction() as session:
        outbox.multicast(session, [staying.user_id, leaving.user_id], NEWS, now())
        outbox.push(session, leaving.user_id, [TextMessage(text="本人確認の結果：消す人さん")],
                    now())
    assert Worker(app).run_once() == RunSummary(sent=2)
    with db.transaction() as session:
        outbox.push(session, leaving.user_id, [TextMessage(text="明日の活動：消す人さん")], now())

    leaving.say("登録状況")
    leaving.tap("すべてのデータを削除")
    leaving.tap("削除する")
    assert "データを削除しました" in leaving.text()

    multicast, sent_push, pending_push = stored(db)
    assert multicast.recipients == [staying.user_id] and multicast.recipient_count == 2
    for push in (sent_push, pending_push):
        assert (push.messages, push.recipients) == ([], []) and push.purged_at is not None
    assert all(leaving.user_id not in str(row.recipients) + str(row.messages)
               for row in stored(db))
    assert Worker(app).run_once() == RunSummary(skipped=1)  # nobody left to send it to


# For operators ---------------------------------------------------------------------------------

def test_outbox_status_shows_the_queue_and_a_paused_one_loudly(app, db, line, runner, client):
    add_people(db, [HANAKO, TARO, JIRO, SABURO])
    with db.transaction() as session:
        outbox.multicast(session, [HANAKO, TARO], NEWS, now())
    queue_push(db, JIRO)
    with db.transaction() as session:
        broken = outbox.push(session, SABURO, NEWS, now())
        broken.messages = [{"type": "text"}]  # LINE refuses it
    assert Worker(app).run_once() == RunSummary(sent=2, failed=1)
    queue_push(db, HANAKO)
    line.inject("push", 401, body={"message": "Authentication failed. Confirm that the access "
                                              "token in the authorization header is valid."})

    before = runner.invoke(args=["outbox", "status"])
    assert Worker(app).run_once() == RunSummary(held=1)
    paused = runner.invoke(args=["outbox", "status"])
    health = client.get("/healthz")

    assert before.exit_code == 0, before.output
    lines = before.output.splitlines()
    assert lines[0].split() == ["due", "1", "messages", "1", "people"]
    assert lines[3].split() == ["sent", "2", "messages", "3", "people"]
    assert lines[4].split() == ["failed:", "refused", "1", "messages", "1", "people"]
    assert "oldest message still to send: queued" in before.output
    assert before.output.rstrip().endswith("sending: running")
    assert paused.exit_code == 2
    assert "sending: PAUSED since" in paused.output and "JST" in paused.output
    assert "LINE refuses the channel access token" in paused.output
    assert "Authentication failed" in paused.output
    assert paused.output.splitlines()[1].split() == ["waiting", "1", "messages", "1", "people"]
    assert health.status_code == 200
    assert {key: health.json[key] for key in ("status", "database", "outbox", "outbox_reason")} == {
        "status": "degraded", "database": "ok", "outbox": "paused", "outbox_reason": "unauthorized"}
