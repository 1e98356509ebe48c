"""A broadcast (staff's information to an audience) fanned out into the outbox page by page.

The fan-out is resumable: each page of recipients is queued in the same transaction that
moves the broadcast's cursor, so a crash repeats nothing and loses nothing (Outgoing messages, docs/rules.md).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.delivery import outbox
from bot.domain.audience import Audience
from bot.services import audience as people_in
from bot.store.models import Broadcast, BroadcastStatus, Entity, Person

#: Recipients fanned out per transaction: 40 multicast requests of LINE's 500, queued by one
#: INSERT … SELECT in ~70 ms on PostgreSQL, so sending starts soon after the confirm; larger
#: pages were not faster overall (benchmarks/fanout.py). SQLite reads each page into Python,
#: so its pages are smaller.
PAGE = 20_000
SQLITE_PAGE = 5_000


def create(session: Session, entity: Entity, messages: list[dict], summary: str,
           audience: Audience, send_at: datetime, now: datetime,
           by: Person | None = None) -> Broadcast:
    if not 1 <= len(messages) <= 5:
        raise ValueError("a broadcast has 1 to 5 messages")
    broadcast = Broadcast(entity_id=entity.id, entity=entity, messages=messages,
                          summary=summary[:200], audience=audience.to_json(),
                          status=BroadcastStatus.SCHEDULED, send_at=max(send_at, now),
                          created_at=now, created_by_person_id=by.id if by else None)
    session.add(broadcast)
    session.flush()
    return broadcast


def due(session: Session, now: datetime) -> list[int]:
    """Broadcasts whose time has come and that are not fully queued yet."""
    return list(session.scalars(
        select(Broadcast.id).where(Broadcast.status.in_([BroadcastStatus.SCHEDULED,
                                                         BroadcastStatus.SENDING]),
                                   Broadcast.send_at <= now).order_by(Broadcast.send_at)))


def fan_out_page(session: Session, broadcast_id: int, now: datetime,
                 size: int | None = None) -> bool:
    """Queue the next page of recipients; True while more remain.

    The broadcast row is locked, so two workers never queue the same page: another worker
    skips it (False) and sends what is queued meanwhile.
    """
    broadcast = session.scalar(select(Broadcast).where(Broadcast.id == broadcast_id)
                               .with_for_update(skip_locked=True))
    if broadcast is None or broadcast.status not in (BroadcastStatus.SCHEDULED,
                                                     BroadcastStatus.SENDING):
        return False
    if broadcast.send_at > now:
        return False
    if size is None:
        size = PAGE if session.get_bind().dialect.name == "postgresql" else SQLITE_PAGE
    page = people_in.page_query(broadcast.entity, Audience.from_json(broadcast.audience),
                                broadcast.cursor, size)
    last, count = outbox.multicast_selected(session, page, broadcast.messages, now, broadcast.id)
    if not count:
        broadcast.status = BroadcastStatus.QUEUED
        broadcast.queued_at = now
        return False
    broadcast.status = BroadcastStatus.SENDING
    broadcast.cursor = last
    broadcast.recipients += count
    return True


def fan_out_due(transaction: Callable[[], AbstractContextManager[Session]], now: datetime,
                max_pages: int = 20) -> int:
    """Fan out what is due, one page per transaction; returns the pages queued."""
    pages = 0
    with transaction() as session:
        ids = due(session, now)
    for broadcast_id in ids:
        while pages < max_pages:
            with transaction() as session:
                more = fan_out_page(session, broadcast_id, now)
            if not more:
                break
            pages += 1
    return pages


def recent(session: Session, entity: Entity, limit: int = 5) -> list[Broadcast]:
    return list(session.scalars(select(Broadcast).where(Broadcast.entity_id == entity.id)
                                .order_by(Broadcast.id.desc()).limit(limit)))


def find(session: Session, entity: Entity, broadcast_id: int) -> Broadcast | None:
    """The broadcast if it is this entity's: staff of A never reach B's."""
    return session.scalar(select(Broadcast).where(Broadcast.id == broadcast_id,
                                                  Broadcast.entity_id == entity.id))


def cancel(broadcast: Broadcast) -> bool:
    """Only a broadcast that has not started can be cancelled."""
    if broadcast.status != BroadcastStatus.SCHEDULED:
        return False
    broadcast.status = BroadcastStatus.CANCELLED
    return True
