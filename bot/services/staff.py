"""Municipality staff: invitations, enrolment, and who may act for which entity."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from bot.store.models import Entity, Person, Staff, StaffInvitation, StaffRole

INVITATION_WORD = "スタッフ招待"
#: 「スタッフ招待 ABCD-EFGH-IJKL-MNOP」: 80 random bits in base32, grouped for reading aloud.
INVITATION_PATTERN = re.compile(
    r"(?:スタッフ招待|staff\s*invitation)\s*[:：]?\s*([A-Za-z2-7]{4}(?:-[A-Za-z2-7]{4}){3})",
    re.IGNORECASE)
DEFAULT_VALIDITY = timedelta(hours=72)


class InvitationProblem(StrEnum):
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Invitation:
    code: str          # shown once to the operator; only its hash is stored
    entity: Entity
    role: str
    expires_at: datetime

    @property
    def message(self) -> str:
        return f"{INVITATION_WORD} {self.code}"


def _hash(code: str) -> str:
    return hashlib.sha256(code.upper().encode()).hexdigest()


def invite(session: Session, entity: Entity, role: str, now: datetime,
           valid_for: timedelta = DEFAULT_VALIDITY) -> Invitation:
    raw = base64.b32encode(secrets.token_bytes(10)).decode()
    code = "-".join(raw[i:i + 4] for i in range(0, 16, 4))
    session.add(StaffInvitation(code_hash=_hash(code), entity_id=entity.id, role=role,
                                created_at=now, expires_at=now + valid_for))
    session.flush()
    return Invitation(code, entity, role, now + valid_for)


def find_invitation_code(text: str) -> str | None:
    match = INVITATION_PATTERN.search(text)
    return match.group(1).upper() if match else None


def redeem(session: Session, code: str, person: Person,
           now: datetime) -> Staff | InvitationProblem:
    """Make the person staff of the invitation's entity; the invitation is then used up."""
    invitation = session.scalar(select(StaffInvitation).where(
        StaffInvitation.code_hash == _hash(code)).with_for_update())
    if invitation is None:
        return InvitationProblem.UNKNOWN
    if invitation.used_at is not None:
        return InvitationProblem.USED
    if invitation.expires_at < now:
        return InvitationProblem.EXPIRED
    invitation.used_at = now
    invitation.used_by_person_id = person.id
    existing = session.scalar(select(Staff).where(
        Staff.person_id == person.id, Staff.entity_id == invitation.entity_id,
        Staff.removed_at.is_(None)))
    if existing is not None:
        existing.role = invitation.role
        return existing
    staff = Staff(person_id=person.id, entity_id=invitation.entity_id, entity=invitation.entity,
                  role=invitation.role, created_at=now)
    session.add(staff)
    session.flush()
    return staff


def roles_of(session: Session, person: Person) -> list[Staff]:
    """The entities this person acts for, with their role; empty for residents."""
    return list(session.scalars(
        select(Staff).options(joinedload(Staff.entity))
        .where(Staff.person_id == person.id, Staff.removed_at.is_(None))
        .order_by(Staff.id)))


def role_at(session: Session, person: Person, entity_code: str) -> Staff | None:
    """The person's staff role at this entity, or None: the one authorisation check."""
    return next((s for s in roles_of(session, person) if s.entity.code == entity_code), None)


def members(session: Session, entity: Entity) -> list[Staff]:
    return list(session.scalars(
        select(Staff).options(joinedload(Staff.person))
        .where(Staff.entity_id == entity.id, Staff.removed_at.is_(None)).order_by(Staff.id)))


def remove(session: Session, staff: Staff, now: datetime) -> None:
    staff.removed_at = now


def is_admin(staff: Staff) -> bool:
    return staff.role == StaffRole.ADMIN
