"""Webhook events already handled: each `webhookEventId` is acted on once (Webhook events, docs/rules.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.store.db import insert_once
from bot.store.models import ProcessedEvent


def claim(session: Session, webhook_event_id: str, now: datetime) -> bool:
    """Record the event in this transaction; False if it was already recorded.

    On PostgreSQL a second delivery arriving at the same moment waits on the first one's
    insert and then finds the row, so exactly one of them goes on.
    """
    inserted = session.connection().execute(
        claiming(session.get_bind().dialect.name),
        {"webhook_event_id": webhook_event_id, "processed_at": now}).first()
    return inserted is not None


def claiming(dialect: str):
    """The claim's INSERT; it returns the ID when this transaction recorded it."""
    return insert_once(ProcessedEvent.__table__, dialect)
