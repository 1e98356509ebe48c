"""R4 progress for a whole page of registrations in one query (the jobs' batch form of
`bot.checkins.progress`, which answers for one person)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.checkin import twelve_months_before
from bot.models import Activity, ActivitySession, ActivityStatus, CheckIn


def designated_done(session: Session, pairs: Iterable[tuple[int, int]],
                    now: datetime) -> dict[tuple[int, int], int]:
    """(person ID, entity ID) → designated activities done there in the 12 months before `now`.

    The same conditions as `bot.checkins.designated_check_ins`: designated, not cancelled.
    Pairs without any check-in are missing from the result (0).
    """
    pairs = set(pairs)
    if not pairs:
        return {}
    people = sorted({person for person, _ in pairs})
    entities = sorted({entity for _, entity in pairs})
    rows = session.execute(
        select(CheckIn.person_id, Activity.entity_id, func.count(CheckIn.id))
        .join(ActivitySession, CheckIn.session_id == ActivitySession.id)
        .join(Activity, ActivitySession.activity_id == Activity.id)
        .where(CheckIn.person_id.in_(people),
               Activity.entity_id.in_(entities),
               Activity.designated.is_(True), Activity.status != ActivityStatus.CANCELLED,
               CheckIn.checked_in_at >= twelve_months_before(now), CheckIn.checked_in_at <= now)
        .group_by(CheckIn.person_id, Activity.entity_id))
    return {(person, entity): done for person, entity, done in rows if (person, entity) in pairs}
