"""people.arrive and registry.active: the webhook's per-event reads, made session objects
from Core rows (`db.persistent`), hold what the ORM would have loaded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.domain.calendar import JST
from bot.line import Profile
from bot.services import entities, people, registry
from bot.store.db import Database
from bot.store.models import Person, ProcessedEvent, Registration
from tests.factories import KAMIYAMA, TOKUSHIMA, user_id

_AT = datetime(2026, 12, 7, 15, 30, tzinfo=JST)


@pytest.fixture
def database(database_url):
    db = Database(database_url)
    yield db
    db.dispose()


def _loaded(database, model, where) -> dict:
    """The row as the ORM loads it in a transaction of its own."""
    with database.transaction() as session:
        found = session.scalars(select(model).where(where)).one()
        return {column.key: getattr(found, column.key) for column in model.__mapper__.column_attrs}


def _values(instance) -> dict:
    return {column.key: getattr(instance, column.key)
            for column in type(instance).__mapper__.column_attrs}


def test_arrive_gives_the_person_as_the_orm_loads_them(database):
    with database.transaction() as session:
        person = people.arrive(session, "01EVENT", user_id("a"), _AT,
                               Profile(user_id("a"), "ふるさと", "en"))
        assert person in session and person.id is not None
        arrived = _values(person)
    assert arrived == _loaded(database, Person, Person.line_user_id == user_id("a"))
    assert arrived["created_at"] == _AT and arrived["created_at"].tzinfo is UTC
    assert (arrived["display_name"], arrived["profile_language"]) == ("ふるさと", "en")
    assert arrived["following"] is True and arrived["last_access_at"] == _AT


def test_arrive_of_a_known_person_reads_their_state_and_records_the_access(database):
    with database.transaction() as session:
        person = people.arrive(session, "01FIRST", user_id("b"), _AT)
        session.execute(update(Person).where(Person.id == person.id).values(
            conversation="registration.where", conversation_data={"query": "神山", "page": 2}))
    later = _AT + timedelta(minutes=5)
    with database.transaction() as session:
        person = people.arrive(session, "01SECOND", user_id("b"), later,
                               Profile(user_id("b"), "別の名前", "ja"))
        assert person.conversation == "registration.where"
        assert person.conversation_data == {"query": "神山", "page": 2}
        assert person.created_at == _AT and person.last_access_at == later
        assert person.display_name is None  # a known person's row keeps what it had


def test_an_event_arrives_once_and_a_second_delivery_changes_nothing(database):
    with database.transaction() as session:
        assert people.arrive(session, "01ONCE", user_id("c"), _AT) is not None
    with database.transaction() as session:
        assert people.arrive(session, "01ONCE", user_id("c"), _AT + timedelta(hours=1)) is None
    assert _loaded(database, Person, Person.line_user_id == user_id("c"))["last_access_at"] == _AT
    with database.transaction() as session:
        assert session.scalars(select(ProcessedEvent.webhook_event_id)).all() == ["01ONCE"]


def test_arrive_rolls_back_with_the_event(database):
    with pytest.raises(IntegrityError), database.transaction() as session:
        people.arrive(session, "01LOST", user_id("d"), _AT)
        session.add(Person(line_user_id=user_id("d"), created_at=_AT))
        session.flush()  # the same LINE user ID again: the whole event is rolled back
    with database.transaction() as session:
        assert session.scalar(select(Person).where(Person.line_user_id == user_id("d"))) is None
        assert people.arrive(session, "01LOST", user_id("d"), _AT) is not None  # claimable again


@pytest.mark.parametrize("line_user_id", ["U1\x00", "U" + "0" * 100], ids=["NUL", "too long"])
def test_a_value_postgresql_cannot_store_is_refused_with_sqlalchemys_error(database, line_user_id):
    """The webhook never passes these (it ignores IDs LINE never gives); should one get
    through, the event fails as a whole and the next one works."""
    if database.engine.dialect.name != "postgresql":
        pytest.skip("SQLite stores NUL and any length")
    with pytest.raises(SQLAlchemyError), database.transaction() as session:
        people.arrive(session, "01BAD", line_user_id, _AT)
    with database.transaction() as session:
        assert people.arrive(session, "01BAD", user_id("e"), _AT) is not None


def test_active_gives_the_registrations_and_their_entities_as_the_orm_loads_them(database):
    with database.transaction() as session:
        for code in (KAMIYAMA, TOKUSHIMA):
            entities.by_code(session, code).participating = True
    with database.transaction() as session:
        person = people.lock(session, user_id("f"), _AT)
        registry.register_basic(session, person, entities.by_code(session, KAMIYAMA), _AT)
        person_id = person.id
    with database.transaction() as session:
        person = session.get(Person, person_id)
        found = registry.active(session, person)
        assert [r.entity.code for r in found] == [KAMIYAMA, TOKUSHIMA]  # oldest first
        read = [(_values(r), _values(r.entity)) for r in found]
    with database.transaction() as session:
        loaded = session.scalars(select(Registration).where(Registration.person_id == person_id)
                                 .order_by(Registration.id)).all()
        assert read == [(_values(r), _values(r.entity)) for r in loaded]
