"""People who follow the account: finding them under a row lock, their language."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.i18n import SOURCE_LOCALE, locale_from_language_tag
from bot.line import Profile
from bot.services import event_log
from bot.store.db import persistent
from bot.store.models import Person


def lock(session: Session, line_user_id: str, now: datetime, *, access: bool = False,
         profile: Profile | None = None) -> Person:
    """The person with this LINE user ID, created if new, locked until the transaction ends.

    Two events of one person are then handled one after the other, so conversation state
    read here is still true when it is written back: state is read and written under the row lock.
    One statement: the upsert's update locks the row (waiting for a concurrent first insert
    to commit) and returns it. `access` also records `now` as the last access (R8).
    `profile` (LINE's, on follow) gives a new person their name and language in the insert,
    so that `on_follow` setting them again changes nothing and costs no UPDATE; a known
    person's row is left as it is.
    """
    return session.scalars(_upsert(session.get_bind().dialect.name, access),
                           {"line_user_id": line_user_id, "now": now,
                            "last_access_at": now if access else None, **named(profile)},
                           execution_options={"populate_existing": True}).one()


def named(profile: Profile | None) -> dict[str, str | None]:
    """The person's name and language from a LINE profile, as they can be stored: the name
    without NUL and cut to its column (LINE's own limit is 20 characters), the language only
    if it is a language tag."""
    if profile is None:
        return {"display_name": None, "profile_language": None}
    name = (profile.display_name or "").replace("\x00", "")[:_NAME_LENGTH]
    language = profile.language if _LANGUAGE_TAG.fullmatch(profile.language or "") else None
    return {"display_name": name or None, "profile_language": language}


_NAME_LENGTH = Person.display_name.type.length
_LANGUAGE_TAG = re.compile(rf"[A-Za-z0-9-]{{1,{Person.profile_language.type.length}}}")


@cache
def _upsert(dialect: str, access: bool):
    """Built once per database kind: building a statement costs more CPU than running it."""
    table = Person.__table__
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(table).values(
        line_user_id=bindparam("line_user_id"), created_at=bindparam("now"), following=True,
        last_access_at=bindparam("last_access_at"), display_name=bindparam("display_name"),
        profile_language=bindparam("profile_language"))
    touched = ({"last_access_at": insert.excluded.last_access_at} if access
               else {"line_user_id": insert.excluded.line_user_id})  # locks, changes nothing
    upsert = insert.on_conflict_do_update(index_elements=[table.c.line_user_id], set_=touched)
    return select(Person).from_statement(upsert.returning(*table.c))


def arrive(session: Session, webhook_event_id: str, line_user_id: str, now: datetime,
           profile: Profile | None = None) -> Person | None:
    """Claim a webhook event (`event_log.claim`) and lock its person as
    `lock(access=True, profile=profile)` does; None if the event was already claimed, and
    then nothing is changed.

    On PostgreSQL both are one statement, the claim a CTE the upsert selects from: one
    round trip to the database fewer on every event.
    """
    dialect = session.get_bind().dialect.name
    if dialect != "postgresql":
        if not event_log.claim(session, webhook_event_id, now):
            return None
        return lock(session, line_user_id, now, access=True, profile=profile)
    row = session.execute(_claim_and_upsert(), {
        "webhook_event_id": webhook_event_id, "processed_at": now,
        "line_user_id": line_user_id, "now": now, "last_access_at": now,
        **named(profile)}).first()
    return persistent(session, Person, row) if row else None


@cache
def _claim_and_upsert():
    table = Person.__table__
    claimed = event_log.claiming("postgresql").cte("claimed")
    insert = postgresql.insert(table).from_select(
        ["line_user_id", "created_at", "following", "last_access_at", "display_name",
         "profile_language"],
        select(bindparam("line_user_id", type_=table.c.line_user_id.type),
               bindparam("now", type_=table.c.created_at.type), true(),
               bindparam("last_access_at", type_=table.c.last_access_at.type),
               bindparam("display_name", type_=table.c.display_name.type),
               bindparam("profile_language", type_=table.c.profile_language.type))
        .select_from(claimed))
    upsert = insert.on_conflict_do_update(
        index_elements=[table.c.line_user_id],
        set_={"last_access_at": insert.excluded.last_access_at})
    # Core rows: `persistent` makes the person of one.
    return upsert.returning(*table.c)


def find(session: Session, line_user_id: str) -> Person | None:
    return session.scalar(select(Person).where(Person.line_user_id == line_user_id))


def locale_of(person: Person) -> str:
    """The person's choice, else their LINE profile's language, else Japanese."""
    return person.locale or locale_from_language_tag(person.profile_language) or SOURCE_LOCALE
