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

from sqlalchemy import JSON, Select, String, any_, bindparam, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.orm import Session

from bot import line
from bot.store.models import OutboxKind, OutboxMessage, OutboxStatus, Person

MAX_MESSAGES = 5
MAX_MULTICAST = 500
ERROR_LENGTH = 1000  # OutboxMessage.last_error
BACKOFF_FIRST_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 300.0
#: LINE remembers a retry key for 24 hours; a resend after that could deliver twice.
GIVE_UP_AFTER = timedelta(hours=23)
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
                   literal(0), at, at, literal(broadcast_id))
            .group_by(chosen.c.n))
    queued = (OutboxMessage.__table__.insert()
              .from_select(["kind", "recipients", "messages", "retry_key", "status", "attempts",
                            "available_at", "created_at", "broadcast_id"], rows)
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
        broadcast_id=broadcast_id)
    session.add(message)
    return message


# The worker's side -----------------------------------------------------------------------------

def claim(session: Session, now: datetime, limit: int, lease: timedelta) -> list[OutboxMessage]:
    """Up to `limit` due messages, leased until `now + lease`: commit, then send them.

    PostgreSQL skips rows another worker holds (FOR UPDATE SKIP LOCKED), so workers neither
    wait for each other nor take the same row; on SQLite the transaction's write lock
    (BEGIN IMMEDIATE, bot.store.db) serialises claims. The lease outlives a worker that dies while
    sending: the row is due again when it ends and is resent with the same retry key.
    Recipients who can no longer be reached are dropped here, for good.
    """
    due = (select(OutboxMessage.id)
           .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.available_at <= now)
           .order_by(OutboxMessage.available_at, OutboxMessage.id)
           .limit(limit)
           .with_for_update(skip_locked=True)
           .cte("due"))
    messages = sorted(session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(select(due.c.id)))
        .values(attempts=OutboxMessage.attempts + 1, available_at=now + lease)
        .returning(OutboxMessage),
        execution_options={"synchronize_session": False}), key=lambda m: m.id)
    _drop_unreachable(session, messages)
    return messages


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
                message.recipients = [uid for uid in message.recipients if uid in reachable]
        return
    for message in addressed:
        if not changed.isdisjoint(message.recipients):
            message.recipients = [uid for uid in message.recipients if uid not in changed]


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
    """When to try again: after LINE's Retry-After or a backoff; None once it is too late."""
    wait = retry_after if retry_after is not None else backoff_seconds(message.attempts)
    at = now + timedelta(seconds=wait)
    return at if at < message.created_at + GIVE_UP_AFTER else None


@dataclass(frozen=True)
class Result:
    """What became of one claimed message: SENT (LINE took it, or nobody was left to send
    to), RETRY at `at`, or FAILED; `error` is kept for the staff and the logs."""

    message_id: int
    status: OutboxStatus
    at: datetime | None = None
    error: str | None = None


def record(session: Session, results: Iterable[Result], now: datetime) -> None:
    """Write a batch's results: one UPDATE for all sent rows, one per retried or failed row.

    Only a pending row is touched: a worker whose lease ran out must not undo another's SENT.
    """
    sent = [r.message_id for r in results if r.status == OutboxStatus.SENT]
    if sent:
        session.execute(update(OutboxMessage)
                        .where(OutboxMessage.id.in_(sent),
                               OutboxMessage.status == OutboxStatus.PENDING)
                        .values(status=OutboxStatus.SENT, sent_at=now, last_error=None),
                        execution_options={"synchronize_session": False})
    for result in results:
        if result.status == OutboxStatus.PENDING:
            _finish(session, result.message_id, available_at=result.at,
                    last_error=_clip(result.error))
        elif result.status == OutboxStatus.FAILED:
            _finish(session, result.message_id, status=OutboxStatus.FAILED,
                    last_error=_clip(result.error))


def _finish(session: Session, message_id: int, **values) -> None:
    session.execute(update(OutboxMessage)
                    .where(OutboxMessage.id == message_id,
                           OutboxMessage.status == OutboxStatus.PENDING)
                    .values(**values), execution_options={"synchronize_session": False})


def _clip(error: str | None) -> str | None:
    return error[:ERROR_LENGTH] if error else error


# For staff -------------------------------------------------------------------------------------

def counts(session: Session, broadcast_id: int) -> dict[str, int]:
    """Recipients of a broadcast by status; those dropped as unreachable are not counted."""
    totals = {status.value: 0 for status in OutboxStatus}
    for status, recipients in session.execute(
            select(OutboxMessage.status, func.sum(func.json_array_length(OutboxMessage.recipients)))
            .where(OutboxMessage.broadcast_id == broadcast_id)
            .group_by(OutboxMessage.status)):
        totals[status] = int(recipients)
    return totals
