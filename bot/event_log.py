"""Webhook events already handled: each `webhookEventId` is acted on once (SPEC §5)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.models import ProcessedEvent


def claim(session: Session, webhook_event_id: str, now: datetime) -> bool:
    """Record the event in this transaction; False if it was already recorded.

    On PostgreSQL a second delivery arriving at the same moment waits on the first one's
    insert and then finds the row, so exactly one of them goes on.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.scalar(
        dialect.insert(ProcessedEvent)
        .values(webhook_event_id=webhook_event_id, processed_at=now)
        .on_conflict_do_nothing(index_elements=[ProcessedEvent.webhook_event_id])
        .returning(ProcessedEvent.webhook_event_id))
    return inserted is not None
