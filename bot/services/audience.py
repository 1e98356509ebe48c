"""Finding an audience's people in the database, a page at a time (keyset pagination)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, exists, func, select
from sqlalchemy.orm import Session, aliased

from bot.domain.audience import Audience
from bot.store.models import Entity, Person, Registration, RegistrationStatus, SurveyAnswer


def _people(entity: Entity, audience: Audience) -> Select:
    """Person IDs and LINE user IDs of the entity's active registrants in the audience.

    Blocked and deleted people are left out: nothing is sent to them (R14).
    """
    query = (select(Person.id, Person.line_user_id)
             .join(Registration, Registration.person_id == Person.id)
             .where(Registration.entity_id == entity.id,
                    Registration.status == RegistrationStatus.ACTIVE,
                    Registration.kind.in_(audience.kinds),
                    Person.following.is_(True), Person.deleted_at.is_(None),
                    Person.line_user_id.is_not(None)))
    if audience.relationships:
        # The ties a person declared when registering at this entity (or, for a prefecture,
        # at any of its municipalities: their survey belongs to that registration).
        answered = aliased(Registration)
        query = query.where(exists(
            select(SurveyAnswer.id)
            .join(answered, answered.id == SurveyAnswer.registration_id)
            .join(Entity, Entity.id == answered.entity_id)
            .where(answered.person_id == Person.id,
                   (answered.entity_id == entity.id)
                   | (Entity.prefecture_code == entity.code),
                   SurveyAnswer.question == "relationship",
                   SurveyAnswer.answer.in_(audience.relationships))))
    if audience.prefectures:
        home = aliased(Entity)
        query = query.join(home, home.id == Person.residence_entity_id).where(
            home.prefecture_code.in_(audience.prefectures))
    # Once per person although joins may repeat them (two active kinds at one entity). GROUP
    # BY the key rather than DISTINCT: PostgreSQL then streams the rows in ID order
    # instead of sorting the whole audience before a page's LIMIT.
    return query.group_by(Person.id)


def page_query(entity: Entity, audience: Audience, after: int, size: int) -> Select:
    """The next `size` people after person ID `after`, in ID order: (ID, LINE user ID)."""
    # The bound on Registration.person_id lets PostgreSQL start the page in the registration
    # index rather than scan from the first registrant (benchmarks/fanout.py).
    return (_people(entity, audience)
            .where(Person.id > after, Registration.person_id > after)
            .order_by(Person.id).limit(size))


def page(session: Session, entity: Entity, audience: Audience, after: int,
         size: int) -> list[tuple[int, str]]:
    return [(row[0], row[1]) for row in session.execute(page_query(entity, audience, after, size))]


def count(session: Session, entity: Entity, audience: Audience) -> int:
    return session.scalar(select(func.count()).select_from(_people(entity, audience).subquery()))


def includes(session: Session, entity: Entity, audience: Audience, person_id: int,
             registered_by: datetime | None = None) -> bool:
    """Whether the person is in the audience now, and (with `registered_by`) had registered at
    the entity by then: who was sent something, as far as the database can still tell."""
    query = _people(entity, audience).where(Person.id == person_id)
    if registered_by is not None:
        query = query.where(Registration.registered_at <= registered_by)
    return session.scalar(select(exists(query))) or False
