"""Helper activities and their sessions: creating, listing, closing, their check-in codes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from bot.codes import checkin_codes
from bot.domain.checkin import Code, SessionFacts, rotation_step, window
from bot.store.models import (
    Activity,
    ActivitySession,
    ActivityStatus,
    CheckIn,
    Entity,
    Person,
)


def create(session: Session, entity: Entity, *, title: str, category: str, designated: bool,
           place: str, windows: Sequence[tuple[datetime, datetime]], now: datetime,
           created_by: Person | None = None, rotate_seconds: int | None = None) -> Activity:
    if not windows:
        raise ValueError("an activity needs at least one date")
    for starts_at, ends_at in windows:
        if ends_at <= starts_at:
            raise ValueError("a session must end after it starts")
    activity = Activity(entity_id=entity.id, entity=entity, title=title, category=category,
                        designated=designated, place=place, status=ActivityStatus.OPEN,
                        rotate_seconds=rotate_seconds, created_at=now,
                        created_by_person_id=created_by.id if created_by else None)
    activity.sessions = [ActivitySession(starts_at=s, ends_at=e) for s, e in sorted(windows)]
    session.add(activity)
    session.flush()
    return activity


def of_entity(session: Session, entity: Entity, include_finished: bool = False) -> list[Activity]:
    query = (select(Activity).options(selectinload(Activity.sessions))
             .where(Activity.entity_id == entity.id).order_by(Activity.id.desc()))
    if not include_finished:
        query = query.where(Activity.status == ActivityStatus.OPEN)
    return list(session.scalars(query))


def find(session: Session, entity: Entity, activity_id: int) -> Activity | None:
    """The activity if it belongs to this entity: staff of A never reach B's activities."""
    return session.scalar(select(Activity).options(selectinload(Activity.sessions)).where(
        Activity.id == activity_id, Activity.entity_id == entity.id))


def finish(activity: Activity, status: str) -> None:
    activity.status = status


def facts(activity_session: ActivitySession) -> SessionFacts:
    activity = activity_session.activity
    return SessionFacts(activity_session.id, activity.entity.code, activity_session.starts_at,
                        activity_session.ends_at, activity.status, activity.rotate_seconds)


def token(activity_session: ActivitySession, secret: str, now: datetime | None = None) -> str:
    """The signed check-in code of a session; a rotating one is for the step of `now`."""
    activity = activity_session.activity
    allowed = window(activity_session.starts_at, activity_session.ends_at)
    step = None
    if activity.rotate_seconds:
        if now is None:
            raise ValueError("a rotating code is made for a moment")
        step = rotation_step(now, activity.rotate_seconds)
    return checkin_codes.sign(Code(activity.entity.code, activity_session.id, allowed.opens,
                                   allowed.closes, step), secret)


def participants(session: Session, activity: Activity) -> dict[int, int]:
    """Check-ins per session of an activity."""
    return dict(session.execute(
        select(CheckIn.session_id, func.count())
        .where(CheckIn.session_id.in_([s.id for s in activity.sessions]))
        .group_by(CheckIn.session_id)).all())
