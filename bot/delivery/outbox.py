"""The outgoing queue: every message that is not a reply, sent by the `worker`
(Outgoing messages, docs/rules.md).

Enqueueing adds rows to the caller's session, so a message is queued exactly when the change
that caused it commits. Each row's `X-Line-Retry-Key` is fixed here and every try repeats the
identical request, so LINE acts on it at most once (a retry of an accepted key gets 409).

The worker side: `claim` leases due rows in a short transaction, the worker sends them outside
any transaction, then `record` writes the results of a batch in one transaction.
Narrowcast is not queued: the table has no place for its recipient and filter objects.

Nobody who blocked the account or deleted their data is sent to (R14). A row's recipients are
checked when it is queued; when it is claimed, only the people whose reachability changed
since then are looked up (a handful, by index), not every recipient again.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Select,
    String,
    any_,
    bindparam,
    case,
    delete,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, aggregate_order_by
from sqlalchemy.orm import Session

from bot import line
from bot.store.db import dialect_insert
from bot.store.models import (
    OutboxFailure,
    OutboxKind,
    OutboxMessage,
    OutboxPause,
    OutboxPauseReason,
    OutboxStatus,
    Person,
)

MAX_MESSAGES = 5
MAX_MULTICAST = 500
ERROR_LENGTH = 1000  # OutboxMessage.last_error
BACKOFF_FIRST_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 300.0
#: LINE remembers a retry key for 24 hours from the first try; a resend after that could
#: deliver twice, so none is made after 23 (an hour's margin for clocks and slow requests).
GIVE_UP_AFTER = timedelta(hours=23)
EXPIRED_NOTE = ("not sent again: the last try may have reached LINE, and LINE no longer "
                "remembers its retry key (24 hours)")
#: While LINE refuses the channel's token, one message tries it again this often.
PROBE_EVERY = timedelta(seconds=10)
PAUSE_ID = 1
#: User IDs per `IN (…)` on SQLite: below its 32,766 bound parameters.
_LOOKUP_CHUNK = 30_000
#: Blocking and deleting are stamped with the handling process's clock when the event
#: starts (`last_access_at`, `deleted_at`), a row with the queuing process's clock: changes
#: stamped up to this long before a row was queued are looked up as well.
CLOCK_MARGIN = timedelta(minutes=1)

Messages = Sequence[line.Message | Mapping]


# Enqueueing, in the caller's transaction -------------------------------------------------------

def push(session: Session, user_id: str, messages: Messages, now: datetime, *,
         broadcast_id: int | None = None) -> OutboxMessage:
    """A push; to someone who cannot be reached, a row with nobody to send to (skipped)."""
    body = _as_json(messages)
    return _enqueue(session, OutboxKind.PUSH, _reachable_in_order(session, [user_id]), body, now,
                    broadcast_id)


def multicast(session: Session, user_ids: Iterable[str], messages: Messages, now: datetime, *,
              broadcast_id: int | None = None) -> list[OutboxMessage]:
    """One row per 500 reachable recipients (LINE's limit); each person once."""
    body = _as_json(messages)
    unique = _reachable_in_order(session, list(dict.fromkeys(user_ids)))
    return [_enqueue(session, OutboxKind.MULTICAST, unique[start:start + MAX_MULTICAST], body, now,
                     broadcast_id)
            for start in range(0, len(unique), MAX_MULTICAST)]


def multicast_selected(session: Session, page: Select, messages: list[dict], now: datetime,
                       broadcast_id: int | None) -> tuple[int | None, int]:
    """Queue everyone `page` selects, 500 to a row; returns (last person ID, how many).

    `page` selects (person ID, LINE user ID) of reachable people in person ID order (see
    bot/services/audience.py). On PostgreSQL one INSERT … SELECT queues the page and the user IDs
    never travel to Python; on SQLite the page is read and queued row by row.
    """
    if session.get_bind().dialect.name != "postgresql":
        found = session.execute(page).all()
        user_ids = [user_id for _id, user_id in found]
        for start in range(0, len(user_ids), MAX_MULTICAST):
            _enqueue(session, OutboxKind.MULTICAST, user_ids[start:start + MAX_MULTICAST],
                     messages, now, broadcast_id)
        return (found[-1][0] if found else None), len(found)
    # Numbered in the page's own ID order, so that no step sorts the page again.
    chosen = page.add_columns(((func.row_number().over(order_by=Person.id) - 1)
                               // MAX_MULTICAST).label("n")).cte("chosen")
    person_id, user_id = chosen.c[0], chosen.c[1]
    at = bindparam("now", now, type_=OutboxMessage.created_at.type)
    rows = (select(literal(OutboxKind.MULTICAST.value),
                   func.json_agg(aggregate_order_by(user_id, person_id)),
                   bindparam("messages", messages, type_=JSON),
                   func.gen_random_uuid().cast(String), literal(OutboxStatus.PENDING.value),
                   literal(0), at, at, literal(broadcast_id), func.count())
            .group_by(chosen.c.n))
    queued = (OutboxMessage.__table__.insert()
              .from_select(["kind", "recipients", "messages", "retry_key", "status", "attempts",
                            "available_at", "created_at", "broadcast_id", "recipient_count"],
                           rows)
              .returning(OutboxMessage.id).cte("queued"))
    # The INSERT is a data-modifying CTE: PostgreSQL runs it whether or not it is read.
    last, count = session.execute(
        select(func.max(person_id), func.count()).select_from(chosen).add_cte(queued)).one()
    return last, count


def _as_json(messages: Messages) -> list[dict]:
    if not 1 <= len(messages) <= MAX_MESSAGES:
        raise ValueError(f"LINE sends 1 to {MAX_MESSAGES} messages in one request, "
                         f"not {len(messages)}")
    return [line.message_json(message) for message in messages]


def _enqueue(session: Session, kind: OutboxKind, recipients: list[str], messages: list[dict],
             now: datetime, broadcast_id: int | None) -> OutboxMessage:
    message = OutboxMessage(
        kind=kind, recipients=recipients, messages=messages, retry_key=str(uuid.uuid4()),
        status=OutboxStatus.PENDING, attempts=0, available_at=now, created_at=now,
        broadcast_id=broadcast_id, recipient_count=len(recipients))
    session.add(message)
    return message


# The worker's side -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Lease:
    """Rows leased to one worker: only a result carrying `token` is recorded for them.

    `probe` is one row sent to learn whether LINE accepts the channel's token again, while
    the queue is paused; `paused` says why nothing was leased.
    """

    token: str
    messages: list[OutboxMessage]
    probe: bool = False
    paused: OutboxPause | None = None


def claim(session: Session, now: datetime, limit: int, lease: timedelta,
          probe_every: timedelta = PROBE_EVERY) -> Lease:
    """Up to `limit` due messages, leased until `now + lease`: commit, then send them.

    PostgreSQL skips rows another worker holds (FOR UPDATE SKIP LOCKED), so workers neither
    wait for each other nor take the same row; on SQLite the transaction's write lock
    (BEGIN IMMEDIATE, bot.store.db) serialises claims. The lease outlives a worker that dies while
    sending: the row is due again when it ends and is resent with the same retry key; a
    new token makes the dead worker's late result, if it comes, a no-op.

    While the queue is paused nothing is leased, except, once the pause's time is up, one
    row to try the channel's token with (the pause row is locked, so one worker tries).
    Recipients who can no longer be reached are dropped here, for good.
    """
    pause = session.get(OutboxPause, PAUSE_ID, with_for_update=True)
    probe = False
    if pause is not None:
        if pause.resume_at > now:
            return Lease("", [], paused=pause)
        if pause.reason == OutboxPauseReason.RATE_LIMITED:
            session.delete(pause)
        else:
            pause.resume_at = now + probe_every  # the others wait while this one tries
            limit, probe = 1, True
    token = str(uuid.uuid4())
    due = (select(OutboxMessage.id)
           .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.available_at <= now)
           .order_by(OutboxMessage.available_at, OutboxMessage.id)
           .limit(limit)
           .with_for_update(skip_locked=True)
           .cte("due"))
    messages = sorted(session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(select(due.c.id)))
        .values(attempts=OutboxMessage.attempts + 1, available_at=now + lease, lease_token=token,
                first_tried_at=func.coalesce(OutboxMessage.first_tried_at, now))
        .returning(OutboxMessage),
        execution_options={"synchronize_session": False}), key=lambda m: m.id)
    if probe and not messages:  # nothing waits to be sent: the next message will tell
        session.delete(pause)
        return Lease(token, [])
    messages = expire_unsafe(session, messages, now)
    _drop_unreachable(session, messages)
    return Lease(token, messages, probe)


def expire_unsafe(session: Session, messages: list[OutboxMessage],
                  now: datetime) -> list[OutboxMessage]:
    """Fail, instead of sending, the leased rows that may have reached LINE more than
    `GIVE_UP_AFTER` ago; returns the others.

    LINE forgets a retry key 24 hours after the first try: sending such a row again could
    deliver it twice, so it is not sent again ("expired"), and staff are told it may not
    have arrived. A row LINE never took a try of (never tried, or refused with 401/403/429)
    has no first try and is sent whenever the queue runs again.
    """
    expired = [m.id for m in messages if m.first_tried_at <= now - GIVE_UP_AFTER]
    if not expired:
        return messages
    session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(expired))
                    .values(status=OutboxStatus.FAILED, failure=OutboxFailure.EXPIRED,
                            lease_token=None, last_error=EXPIRED_NOTE),
                    execution_options={"synchronize_session": False})
    return [m for m in messages if m.id not in expired]


def _drop_unreachable(session: Session, messages: list[OutboxMessage]) -> None:
    """Drop the recipients who blocked the account or deleted their data since being queued.

    Blocking is an event, and every event stamps `last_access_at` (handlers.handle); deleting
    one's data stamps `deleted_at`. Both are indexed for this. A deletion erases the user ID,
    so when someone deleted their data since, only a check of every recipient can tell.
    """
    addressed = [m for m in messages if m.kind in (OutboxKind.PUSH, OutboxKind.MULTICAST)
                 and m.recipients]
    if not addressed:
        return
    since = min(m.created_at for m in addressed) - CLOCK_MARGIN
    changed = set(session.scalars(select(Person.line_user_id).where(or_(
        ~Person.following & (Person.last_access_at >= since), Person.deleted_at >= since))))
    if not changed:
        return
    if None in changed:
        reachable = _reachable(session, sorted({uid for m in addressed for uid in m.recipients}))
        for message in addressed:
            if not reachable.issuperset(message.recipients):
                _keep_only(message, [uid for uid in message.recipients if uid in reachable])
        return
    for message in addressed:
        if not changed.isdisjoint(message.recipients):
            _keep_only(message, [uid for uid in message.recipients if uid not in changed])


def _keep_only(message: OutboxMessage, recipients: list[str]) -> None:
    message.recipients, message.recipient_count = recipients, len(recipients)


def _reachable_in_order(session: Session, user_ids: list[str]) -> list[str]:
    reachable = _reachable(session, user_ids)
    return [user_id for user_id in user_ids if user_id in reachable]


def _reachable(session: Session, user_ids: list[str]) -> set[str]:
    """The user IDs of people who follow the account (R14).

    Blocking sets `following` false; deleting one's data sets `deleted_at` and erases the
    user ID, so an ID with no person behind it is not sent to either.
    """
    if not user_ids:
        return set()
    reachable = select(Person.line_user_id).where(Person.following.is_(True),
                                                 Person.deleted_at.is_(None))
    if session.get_bind().dialect.name == "postgresql":  # one array parameter, not thousands
        return set(session.scalars(reachable.where(
            Person.line_user_id == any_(bindparam("ids", user_ids, type_=ARRAY(String))))))
    found: set[str] = set()
    for start in range(0, len(user_ids), _LOOKUP_CHUNK):
        found.update(session.scalars(reachable.where(
            Person.line_user_id.in_(user_ids[start:start + _LOOKUP_CHUNK]))))
    return found


def nobody_left(message: OutboxMessage) -> bool:
    """A push or multicast all of whose recipients blocked the account or left."""
    return message.kind in (OutboxKind.PUSH, OutboxKind.MULTICAST) and not message.recipients


def request_body(message: OutboxMessage) -> dict:
    """The request's JSON body, built from the row alone: the same on every try."""
    match message.kind:
        case OutboxKind.PUSH:
            return {"to": message.recipients[0], "messages": message.messages}
        case OutboxKind.MULTICAST:
            return {"to": message.recipients, "messages": message.messages}
        case OutboxKind.BROADCAST:
            return {"messages": message.messages}
    raise ValueError(f"the outbox does not send {message.kind!r} messages")


def backoff_seconds(attempts: int) -> float:
    """2 s, 4 s, 8 s … up to 5 minutes after the n-th try, jittered down to half of it."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** min(attempts - 1, 16))
    return random.uniform(ceiling / 2, ceiling)


def next_try(message: OutboxMessage, now: datetime, retry_after: float | None) -> datetime | None:
    """When to try again: after LINE's Retry-After or a backoff; None once LINE may have
    forgotten the retry key of the first try by then."""
    wait = retry_after if retry_after is not None else backoff_seconds(message.attempts)
    at = now + timedelta(seconds=wait)
    first = message.first_tried_at or now
    return at if at < first + GIVE_UP_AFTER else None


class Outcome(StrEnum):
    SENT = "sent"          # LINE took it (or nobody was left to send to)
    RETRY = "retry"        # tried; again at `at`, with the same retry key
    FAILED = "failed"      # for good, for `failure`
    RELEASED = "released"  # not taken by LINE (401/403/429, or held back): as if never tried


@dataclass(frozen=True)
class Result:
    """What became of one leased message; `error` is kept for the staff and the logs.

    `pause` stops the whole queue until `at` (RELEASED rows are due again then); `resumes`
    ends a pause (the probe was accepted).
    """

    message_id: int
    token: str
    outcome: Outcome
    at: datetime | None = None
    error: str | None = None
    failure: OutboxFailure | None = None
    pause: OutboxPauseReason | None = None
    resumes: bool = False


def record(session: Session, results: Iterable[Result], now: datetime) -> int:
    """Write results: one UPDATE for all sent rows, one per other row. Returns rows written.

    A retry, a failure or a release is written only while the row is still leased under the
    result's token: a worker whose lease ran out must not overwrite what another does with
    the row since. "Sent" is written whoever holds the row: LINE took it, so another
    worker's try of it can only end in a 409, which is "sent" too.
    """
    results = list(results)
    written = 0
    sent = [result.message_id for result in results if result.outcome is Outcome.SENT]
    if sent:
        written += session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(sent), OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENT, sent_at=now, last_error=None, lease_token=None),
            execution_options={"synchronize_session": False}).rowcount
    for result in results:
        match result.outcome:
            case Outcome.RETRY:
                written += _finish(session, result, available_at=result.at,
                                   last_error=_clip(result.error))
            case Outcome.FAILED:
                written += _finish(session, result, status=OutboxStatus.FAILED,
                                   failure=result.failure, last_error=_clip(result.error))
            case Outcome.RELEASED:
                # LINE did not act on this try: it neither counts nor starts the key's 24 hours.
                written += _finish(
                    session, result, available_at=result.at, last_error=_clip(result.error),
                    attempts=OutboxMessage.attempts - 1,
                    first_tried_at=case((OutboxMessage.attempts <= 1, None),
                                        else_=OutboxMessage.first_tried_at))
        if result.pause is not None:
            pause_queue(session, result.pause, result.error, now, result.at or now)
        if result.resumes:
            resume_queue(session)
    return written


def _finish(session: Session, result: Result, **values) -> int:
    return session.execute(update(OutboxMessage)
                           .where(OutboxMessage.id == result.message_id,
                                  OutboxMessage.lease_token == result.token,
                                  OutboxMessage.status == OutboxStatus.PENDING)
                           .values(lease_token=None, **values),
                           execution_options={"synchronize_session": False}).rowcount


def _clip(error: str | None) -> str | None:
    return error[:ERROR_LENGTH] if error else error


# The queue-wide pause --------------------------------------------------------------------------

def pause_queue(session: Session, reason: OutboxPauseReason, detail: str | None, now: datetime,
                resume_at: datetime) -> None:
    """Stop every worker until `resume_at`; a pause for the same reason keeps its start.

    One statement (insert, or update on conflict), so two workers pausing at once both
    succeed; a refused token outranks a rate limit, which would otherwise end it unprobed.
    """
    table = OutboxPause.__table__
    inserted = dialect_insert(session.get_bind().dialect.name)(table).values(
        id=PAUSE_ID, reason=reason, detail=_clip(detail), since=now, resume_at=resume_at)
    unauthorized = literal(OutboxPauseReason.UNAUTHORIZED.value)
    kept = case((table.c.reason == unauthorized, table.c.reason), else_=inserted.excluded.reason)
    session.execute(inserted.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={"reason": kept,
              "since": case((table.c.reason == kept, table.c.since), else_=inserted.excluded.since),
              "detail": inserted.excluded.detail,
              "resume_at": case((table.c.resume_at > inserted.excluded.resume_at,
                                 table.c.resume_at), else_=inserted.excluded.resume_at)}))


def resume_queue(session: Session) -> None:
    session.execute(delete(OutboxPause).where(OutboxPause.id == PAUSE_ID))


def current_pause(session: Session) -> OutboxPause | None:
    return session.get(OutboxPause, PAUSE_ID)


# For operators ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tally:
    messages: int = 0  # rows: requests to LINE
    people: int = 0    # their recipients (0 for LINE's broadcast to every follower)


@dataclass(frozen=True)
class QueueStatus:
    """The whole queue as an operator sees it (`furusato outbox status`, /healthz)."""

    due: Tally                  # pending and due now
    waiting: Tally              # pending, due later (a backoff, or a pause)
    sending: Tally              # leased to a worker right now
    sent: Tally
    failed: dict[str, Tally]    # by OutboxFailure
    oldest_due: datetime | None  # when the oldest row still to be sent was queued
    pause: OutboxPause | None


def queue_status(session: Session, now: datetime) -> QueueStatus:
    leased = OutboxMessage.lease_token.is_not(None) & (OutboxMessage.available_at > now)
    due = OutboxMessage.available_at <= now
    rows = session.execute(
        select(OutboxMessage.status, OutboxMessage.failure, leased, due, func.count(),
               func.coalesce(func.sum(OutboxMessage.recipient_count), 0))
        .group_by(OutboxMessage.status, OutboxMessage.failure, leased, due)).all()
    tallies: dict[str, Tally] = {}
    failed: dict[str, Tally] = {}

    def add(into: dict, key: str, messages: int, people: int) -> None:
        old = into.get(key, Tally())
        into[key] = Tally(old.messages + messages, old.people + int(people))

    for status, failure, is_leased, is_due, messages, people in rows:
        if status == OutboxStatus.FAILED:
            add(failed, failure or OutboxFailure.REFUSED, messages, people)
        elif status == OutboxStatus.SENT:
            add(tallies, "sent", messages, people)
        else:
            add(tallies, "sending" if is_leased else "due" if is_due else "waiting",
                messages, people)
    oldest = session.scalar(select(func.min(OutboxMessage.created_at))
                            .where(OutboxMessage.status == OutboxStatus.PENDING))
    return QueueStatus(tallies.get("due", Tally()), tallies.get("waiting", Tally()),
                       tallies.get("sending", Tally()), tallies.get("sent", Tally()), failed,
                       oldest, current_pause(session))


# Privacy ---------------------------------------------------------------------------------------

def purgeable(session: Session, before: datetime, after_id: int | None, limit: int) -> list[int]:
    """IDs of sent or failed rows queued before `before` whose body is still kept."""
    query = (select(OutboxMessage.id)
             .where(OutboxMessage.purged_at.is_(None), OutboxMessage.created_at < before,
                    OutboxMessage.status.in_([OutboxStatus.SENT, OutboxStatus.FAILED]))
             .order_by(OutboxMessage.id).limit(limit))
    if after_id is not None:
        query = query.where(OutboxMessage.id > after_id)
    return list(session.scalars(query))


def purge(session: Session, ids: Sequence[int], now: datetime) -> int:
    """Erase what these finished rows said and to whom; their counts stay for staff."""
    return session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.purged_at.is_(None),
               OutboxMessage.status.in_([OutboxStatus.SENT, OutboxStatus.FAILED]))
        .values(messages=[], recipients=[], purged_at=now),
        execution_options={"synchronize_session": False}).rowcount


def forget(session: Session, user_id: str, now: datetime) -> int:
    """R14: what was queued for this person is erased at once, sent or not.

    A push to them loses its body and recipient (a pending one is then skipped as having
    nobody left); a multicast loses their user ID. Only rows not purged yet are read.
    Returns the rows changed.
    """
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.purged_at.is_(None),
               OutboxMessage.kind.in_([OutboxKind.PUSH, OutboxKind.MULTICAST]),
               _holds(session, user_id))
        .with_for_update())
    changed = 0
    for row in rows:
        kept = [uid for uid in row.recipients if uid != user_id]
        if row.status == OutboxStatus.PENDING:  # not sent to them: not counted, as at a claim
            row.recipient_count = len(kept)
        if row.kind == OutboxKind.PUSH:
            row.messages, row.purged_at = [], now
        row.recipients = kept
        changed += 1
    return changed


def _holds(session: Session, user_id: str):
    """A row whose recipients include `user_id`, in each database's JSON."""
    if session.get_bind().dialect.name == "postgresql":
        return func.jsonb_exists(func.cast(OutboxMessage.recipients, JSONB), user_id)
    each = func.json_each(OutboxMessage.recipients).table_valued("value")
    return select(each.c.value).where(each.c.value == user_id).exists()


# For staff ---------------------------------------------------------------------------------------

def counts(session: Session, broadcast_id: int) -> dict[str, int]:
    """Recipients of a broadcast by status; those dropped as unreachable are not counted,
    nor failed rows staff have queued again (their new rows count instead)."""
    totals = {status.value: 0 for status in OutboxStatus}
    for status, recipients in session.execute(
            select(OutboxMessage.status, func.sum(OutboxMessage.recipient_count))
            .where(OutboxMessage.broadcast_id == broadcast_id,
                   OutboxMessage.failure.is_distinct_from(OutboxFailure.RESENT))
            .group_by(OutboxMessage.status)):
        totals[status] = int(recipients)
    return totals


def failures(session: Session, broadcast_id: int) -> dict[OutboxFailure, int]:
    """Recipients of a broadcast not reached, by why (resent ones included)."""
    return {OutboxFailure(failure): int(recipients) for failure, recipients in session.execute(
        select(OutboxMessage.failure, func.sum(OutboxMessage.recipient_count))
        .where(OutboxMessage.broadcast_id == broadcast_id,
               OutboxMessage.status == OutboxStatus.FAILED)
        .group_by(OutboxMessage.failure))}


def refusal(session: Session, broadcast_id: int) -> str | None:
    """LINE's words for one of a broadcast's refused rows (they usually share one cause)."""
    return session.scalar(select(OutboxMessage.last_error)
                          .where(OutboxMessage.broadcast_id == broadcast_id,
                                 OutboxMessage.failure == OutboxFailure.REFUSED)
                          .limit(1))


def resendable(session: Session, broadcast_id: int) -> int:
    """Recipients LINE refused whose message is still kept, so it can be sent again (once
    purged after the retention period, what it said is gone)."""
    return int(session.scalar(
        select(func.coalesce(func.sum(OutboxMessage.recipient_count), 0))
        .where(OutboxMessage.broadcast_id == broadcast_id,
               OutboxMessage.failure == OutboxFailure.REFUSED,
               OutboxMessage.purged_at.is_(None))))


def resend_refused(session: Session, broadcast_id: int, now: datetime) -> int:
    """Queue again, as new rows with new retry keys, the recipients LINE refused.

    Safe: a refused request was not acted on, so nobody gets the message twice. Expired rows
    are never resent (they may have arrived). Returns the people queued again.
    """
    refused = list(session.scalars(
        select(OutboxMessage).where(OutboxMessage.broadcast_id == broadcast_id,
                                    OutboxMessage.failure == OutboxFailure.REFUSED,
                                    OutboxMessage.purged_at.is_(None))
        .order_by(OutboxMessage.id).with_for_update()))
    queued = 0
    for row in refused:
        row.failure = OutboxFailure.RESENT
        recipients = _reachable_in_order(session, list(row.recipients))
        if row.kind == OutboxKind.PUSH and recipients:
            _enqueue(session, OutboxKind.PUSH, recipients, row.messages, now, broadcast_id)
        elif recipients:
            _enqueue(session, OutboxKind.MULTICAST, recipients, row.messages, now, broadcast_id)
        queued += len(recipients)
    return queued
