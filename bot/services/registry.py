"""The registry: who is registered where, in the database — making and ending registrations
with R2's cascade, where people live (R9), erasing a person (R14). The rules themselves are
bot/domain/registration.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, false, func, insert, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import instance_dict, set_committed_value

from bot.delivery import outbox
from bot.domain import registration as rules
from bot.services import entities
from bot.store.db import persistent
from bot.store.models import (
    Entity,
    GuardianConsent,
    IdentityVerification,
    Origin,
    Person,
    PremiumRequest,
    PremiumRequestStatus,
    Registration,
    RegistrationKind,
    RegistrationStatus,
    SurveyAnswer,
    VerificationAttempt,
    VerificationTicket,
)


@dataclass
class Registered:
    registration: Registration
    co_registration: Registration | None


@dataclass
class Ended:
    registration: Registration
    co_registrations_ended: list[Registration]


def target(entity: Entity) -> rules.Target:
    return rules.Target(entity.code, entity.prefecture_code, entity.is_prefecture,
                        entity.participating)


def active(session: Session, person: Person) -> list[Registration]:
    """The person's active registrations, oldest first, each with its entity loaded."""
    found = []
    for row in session.execute(_ACTIVE, {"person_id": person.id}):
        registration = persistent(session, Registration, row[:_REGISTRATION_COLUMNS])
        entity = persistent(session, Entity, row[_REGISTRATION_COLUMNS:])
        if "entity" not in instance_dict(registration):  # one the session had keeps its own
            set_committed_value(registration, "entity", entity)
        found.append(registration)
    return found


# Built once: it runs on most events, and building it cost more CPU than running it. Core rows
# made objects by `db.persistent`: the ORM's loading set-up cost as much as the query. (Core
# columns throughout, or SQLAlchemy runs the statement through the ORM anyway.)
_R, _E = Registration.__table__, Entity.__table__
_ACTIVE = (select(_R, _E).join(_E, _R.c.entity_id == _E.c.id)
           .where(_R.c.person_id == bindparam("person_id"), _R.c.status == RegistrationStatus.ACTIVE)
           .order_by(_R.c.registered_at, _R.c.id))
_REGISTRATION_COLUMNS = len(_R.c)


def held(registrations: list[Registration]) -> list[rules.Held]:
    return [rules.Held(r.entity.code, r.entity.prefecture_code, r.entity.is_prefecture,
                       r.kind, r.origin) for r in registrations]


def refusal(entity: Entity, current: list[Registration]) -> rules.Refusal | None:
    """Why a basic registration at `entity` is refused, given the person's `active` ones."""
    return rules.basic_refusal(target(entity), held(current))


def register_basic(session: Session, person: Person, entity: Entity, now: datetime,
                   current: list[Registration] | None = None) -> Registered:
    """Basic registration (R3) and the prefecture's co-registration (R2).

    A direct registration at a prefecture where the person is already co-registered turns
    that registration into a direct one, so the cascade of R2 no longer ends it.
    `current`: the person's `active` registrations, when the caller has just read them (in
    this transaction, under the person's lock), so that they are not read twice.
    """
    if current is None:
        current = active(session, person)
    refused = refusal(entity, current)
    if refused:
        raise RegistrationRefused(refused)
    residence_code = person.residence.code if person.residence else None
    kind = RegistrationKind.BASIC
    prefecture = entities.prefecture_of(session, entity)

    new = []  # the rows to insert
    existing = next((r for r in current if r.entity_id == entity.id and r.kind == kind), None)
    if existing is not None:  # co-registered at this prefecture: now chosen directly
        existing.origin = Origin.DIRECT
    else:
        new.append({"entity_id": entity.id, "origin": Origin.DIRECT,
                    "counted_in_statistics": rules.counts_in_statistics(entity.code,
                                                                        residence_code)})
    co_registered = rules.needs_co_registration(target(entity), prefecture.participating, kind,
                                                held(current))
    if co_registered:
        new.append({"entity_id": prefecture.id, "origin": Origin.CO_REGISTRATION,
                    "counted_in_statistics": rules.counts_in_statistics(prefecture.code,
                                                                        residence_code)})
    inserted = [persistent(session, Registration, row) for row in session.execute(_INSERT, [
        {"person_id": person.id, "kind": kind, "status": RegistrationStatus.ACTIVE,
         "registered_at": now, **row} for row in new])] if new else []
    session.flush()
    return Registered(existing or inserted[0], inserted[-1] if co_registered else None)


# One INSERT … RETURNING for the new rows, which become the session's objects
# (`db.persistent`): the unit of work's flush of new objects cost more CPU than the rest of
# registering, and the ORM's loading of the returned rows as much as the statement.
_INSERT = insert(Registration.__table__).returning(*Registration.__table__.c,
                                                   sort_by_parameter_order=True)


class RegistrationRefused(Exception):
    def __init__(self, reason: rules.Refusal):
        super().__init__(reason.value)
        self.reason = reason


def end(session: Session, registration: Registration, now: datetime, reason: str) -> Ended:
    """End one registration, and the prefecture co-registration it leaves alone (R2)."""
    _close(registration, now, reason)
    person = registration.person
    remaining = active(session, person)
    ended_too = []
    prefecture_code = registration.entity.prefecture_code
    if rules.co_registration_to_end(prefecture_code, held(remaining)):
        for other in remaining:
            if other.entity.code == prefecture_code:
                _close(other, now, "co_registration_ended")
                ended_too.append(other)
    session.flush()
    _withdraw_requests(session, PremiumRequest.registration_id.in_(
        [registration.id, *(other.id for other in ended_too)]), now, reason)
    return Ended(registration, ended_too)


def _withdraw_requests(session: Session, which, now: datetime, reason: str) -> None:
    """Pending premium requests of ended registrations leave the staff's queue (R14).

    A plain UPDATE: bot.services.premium imports this module, not the other way round.
    """
    session.execute(
        update(PremiumRequest)
        .where(which, PremiumRequest.status == PremiumRequestStatus.PENDING)
        .values(status=PremiumRequestStatus.WITHDRAWN, decided_at=now, reason=reason[:500])
        .execution_options(synchronize_session="fetch"))


def _close(registration: Registration, now: datetime, reason: str) -> None:
    registration.status = RegistrationStatus.ENDED
    registration.ended_at = now
    registration.end_reason = reason


def verified_residence(session: Session, person: Person) -> Entity | None:
    """The municipality of the address read from the My Number Card, if any (R9)."""
    return session.scalar(select(Entity).join(
        IdentityVerification, IdentityVerification.address_entity_id == Entity.id)
        .where(IdentityVerification.person_id == person.id))


def home_code(session: Session, person: Person) -> str | None:
    """Where the person lives for R5/R9: a verified address decides over a declaration."""
    verified = verified_residence(session, person)
    if verified is not None:
        return verified.code
    return person.residence.code if person.residence else None


# SQL twins of `home_code` and bot.domain.registration.at_residence, for queries over many
# people at once (statistics, the expiry job); tests/test_registration.py proves they agree.

def home_entity_id():
    """`home_code` as SQL: the verified address's municipality, else the declared one. The
    query joins the person and (outer) their IdentityVerification."""
    return func.coalesce(IdentityVerification.address_entity_id, Person.residence_entity_id)


def at_residence_sql(entity_id, residence_entity_id):
    """`rules.at_residence` as SQL: false, not NULL, where nobody knows where the person lives."""
    return func.coalesce(residence_entity_id == entity_id, false())


def set_residence(session: Session, person: Person, municipality: Entity | None) -> None:
    """Record where the person lives; their registration there leaves the statistics (R9).

    A declaration must not replace a verified address: callers asking the person check
    `verified_residence` first (conversations/residence).
    """
    person.residence = municipality
    person.residence_entity_id = municipality.id if municipality else None
    for registration in active(session, person):
        registration.counted_in_statistics = rules.counts_in_statistics(
            registration.entity.code, municipality.code if municipality else None)


def save_answers(session: Session, registration_id: int, question: str, answers: list[str],
                 now: datetime) -> None:
    """Replace the person's answers to one survey question."""
    session.execute(delete(SurveyAnswer).where(SurveyAnswer.registration_id == registration_id,
                                               SurveyAnswer.question == question))
    for answer in answers:
        session.add(SurveyAnswer(registration_id=registration_id, question=question,
                                 answer=answer, answered_at=now))


def answers(session: Session, registration_id: int) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for row in session.scalars(select(SurveyAnswer).where(
            SurveyAnswer.registration_id == registration_id).order_by(SurveyAnswer.id)):
        result.setdefault(row.question, []).append(row.answer)
    return result


def delete_person_data(session: Session, person: Person, now: datetime) -> int:
    """R14: end every registration and erase personal data; anonymous counts stay.

    The person row stays, without LINE user ID, name, language or residence, so that past
    registrations still count in "registered per month" but lead to nobody.
    """
    current = active(session, person)
    for registration in current:
        _close(registration, now, "data_deleted")
    _withdraw_requests(session, PremiumRequest.person_id == person.id, now, "data_deleted")
    registration_ids = select(Registration.id).where(Registration.person_id == person.id)
    session.execute(delete(SurveyAnswer).where(SurveyAnswer.registration_id.in_(registration_ids)))
    # The card verification goes too (R13, R14): a new start needs a new verification.
    for table in (IdentityVerification, GuardianConsent, VerificationTicket, VerificationAttempt):
        session.execute(delete(table).where(table.person_id == person.id))
    # What was queued for them, sent or not: pushes can hold results, names and links.
    if person.line_user_id is not None:
        outbox.forget(session, person.line_user_id, now)
    person.line_user_id = None
    person.display_name = None
    person.locale = None
    person.profile_language = None
    person.residence = None
    person.residence_entity_id = None
    person.last_access_at = None
    person.deleted_at = now
    person.conversation = person.conversation_token = person.conversation_data = None
    person.conversation_at = None
    session.flush()
    return len(current)


def active_counts(session: Session, entity: Entity) -> dict[str, int]:
    return dict(session.execute(
        select(Registration.kind, func.count())
        .where(Registration.entity_id == entity.id,
               Registration.status == RegistrationStatus.ACTIVE)
        .group_by(Registration.kind)).all())


def owned_active(session: Session, person: Person, registration_id: int) -> Registration | None:
    """The registration if it is this person's and active: a foreign or old ID finds nothing."""
    return session.scalar(select(Registration).options(joinedload(Registration.entity)).where(
        Registration.id == registration_id, Registration.person_id == person.id,
        Registration.status == RegistrationStatus.ACTIVE))


def active_at(session: Session, person: Person, at: list[Entity]) -> list[Registration]:
    """The person's active registrations at these entities, in the order they were made:
    what a card shows at the counters of the staff checking it."""
    return list(session.scalars(select(Registration).where(
        Registration.person_id == person.id,
        Registration.entity_id.in_([entity.id for entity in at]),
        Registration.status == RegistrationStatus.ACTIVE).order_by(Registration.id)))
