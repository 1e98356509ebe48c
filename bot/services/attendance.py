"""Attendance: checking people in to activity sessions, and what they have done (R4, R11,
R12). The rules of a check-in code are bot/domain/checkin.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from bot.codes import checkin_codes
from bot.domain import checkin as rules
from bot.services import activities
from bot.store.models import (
    Activity,
    ActivitySession,
    ActivityStatus,
    CheckIn,
    Entity,
    Person,
    Registration,
    RegistrationStatus,
)


class Outcome(StrEnum):
    CHECKED_IN = "checked_in"
    ALREADY = "already"                      # the same person, the same session: nothing new
    NEEDS_REGISTRATION = "needs_registration"
    REFUSED = "refused"                      # a real code, but not now (R12)
    INVALID = "invalid"                      # not a code we signed


@dataclass
class Result:
    outcome: Outcome
    session: ActivitySession | None = None
    refusal: rules.Refusal | None = None
    progress: rules.Progress | None = None
    other_sessions: list[ActivitySession] = field(default_factory=list)

    @property
    def activity(self) -> Activity | None:
        return self.session.activity if self.session else None

    @property
    def entity(self) -> Entity | None:
        return self.session.activity.entity if self.session else None


def attempt(session: Session, person: Person, token: str, secret: str, now: datetime,
            method: str) -> Result:
    """Check the person in with a code; safe to repeat and to run concurrently.

    The unique (session, person) index decides between concurrent scans: exactly one insert
    succeeds, the others find the row and answer "already checked in".
    """
    try:
        code = checkin_codes.read(token, secret)
    except checkin_codes.InvalidCode:
        return Result(Outcome.INVALID)
    activity_session = session.scalar(
        select(ActivitySession)
        .options(joinedload(ActivitySession.activity).joinedload(Activity.entity))
        .where(ActivitySession.id == code.session_id))
    if activity_session is None:
        return Result(Outcome.INVALID)
    refusal = rules.refusal(code, activities.facts(activity_session), now)
    if refusal is not None:
        return Result(Outcome.REFUSED, activity_session, refusal)
    entity = activity_session.activity.entity
    if _already(session, person, activity_session):
        return Result(Outcome.ALREADY, activity_session, progress=progress(session, person, entity, now))
    if not _registered(session, person, entity):
        return Result(Outcome.NEEDS_REGISTRATION, activity_session)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.scalar(
        dialect.insert(CheckIn)
        .values(session_id=activity_session.id, person_id=person.id, checked_in_at=now,
                method=method)
        .on_conflict_do_nothing(index_elements=[CheckIn.session_id, CheckIn.person_id])
        .returning(CheckIn.id))
    outcome = Outcome.CHECKED_IN if inserted is not None else Outcome.ALREADY
    return Result(outcome, activity_session, progress=progress(session, person, entity, now))


def _already(session: Session, person: Person, activity_session: ActivitySession) -> bool:
    return session.scalar(select(CheckIn.id).where(
        CheckIn.session_id == activity_session.id, CheckIn.person_id == person.id)) is not None


def _registered(session: Session, person: Person, entity: Entity) -> bool:
    return session.scalar(select(Registration.id).where(
        Registration.person_id == person.id, Registration.entity_id == entity.id,
        Registration.status == RegistrationStatus.ACTIVE).limit(1)) is not None


def designated_check_ins(entity: Entity, since: datetime):
    """Check-ins that count for R4 at this entity since a moment."""
    return (select(CheckIn.person_id, func.count(CheckIn.id).label("done"))
            .join(ActivitySession, CheckIn.session_id == ActivitySession.id)
            .join(Activity, ActivitySession.activity_id == Activity.id)
            .where(Activity.entity_id == entity.id, Activity.designated.is_(True),
                   Activity.status != ActivityStatus.CANCELLED,
                   CheckIn.checked_in_at >= since))


def progress(session: Session, person: Person, entity: Entity, now: datetime) -> rules.Progress:
    """R4: designated activities at this entity in the last 12 months, against its requirement."""
    query = designated_check_ins(entity, rules.twelve_months_before(now)).where(
        CheckIn.person_id == person.id).group_by(CheckIn.person_id)
    row = session.execute(query).first()
    return rules.Progress(row.done if row else 0, entity.required_activities)


@dataclass(frozen=True)
class Attended:
    title: str
    starts_at: datetime
    designated: bool


def history(session: Session, person: Person) -> list[tuple[Entity, list[Attended]]]:
    """The person's activities, per entity, newest first (R11)."""
    rows = session.execute(
        select(Entity, Activity.title, ActivitySession.starts_at, Activity.designated)
        .join(Activity, Activity.entity_id == Entity.id)
        .join(ActivitySession, ActivitySession.activity_id == Activity.id)
        .join(CheckIn, CheckIn.session_id == ActivitySession.id)
        .where(CheckIn.person_id == person.id)
        .order_by(Entity.code, ActivitySession.starts_at.desc())).all()
    grouped: dict[int, tuple[Entity, list[Attended]]] = {}
    for entity, title, starts_at, designated in rows:
        grouped.setdefault(entity.id, (entity, []))[1].append(Attended(title, starts_at, designated))
    return list(grouped.values())
