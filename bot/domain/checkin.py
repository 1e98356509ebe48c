"""Check-in rules (R4, R12): when a code is valid, and where a person stands toward premium."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.calendar import years_later

#: Check-in opens this long before a session starts and stays open this long after it ends,
#: so people who arrive early or leave late are not turned away.
MARGIN = timedelta(minutes=60)
#: A rotating code is still accepted this many steps after it was shown (a slow phone).
ROTATION_GRACE_STEPS = 1


class Refusal(StrEnum):
    NOT_YET = "not_yet"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    CLOSED = "closed"
    OLD_ROTATING_CODE = "old_rotating_code"
    WRONG_SESSION = "wrong_session"


@dataclass(frozen=True)
class Window:
    opens: datetime
    closes: datetime


def window(starts_at: datetime, ends_at: datetime) -> Window:
    return Window(starts_at - MARGIN, ends_at + MARGIN)


@dataclass(frozen=True)
class Code:
    """What a signed check-in code says (the signature is checked before this exists)."""
    entity_code: str
    session_id: int
    opens: datetime
    closes: datetime
    step: int | None = None  # the rotation step of a rotating code


@dataclass(frozen=True)
class SessionFacts:
    id: int
    entity_code: str
    starts_at: datetime
    ends_at: datetime
    status: str  # the activity's: open, closed, cancelled
    rotate_seconds: int | None


def rotation_step(now: datetime, seconds: int) -> int:
    return int(now.timestamp()) // seconds


def refusal(code: Code, session: SessionFacts, now: datetime) -> Refusal | None:
    """Why this code cannot check anyone in now, or None (R12)."""
    if code.session_id != session.id or code.entity_code != session.entity_code:
        return Refusal.WRONG_SESSION
    if session.status == "cancelled":
        return Refusal.CANCELLED
    if session.status == "closed":
        return Refusal.CLOSED
    allowed = window(session.starts_at, session.ends_at)
    if now < max(code.opens, allowed.opens):
        return Refusal.NOT_YET
    if now > min(code.closes, allowed.closes):
        return Refusal.EXPIRED
    if session.rotate_seconds:
        current = rotation_step(now, session.rotate_seconds)
        if code.step is None or not current - ROTATION_GRACE_STEPS <= code.step <= current:
            return Refusal.OLD_ROTATING_CODE
    return None


def twelve_months_before(now: datetime) -> datetime:
    """The start of R4's period: the same day a year earlier (29 Feb → 28 Feb)."""
    return years_later(now, -1)


@dataclass(frozen=True)
class Progress:
    """Designated activities done in the last 12 months against the entity's requirement."""
    done: int
    required: int

    @property
    def reached(self) -> bool:
        return self.done >= self.required

    @property
    def missing(self) -> int:
        return max(0, self.required - self.done)
