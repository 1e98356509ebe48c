"""The outgoing queue: every message that is not a reply, sent by the `worker` (SPEC §5, §6).

Enqueueing adds rows to the caller's session, so a message is queued exactly when the change
that caused it commits. Each row's `X-Line-Retry-Key` is fixed here and every try repeats the
identical request, so LINE acts on it at most once (a retry of an accepted key gets 409).

The worker side: `claim` leases due rows in a short transaction, the worker sends them outside
any transaction, then `mark_sent`, `retry_later` or `mark_failed` writes the result.
Narrowcast is not queued: the table has no place for its recipient and filter objects.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot import line
from bot.models import OutboxKind, OutboxMessage, OutboxStatus, Person

MAX_MESSAGES = 5
MAX_MULTICAST = 500
ERROR_LENGTH = 1000  # OutboxMessage.last_error
BACKOFF_FIRST_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 300.0
#: LINE remembers a retry key for 24 hours; a resend after that could deliver twice.
GIVE_UP_AFTER = timedelta(hours=23)
#: User IDs per `IN (…)`: below SQLite's 32,766 bound parameters, so that a default batch
#: (50 rows of up to 500 recipients) is one query.
_LOOKUP_CHUNK = 30_000

Messages = Sequence[line.Message | Mapping]


# Enqueueing, in the caller's transaction -------------------------------------------------------

def push(session: Session, user_id: str, messages: Messages, now: datetime, *,
         broadcast_id: int | None = None) -> OutboxMessage:
    return _enqueue(session, OutboxKind.PUSH, [user_id], _as_json(messages), now, broadcast_id)


def multicast(session: Session, user_ids: Iterable[str], messages: Messages, now: datetime, *,
              broadcast_id: int | None = None) -> list[OutboxMessage]:
    """One row per 500 recipients (LINE's limit); each person once."""
    body = _as_json(messages)
    unique = list(dict.fromkeys(user_ids))
    return [_enqueue(session, OutboxKind.MULTICAST, unique[start:start + MAX_MULTICAST], body, now,
                     broadcast_id)
            for start in range(0, len(unique), MAX_MULTICAST)]


def broadcast_all(session: Session, messages: Messages, now: datetime) -> OutboxMessage:
    """LINE's broadcast endpoint: everyone who follows the account (60 requests an hour)."""
    return _enqueue(session, OutboxKind.BROADCAST, [], _as_json(messages), now, None)


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
    (BEGIN IMMEDIATE, bot.db) serialises claims. The lease outlives a worker that dies while
    sending: the row is due again when it ends and is resent with the same retry key.
    Recipients who can no longer be reached are dropped here, for good.
    """
    messages = list(session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.available_at <= now)
        .order_by(OutboxMessage.available_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)))
    for message in messages:
        message.attempts += 1
        message.available_at = now + lease
    _drop_unreachable(session, messages)
    return messages


def _drop_unreachable(session: Session, messages: list[OutboxMessage]) -> None:
    addressed = {user_id for message in messages for user_id in message.recipients}
    if not addressed:
        return
    reachable = _reachable(session, sorted(addressed))
    for message in messages:
        kept = [user_id for user_id in message.recipients if user_id in reachable]
        if kept != message.recipients:
            message.recipients = kept


def _reachable(session: Session, user_ids: list[str]) -> set[str]:
    """The user IDs of people who follow the account (R14).

    Blocking sets `following` false; deleting one's data sets `deleted_at` and erases the
    user ID, so an ID with no person behind it is not sent to either.
    """
    found: set[str] = set()
    for start in range(0, len(user_ids), _LOOKUP_CHUNK):
        found.update(session.scalars(select(Person.line_user_id).where(
            Person.line_user_id.in_(user_ids[start:start + _LOOKUP_CHUNK]),
            Person.following.is_(True), Person.deleted_at.is_(None))))
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


def mark_sent(session: Session, message_id: int, now: datetime) -> None:
    _finish(session, message_id, status=OutboxStatus.SENT, sent_at=now, last_error=None)


def retry_later(session: Session, message_id: int, at: datetime, error: str | None) -> None:
    _finish(session, message_id, available_at=at, last_error=_clip(error))


def mark_failed(session: Session, message_id: int, error: str | None) -> None:
    _finish(session, message_id, status=OutboxStatus.FAILED, last_error=_clip(error))


def _finish(session: Session, message_id: int, **values) -> None:
    # Only a pending row: a worker whose lease ran out must not undo another's SENT.
    session.execute(update(OutboxMessage)
                    .where(OutboxMessage.id == message_id,
                           OutboxMessage.status == OutboxStatus.PENDING)
                    .values(**values))


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
