"""Premium registration in the database: judging, granting, renewing, giving up, staff review.

Premium upgrades the person's basic registration at an entity in place (R8: valid one year)
and carries the prefecture's registration along (R2). Every change locks the person's row
first, so two applications of one person run one after the other and R7's cap holds under
concurrency. Returns what changed; the messages that tell people and staff are built and
pushed by the callers (conversations/notices/premium.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from bot.domain import premium as rules
from bot.domain import registration as registration_rules
from bot.domain.calendar import today_in_japan
from bot.domain.checkin import Progress, twelve_months_before
from bot.identity import records
from bot.services import attendance, entities, registry, staff
from bot.store.models import (
    CheckIn,
    Entity,
    Origin,
    Person,
    PremiumRequest,
    PremiumRequestPurpose,
    PremiumRequestStatus,
    Registration,
    RegistrationKind,
    RegistrationStatus,
)

log = logging.getLogger(__name__)

Judgement = rules.Judgement
Unmet = rules.Unmet


class PremiumRefused(Exception):
    """The judgement does not allow premium here; `unmet` says which rules fail."""

    def __init__(self, judgement: Judgement, unmet: tuple[Unmet, ...]):
        super().__init__(", ".join(u.value for u in unmet))
        self.judgement = judgement
        self.unmet = unmet


class AlreadyPremium(Exception):
    """The registration is premium already: that is a renewal, not a grant."""


class AlreadyDecided(Exception):
    """The request was decided (or withdrawn) before: deciding again changes nothing."""


class OwnRequest(PermissionError):
    """Staff never decide their own request: another member of staff must."""


@dataclass
class Granted:
    registration: Registration
    #: The prefecture's registration made premium (or extended) along with it (R2), if any.
    co_registration: Registration | None
    judgement: Judgement


@dataclass
class Queued:
    request: PremiumRequest
    #: False when the request was pending already: its staff were told of it then.
    new: bool


@dataclass
class Reverted:
    registration: Registration
    #: The prefecture's premium co-registration that fell back to basic with it (R2), if any.
    co_registration: Registration | None


def lock_person(session: Session, person: Person) -> None:
    """Serialise the person's premium changes (R7). SQLite's BEGIN IMMEDIATE stands in."""
    session.execute(select(Person.id).where(Person.id == person.id).with_for_update())


# Judging ---------------------------------------------------------------------------------------

def identity_of(session: Session, person: Person, now: datetime) -> rules.Identity:
    found = records.status(session, person, today_in_japan(now))
    return rules.Identity(found.verified, found.minor, found.guardian_consented)


def judge(session: Session, person: Person, entity: Entity, now: datetime, *,
          counted_until: datetime | None = None) -> Judgement:
    """Every rule premium at `entity` needs, with the person's own figures.

    `counted_until`: count R4 over the 12 months before this moment instead of before `now` —
    a premium registration's expiry, to show what the judgement at expiry will see.
    """
    current = registry.active(session, person)
    residence = registry.home_code(session, person)  # a verified address decides (R9)
    progress = (attendance.progress(session, person, entity, now) if counted_until is None
                else progress_until(session, person, entity, counted_until))
    return rules.judge(registry.target(entity), registry.held(current), progress,
                       identity_of(session, person, now), residence)


def progress_until(session: Session, person: Person, entity: Entity,
                   until: datetime) -> rules.Progress:
    """R4 in the 12 months before `until` (an expiry), as the expiry job counts it
    (jobs/judging.py): check-ins after `until` belong to the next year."""
    row = session.execute(
        attendance.designated_check_ins(entity, twelve_months_before(until))
        .where(CheckIn.person_id == person.id, CheckIn.checked_in_at <= until)
        .group_by(CheckIn.person_id)).first()
    return Progress(row.done if row else 0, entity.required_activities)


def registration_at(session: Session, person: Person, entity: Entity) -> Registration | None:
    return next((r for r in registry.active(session, person) if r.entity_id == entity.id),
                None)


def pending_request(session: Session, person: Person, entity: Entity) -> PremiumRequest | None:
    return session.scalar(select(PremiumRequest).where(
        PremiumRequest.person_id == person.id, PremiumRequest.entity_id == entity.id,
        PremiumRequest.status == PremiumRequestStatus.PENDING))


# Granting, renewing, giving up -----------------------------------------------------------------

def grant(session: Session, person: Person, entity: Entity, now: datetime, *,
          waive: frozenset[Unmet] = frozenset()) -> Granted:
    """Premium at `entity` for a year, and at its prefecture along with it (R2, R8).

    Raises PremiumRefused when a rule does not hold. `waive` is for staff approving a
    request: they may accept activities the system did not see (R4), never R5 or R7.
    """
    lock_person(session, person)
    judgement = judge(session, person, entity, now)
    waived = waive & {Unmet.ACTIVITIES}
    unmet = tuple(u for u in judgement.unmet if u not in waived)
    if unmet:
        raise PremiumRefused(judgement, unmet)
    registration = registration_at(session, person, entity)
    assert registration is not None  # judged: Unmet.NOT_REGISTERED otherwise
    if registration.kind == RegistrationKind.PREMIUM:
        raise AlreadyPremium(entity.code)
    until = rules.one_year_after(now)
    _make_premium(registration, now, until, Origin.DIRECT)
    if entity.is_prefecture:
        registration.origin = Origin.DIRECT  # chosen at the prefecture itself: R2 no longer ends it
    co_registration = None if entity.is_prefecture else _co_register(session, person, entity,
                                                                     now, until)
    session.flush()
    log.info("premium granted: registration %s", registration.id)
    return Granted(registration, co_registration, judgement)


def _make_premium(registration: Registration, now: datetime, until: datetime,
                  origin: Origin) -> None:
    registration.kind = RegistrationKind.PREMIUM
    registration.premium_since = now
    registration.premium_until = until
    registration.premium_origin = origin


def _make_basic(registration: Registration) -> None:
    registration.kind = RegistrationKind.BASIC
    registration.premium_since = registration.premium_until = registration.premium_origin = None


def prefecture_registration(session: Session, person: Person,
                             municipality: Entity) -> Registration | None:
    return session.scalar(
        select(Registration).join(Registration.entity)
        .where(Registration.person_id == person.id, Registration.status == RegistrationStatus.ACTIVE,
               Entity.code == municipality.prefecture_code)
        .order_by(Registration.kind.desc()).limit(1))  # premium before basic


def _co_register(session: Session, person: Person, municipality: Entity, now: datetime,
                 until: datetime) -> Registration | None:
    """R2: the prefecture follows its municipality to premium, with the same validity."""
    prefecture = entities.prefecture_of(session, municipality)
    existing = prefecture_registration(session, person, municipality)
    if existing is None:
        if not prefecture.participating:
            return None
        residence_code = person.residence.code if person.residence else None
        co_registration = Registration(
            person_id=person.id, entity_id=prefecture.id, entity=prefecture,
            status=RegistrationStatus.ACTIVE, origin=Origin.CO_REGISTRATION, registered_at=now,
            counted_in_statistics=registration_rules.counts_in_statistics(prefecture.code,
                                                                          residence_code))
        _make_premium(co_registration, now, until, Origin.CO_REGISTRATION)
        session.add(co_registration)
        return co_registration
    if existing.kind == RegistrationKind.BASIC:
        _make_premium(existing, now, until, Origin.CO_REGISTRATION)
        return existing
    if existing.premium_origin == Origin.CO_REGISTRATION:  # another municipality came first
        existing.premium_until = max(existing.premium_until or until, until)
        return existing
    return None  # premium applied for at the prefecture itself keeps its own validity


def renew(session: Session, registration: Registration, now: datetime) -> Registration:
    """R8: one more year from the old expiry; the prefecture co-registration follows."""
    lock_person(session, registration.person)
    registration.premium_until = rules.one_year_after(registration.premium_until or now)
    registration.premium_since = now
    entity = registration.entity
    if not entity.is_prefecture:
        prefecture = prefecture_registration(session, registration.person, entity)
        if prefecture is not None and prefecture.kind == RegistrationKind.PREMIUM \
                and prefecture.premium_origin == Origin.CO_REGISTRATION:
            prefecture.premium_until = max(prefecture.premium_until or registration.premium_until,
                                           registration.premium_until)
    session.flush()
    return registration


def revert_to_basic(session: Session, registration: Registration, now: datetime,
                    reason: str) -> Reverted:
    """Back to basic (given up, not renewed, declined), with R2's effect on the prefecture.

    The prefecture's premium co-registration falls back to basic once no premium
    municipality is left in it, unless the person applied for premium there directly. The
    registration itself stays (basic), so the prefecture keeps a basic registration.
    """
    person = registration.person
    lock_person(session, person)
    _make_basic(registration)
    _withdraw_pending(session, registration, now, reason)
    entity = registration.entity
    fell_back = None
    if not entity.is_prefecture:
        prefecture = prefecture_registration(session, person, entity)
        if prefecture is not None and prefecture.kind == RegistrationKind.PREMIUM:
            after = registry.held(registry.active(session, person))
            if rules.prefecture_falls_back(entity.prefecture_code, after,
                                           prefecture.premium_origin == Origin.DIRECT):
                _make_basic(prefecture)
                _withdraw_pending(session, prefecture, now, reason)
                fell_back = prefecture
    session.flush()
    log.info("premium reverted to basic: registration %s (%s)", registration.id, reason)
    return Reverted(registration, fell_back)


def would_fall_back(session: Session, registration: Registration) -> Registration | None:
    """The prefecture registration that giving up `registration` would take back to basic."""
    entity = registration.entity
    if entity.is_prefecture or registration.kind != RegistrationKind.PREMIUM:
        return None
    person = registration.person
    prefecture = prefecture_registration(session, person, entity)
    if prefecture is None or prefecture.kind != RegistrationKind.PREMIUM:
        return None
    others = [r for r in registry.active(session, person) if r.id != registration.id]
    falls_back = rules.prefecture_falls_back(entity.prefecture_code, registry.held(others),
                                             prefecture.premium_origin == Origin.DIRECT)
    return prefecture if falls_back else None


def _withdraw_pending(session: Session, registration: Registration, now: datetime,
                      reason: str) -> None:
    for request in session.scalars(select(PremiumRequest).where(
            PremiumRequest.registration_id == registration.id,
            PremiumRequest.status == PremiumRequestStatus.PENDING)):
        request.status = PremiumRequestStatus.WITHDRAWN
        request.decided_at = now
        request.reason = reason[:500]


# Staff review (renewal mode `manual`) ----------------------------------------------------------

def request_review(session: Session, registration: Registration, purpose: str,
                   judgement: Judgement, now: datetime) -> Queued:
    """Queue the request for the entity's staff; one pending per person and entity."""
    existing = session.scalar(select(PremiumRequest).where(
        PremiumRequest.person_id == registration.person_id,
        PremiumRequest.entity_id == registration.entity_id,
        PremiumRequest.status == PremiumRequestStatus.PENDING))
    if existing is not None:
        return Queued(existing, new=False)
    request = PremiumRequest(
        person_id=registration.person_id, entity_id=registration.entity_id,
        registration_id=registration.id, purpose=purpose, status=PremiumRequestStatus.PENDING,
        judgement=judgement.to_json(), requested_at=now)
    session.add(request)
    session.flush()
    return Queued(request, new=True)


def reviewers(session: Session, request: PremiumRequest) -> list[Person]:
    """The entity's staff who can be told of `request` in LINE: never the person who made it,
    who may not decide it (OwnRequest)."""
    return [member.person for member in staff.members(session, request.entity)
            if member.person.line_user_id and member.person_id != request.person_id]


def pending_of(session: Session, entity: Entity) -> list[PremiumRequest]:
    """The entity's queue, oldest first: only ever one entity's requests (Authorisation, docs/rules.md)."""
    return list(session.scalars(
        select(PremiumRequest)
        .options(joinedload(PremiumRequest.person), joinedload(PremiumRequest.registration))
        .where(PremiumRequest.entity_id == entity.id,
               PremiumRequest.status == PremiumRequestStatus.PENDING)
        .order_by(PremiumRequest.requested_at, PremiumRequest.id)))


def judge_request(session: Session, request: PremiumRequest, now: datetime) -> Judgement:
    """The judgement a decision on `request` applies now: a renewal's activities counted
    over the 12 months before its expiry, as the expiry job counted them (R8)."""
    registration = request.registration
    counted_until = (registration.premium_until
                     if request.purpose == PremiumRequestPurpose.RENEWAL else None)
    return judge(session, request.person, request.entity, now, counted_until=counted_until)


def stored_judgement(request: PremiumRequest) -> Judgement | None:
    """What the system judged when the request was made (None for a request without one)."""
    try:
        return rules.Judgement.from_json(request.judgement) if request.judgement else None
    except (KeyError, TypeError, ValueError):
        log.warning("premium request %s: unreadable stored judgement", request.id)
        return None


def decide(session: Session, request: PremiumRequest, staff_person: Person, approved: bool,
           reason: str | None, now: datetime) -> PremiumRequest:
    """Apply a member of staff's decision (the caller tells the person).

    Approving an application grants premium, approving a renewal renews it: every rule but
    the activities (which staff may confirm themselves, R4) is judged again and may refuse
    (PremiumRefused). Declining a renewal reverts to basic. Nobody decides their own
    request (OwnRequest).
    """
    if request.status != PremiumRequestStatus.PENDING:
        raise AlreadyDecided(request.id)
    if staff.role_at(session, staff_person, request.entity.code) is None:
        raise PermissionError("staff act only for their own entity")
    if staff_person.id == request.person_id:
        raise OwnRequest(request.id)
    person, registration = request.person, request.registration
    lock_person(session, person)
    if registration.status != RegistrationStatus.ACTIVE:
        request.status = PremiumRequestStatus.WITHDRAWN
        request.decided_at = now
        return request
    if approved and request.purpose == PremiumRequestPurpose.APPLICATION:
        if registration.kind != RegistrationKind.PREMIUM:
            grant(session, person, request.entity, now, waive=rules.WAIVABLE)
    elif approved:
        judgement = judge_request(session, request, now)
        unmet = rules.unwaivable(judgement.unmet)
        if unmet:  # R5 and R7 hold at a renewal too; staff may only confirm activities (R4)
            raise PremiumRefused(judgement, unmet)
        renew(session, registration, now)
    elif request.purpose == PremiumRequestPurpose.RENEWAL \
            and registration.kind == RegistrationKind.PREMIUM:
        revert_to_basic(session, registration, now, reason="renewal_declined")
    request.status = PremiumRequestStatus.APPROVED if approved else PremiumRequestStatus.DECLINED
    request.decided_at = now
    request.decided_by_person_id = staff_person.id
    request.reason = reason[:500] if reason else None
    session.flush()
    return request
