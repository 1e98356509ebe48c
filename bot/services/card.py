"""What the registration card (登録証, R6) shows: who holds it and where they are registered.

The card itself, a Flex message with a short-lived QR code, is built in `conversations/card.py`.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import registry
from bot.store.models import IdentityVerification, Person, Registration, RegistrationKind


def verified_name(session: Session, person: Person) -> str | None:
    """The name read from the My Number Card, if the person has verified (R13 keeps only this)."""
    return session.scalar(select(IdentityVerification.name)
                          .where(IdentityVerification.person_id == person.id))


def held(session: Session, person: Person) -> list[Registration]:
    """The person's current registrations, premium first: those are the ones a counter asks about."""
    current = registry.active(session, person)
    current.sort(key=lambda r: r.kind != RegistrationKind.PREMIUM)
    return current
