"""Single-use links: the first use of a link's nonce is recorded, every later one refused."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.store.db import insert_once
from bot.store.models import UsedLink


def use(session: Session, nonce: str, now: datetime, expires_at: datetime) -> bool:
    """Record this use in the caller's transaction; False if the link was used before.

    On PostgreSQL a second use at the same moment waits on the first one's insert and then
    finds the row, so exactly one of them goes on.
    """
    inserted = session.connection().execute(
        insert_once(UsedLink.__table__, session.get_bind().dialect.name),
        {"nonce": nonce, "used_at": now, "expires_at": expires_at}).first()
    return inserted is not None


def used(session: Session, nonce: str) -> bool:
    return session.get(UsedLink, nonce) is not None
