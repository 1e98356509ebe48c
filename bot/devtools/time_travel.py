"""Let time pass in a test database: every stored moment moves back by the same amount.

Scenario files (`time passes: 335 days`) and tests use it to reach an expiry or a period of
inactivity while the bot, the webhook and the jobs all keep using the real clock: what was
granted "now" was granted 335 days ago afterwards, and everything between stays in order.
Signed codes carry their own times and are not moved (they are short-lived anyway).
Development and tests only.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from bot.store.db import Base, Database, UTCDateTime

_AMOUNT = re.compile(r"^\s*(\d+)\s*(day|days|hour|hours|minute|minutes)\s*$")


def parse(amount: str) -> timedelta:
    """"335 days", "1 hour", "90 minutes"."""
    found = _AMOUNT.match(amount)
    if found is None:
        raise ValueError(f"{amount!r}: write a number and days, hours or minutes, e.g. 335 days")
    number, unit = int(found.group(1)), found.group(2).rstrip("s")
    return timedelta(**{unit + "s": number})


def pass_time(db: Database, amount: timedelta) -> int:
    """Move every timestamp of every table back by `amount`; returns the rows changed.

    Row by row in Python, so it works the same on SQLite and PostgreSQL (test data is small).
    """
    changed = 0
    with db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            moments = [c for c in table.columns if isinstance(c.type, UTCDateTime)]
            if not moments:
                continue
            keys = list(table.primary_key.columns)
            for row in session.execute(select(*keys, *moments)).all():
                values = {c.name: row._mapping[c] - amount for c in moments
                          if row._mapping[c] is not None}
                if values:
                    session.execute(update(table).where(
                        *[k == row._mapping[k] for k in keys]).values(**values))
                    changed += 1
    return changed
