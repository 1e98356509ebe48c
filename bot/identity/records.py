"""What a verification leaves in the database (R13), and the status other features read.

Kept: provider, pairwise subject, assurance level, verified-at, birth date, the verified name
(a counter checks it, R6), the municipality of the address (R9), consent version and time;
for a minor's guardian: their pairwise subject, the relationship and the time of consent.
Never kept: the address itself, the 12-digit number, PINs, certificates, tokens, raw userinfo.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.domain.calendar import is_minor, today_in_japan
from bot.identity.address import municipality_for
from bot.identity.oidc import Identity
from bot.services import registry
from bot.store.models import (
    Entity,
    GuardianConsent,
    IdentityVerification,
    Person,
    RegistrationKind,
)

#: The wording of the consent page the person agreed to; bump it when that text changes.
CONSENT_VERSION = "2026-12"


class Relationship(StrEnum):
    PARENT = "parent"                  # 親権者
    LEGAL_GUARDIAN = "legal_guardian"  # 未成年後見人
    OTHER = "other"                    # その他


class Outcome(StrEnum):
    VERIFIED = "verified"
    NEEDS_GUARDIAN = "needs_guardian"          # verified, under 18, no consent yet
    SUBJECT_TAKEN = "subject_taken"            # the card is linked to another account
    INCOMPLETE = "incomplete"                  # the provider did not give a birth date
    GUARDIAN_CONSENTED = "guardian_consented"
    GUARDIAN_IS_MINOR = "guardian_is_minor"
    GUARDIAN_IS_SELF = "guardian_is_self"      # the minor's own card
    GUARDIAN_NOT_NEEDED = "guardian_not_needed"


@dataclass(frozen=True)
class IdentityStatus:
    verified: bool
    minor: bool
    guardian_consented: bool
    verified_at: datetime | None


@dataclass(frozen=True)
class Recorded:
    outcome: Outcome
    residence: Entity | None = None
    #: The verified home, when the person holds premium there: it stays until it expires,
    #: but cannot be renewed (R5). Said on the page and in the chat; nothing changes now.
    premium_at_home: Entity | None = None


def verification_of(session: Session, person: Person) -> IdentityVerification | None:
    return session.scalar(select(IdentityVerification).where(
        IdentityVerification.person_id == person.id))


def consent_of(session: Session, person: Person) -> GuardianConsent | None:
    return session.scalar(select(GuardianConsent).where(GuardianConsent.person_id == person.id))


def status(session: Session, person: Person, today: date) -> IdentityStatus:
    """Whether the person is verified, a minor on `today`, and has a guardian's consent."""
    verification = verification_of(session, person)
    if verification is None:
        return IdentityStatus(False, False, False, None)
    return IdentityStatus(True, is_minor(verification.birth_date, today),
                          consent_of(session, person) is not None, verification.verified_at)


@dataclass(frozen=True)
class Verified:
    """What a verification of one's own card leaves (R13): the card's address is already
    reduced to its municipality. It can wait as JSON for a confirmation from the chat."""
    provider: str
    subject: str
    assurance_level: str | None
    name: str | None
    birth_date: date | None
    municipality_id: int | None

    @classmethod
    def of(cls, session: Session, provider: str, identity: Identity) -> Verified:
        municipality = municipality_for(session, identity.address)
        return cls(provider, identity.subject, identity.assurance_level, identity.name,
                   identity.birth_date, municipality.id if municipality else None)

    def as_json(self) -> dict:
        return {"provider": self.provider, "subject": self.subject,
                "assurance_level": self.assurance_level, "name": self.name,
                "birth_date": self.birth_date.isoformat() if self.birth_date else None,
                "municipality_id": self.municipality_id}

    @classmethod
    def from_json(cls, data: dict) -> Verified:
        born = data.get("birth_date")
        return cls(data["provider"], data["subject"], data.get("assurance_level"),
                   data.get("name"), date.fromisoformat(born) if born else None,
                   data.get("municipality_id"))


def save_verification(session: Session, person: Person, verified: Verified,
                      consented_at: datetime, now: datetime) -> Recorded:
    """Record a verification of the person's own card; a renewed card updates the row."""
    if verified.birth_date is None:
        return Recorded(Outcome.INCOMPLETE)
    provider = verified.provider
    holder = session.scalar(select(IdentityVerification).where(
        IdentityVerification.provider == provider, IdentityVerification.subject == verified.subject))
    if holder is not None and holder.person_id != person.id:
        if session.get(Person, holder.person_id).deleted_at is None:
            return Recorded(Outcome.SUBJECT_TAKEN)
        session.delete(holder)  # left behind by someone who deleted their data (R14)
        session.flush()
    municipality = (session.get(Entity, verified.municipality_id)
                    if verified.municipality_id is not None else None)
    row = verification_of(session, person)
    if row is None:
        row = IdentityVerification(person_id=person.id)
    elif (row.provider, row.subject) != (provider, verified.subject):
        # Another card: a consent given for the previous holder does not carry over.
        session.execute(delete(GuardianConsent).where(GuardianConsent.person_id == person.id))
    row.provider, row.subject = provider, verified.subject
    row.assurance_level = verified.assurance_level
    row.verified_at, row.birth_date, row.name = now, verified.birth_date, verified.name
    row.address_entity_id = municipality.id if municipality else None
    row.consent_version, row.consented_at = CONSENT_VERSION, consented_at
    session.add(row)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # the same card, verified by another account at the same moment
        return Recorded(Outcome.SUBJECT_TAKEN)
    at_home = None
    if municipality is not None:
        registry.set_residence(session, person, municipality)
        at_home = municipality if _premium_at(session, person, municipality) else None
    minor = is_minor(verified.birth_date, today_in_japan(now))
    if minor and consent_of(session, person) is None:
        return Recorded(Outcome.NEEDS_GUARDIAN, municipality, at_home)
    return Recorded(Outcome.VERIFIED, municipality, at_home)


def _premium_at(session: Session, person: Person, entity: Entity) -> bool:
    return any(r.entity_id == entity.id and r.kind == RegistrationKind.PREMIUM
               for r in registry.active(session, person))


def save_guardian_consent(session: Session, minor: Person, provider: str, guardian: Identity,
                          relationship: Relationship, now: datetime) -> Recorded:
    """A guardian, verified with their own card, consents for the minor (R10)."""
    verification = verification_of(session, minor)
    if verification is None or not is_minor(verification.birth_date, today_in_japan(now)):
        return Recorded(Outcome.GUARDIAN_NOT_NEEDED)
    if guardian.birth_date is None:
        return Recorded(Outcome.INCOMPLETE)
    if (verification.provider, verification.subject) == (provider, guardian.subject):
        return Recorded(Outcome.GUARDIAN_IS_SELF)
    if is_minor(guardian.birth_date, today_in_japan(now)):
        return Recorded(Outcome.GUARDIAN_IS_MINOR)
    consent = consent_of(session, minor)
    if consent is None:
        consent = GuardianConsent(person_id=minor.id)
        session.add(consent)
    consent.provider, consent.subject = provider, guardian.subject
    consent.relationship_to_minor, consent.consented_at = relationship.value, now
    session.flush()
    return Recorded(Outcome.GUARDIAN_CONSENTED)
