"""Support measures in the database (R6): adding, editing, retiring, and who sees which.

Every change passes `bot.domain.support.measure_refusal` first, so neither the chat nor the
CLI can store a return gift. Callers check who may act (the entity's admin, or an operator).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from bot.domain import support as rules
from bot.store.models import Entity, Person, SupportMeasure

#: Fields that can be edited, as the chat and the CLI name them.
FIELDS = ("title", "category", "description", "how_to_use")


class MeasureRefused(Exception):
    def __init__(self, reason: rules.Refusal):
        super().__init__(reason.value)
        self.reason = reason


def _check(title: str, category: str, description: str, how_to_use: str) -> None:
    refused = rules.measure_refusal(title, category, description, how_to_use)
    if refused is not None:
        raise MeasureRefused(refused)


def add(session: Session, entity: Entity, *, title: str, category: str, description: str,
        how_to_use: str, by: Person | None, now: datetime) -> SupportMeasure:
    title, description, how_to_use = title.strip(), description.strip(), how_to_use.strip()
    _check(title, category, description, how_to_use)
    measure = SupportMeasure(entity_id=entity.id, entity=entity, title=title, category=category,
                             description=description, how_to_use=how_to_use,
                             created_by_person_id=by.id if by else None,
                             created_at=now, updated_at=now)
    session.add(measure)
    session.flush()
    return measure


def edit(session: Session, measure: SupportMeasure, now: datetime, **changes: str) -> SupportMeasure:
    """Change some fields; the whole measure is judged again, as it will read afterwards."""
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise ValueError(f"not a field of a support measure: {', '.join(sorted(unknown))}")
    after = {name: getattr(measure, name) for name in FIELDS}
    after.update({name: value if name == "category" else value.strip()
                  for name, value in changes.items()})
    _check(**after)
    for name, value in after.items():
        setattr(measure, name, value)
    measure.updated_at = now
    session.flush()
    return measure


def retire(measure: SupportMeasure, now: datetime) -> None:
    """Retired measures stay for the record but are no longer shown to anyone."""
    if measure.retired_at is None:
        measure.retired_at = now


def of_entity(session: Session, entity: Entity) -> list[SupportMeasure]:
    """The entity's current measures, in the order they were added."""
    return list(session.scalars(
        select(SupportMeasure)
        .where(SupportMeasure.entity_id == entity.id, SupportMeasure.retired_at.is_(None))
        .order_by(SupportMeasure.id)))


def find(session: Session, entity: Entity, measure_id: int) -> SupportMeasure | None:
    """A current measure of this entity: another entity's ID, or a retired one, finds nothing."""
    return session.scalar(select(SupportMeasure).where(
        SupportMeasure.id == measure_id, SupportMeasure.entity_id == entity.id,
        SupportMeasure.retired_at.is_(None)))


def by_id(session: Session, measure_id: int) -> SupportMeasure | None:
    """For operators (the CLI), who act for every entity."""
    return session.scalar(select(SupportMeasure).options(joinedload(SupportMeasure.entity))
                          .where(SupportMeasure.id == measure_id))


def of_entities(session: Session, entity_ids: Iterable[int]) -> dict[int, list[SupportMeasure]]:
    """Current measures by entity ID, for a resident's view of their registrations."""
    ids = list(entity_ids)
    found: dict[int, list[SupportMeasure]] = {entity_id: [] for entity_id in ids}
    if not ids:
        return found
    for measure in session.scalars(
            select(SupportMeasure)
            .where(SupportMeasure.entity_id.in_(ids), SupportMeasure.retired_at.is_(None))
            .order_by(SupportMeasure.id)):
        found[measure.entity_id].append(measure)
    return found
