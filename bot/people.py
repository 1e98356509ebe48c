"""People who follow the account: finding them under a row lock, their language."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.i18n import SOURCE_LOCALE, locale_from_language_tag
from bot.models import Person


def lock(session: Session, line_user_id: str, now: datetime) -> Person:
    """The person with this LINE user ID, created if new, locked until the transaction ends.

    Two events of one person are then handled one after the other, so conversation state
    read here is still true when it is written back (STYLE: state under the row lock).
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(
        dialect.insert(Person)
        .values(line_user_id=line_user_id, created_at=now, following=True)
        .on_conflict_do_nothing(index_elements=[Person.line_user_id]))
    return session.scalars(
        select(Person).where(Person.line_user_id == line_user_id)
        .with_for_update().execution_options(populate_existing=True)).one()


def find(session: Session, line_user_id: str) -> Person | None:
    return session.scalar(select(Person).where(Person.line_user_id == line_user_id))


def locale_of(person: Person) -> str:
    """The person's choice, else their LINE profile's language, else Japanese."""
    return person.locale or locale_from_language_tag(person.profile_language) or SOURCE_LOCALE
