"""bot/store/driver_sql.py: a statement run on the driver gives what SQLAlchemy gives, in the session's
transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError, StatementError

from bot.store.db import Database
from bot.store.driver_sql import DriverStatement
from bot.store.models import Entity, Person, Registration, RegistrationKind, RegistrationStatus

_PERSON = Person.__table__
_R, _E = Registration.__table__, Entity.__table__
_JST = timezone(timedelta(hours=9))

_NEW_PERSON = DriverStatement(
    insert(_PERSON).values(line_user_id=bindparam("line_user_id"), created_at=bindparam("at"),
                           following=True, conversation="registration.where",
                           conversation_data=bindparam("data"))
    .returning(*_PERSON.c))
_RENAME = DriverStatement(update(_PERSON).where(_PERSON.c.line_user_id == bindparam("user"))
                          .values(display_name=bindparam("name")))
_ACTIVE_AT = DriverStatement(
    select(_R, _E).join(_E, _R.c.entity_id == _E.c.id)
    .where(_R.c.person_id == bindparam("person_id"), _R.c.status == RegistrationStatus.ACTIVE))


@pytest.fixture
def database(database_url):
    db = Database(database_url)
    yield db
    db.dispose()


def _row(session, table, where):
    return tuple(session.execute(select(table).where(where)).one())


def test_the_rows_are_those_sqlalchemy_reads(database):
    """Aware datetimes in UTC, JSON as Python values, booleans, and the literal values of the
    statement (`conversation`, `status`) bound as SQLAlchemy binds them."""
    at = datetime(2026, 12, 7, 15, 30, tzinfo=_JST)
    with database.transaction() as session:
        [person] = _NEW_PERSON.run(session, {"line_user_id": "U" + "d" * 32, "at": at,
                                             "data": {"query": "神山", "page": 2}})
        assert person == _row(session, _PERSON, _PERSON.c.id == person[0])
        assert person[_PERSON.c.keys().index("created_at")] == at
        assert person[_PERSON.c.keys().index("created_at")].tzinfo is UTC
        assert person[_PERSON.c.keys().index("conversation_data")] == {"query": "神山", "page": 2}
        assert person[_PERSON.c.keys().index("conversation")] == "registration.where"

        entity_id = session.scalar(select(_E.c.id).where(_E.c.code == "363421"))
        session.execute(insert(_R).values(
            person_id=person[0], entity_id=entity_id, kind=RegistrationKind.BASIC,
            status=RegistrationStatus.ACTIVE, origin="direct", registered_at=at,
            counted_in_statistics=True))
        [registration] = _ACTIVE_AT.run(session, {"person_id": person[0]})
        assert registration == tuple(session.execute(_ACTIVE_AT.statement,
                                                     {"person_id": person[0]}).one())
        assert registration[_R.c.keys().index("status")] == RegistrationStatus.ACTIVE


def test_none_goes_in_as_null(database):
    with database.transaction() as session:
        [person] = _NEW_PERSON.run(session, {"line_user_id": "U" + "e" * 32,
                                             "at": datetime.now(UTC), "data": None})
        data = _PERSON.c.conversation_data
        assert session.scalar(select(data.is_(None)).where(_PERSON.c.id == person[0])) is True


def test_it_commits_and_rolls_back_with_the_session(database):
    with database.transaction() as session:
        _NEW_PERSON.run(session, {"line_user_id": "U" + "f" * 32, "at": datetime.now(UTC),
                                  "data": None})
        assert _RENAME.run(session, {"user": "U" + "f" * 32, "name": "ふるさと"}) == []
    with pytest.raises(IntegrityError), database.transaction() as session:
        _RENAME.run(session, {"user": "U" + "f" * 32, "name": "消える名前"})
        session.add(Person(line_user_id="U" + "f" * 32, created_at=datetime.now(UTC)))
        session.flush()  # the same LINE user ID again: the whole transaction is rolled back
    with database.transaction() as session:
        names = session.scalars(select(Person.display_name)
                                .where(Person.line_user_id == "U" + "f" * 32)).all()
        assert names == ["ふるさと"]


def test_errors_are_sqlalchemys_and_the_next_transaction_works(database):
    user = "U" + "a" * 32
    with database.transaction() as session:
        _NEW_PERSON.run(session, {"line_user_id": user, "at": datetime.now(UTC), "data": None})
    with pytest.raises(IntegrityError), database.transaction() as session:
        _NEW_PERSON.run(session, {"line_user_id": user, "at": datetime.now(UTC), "data": None})
    with pytest.raises(StatementError, match="naive datetime"), database.transaction() as session:
        _NEW_PERSON.run(session, {"line_user_id": "U" + "b" * 32, "at": datetime.now(),
                                  "data": None})
    # A value left out is refused, as SQLAlchemy refuses it, not sent as NULL.
    with (pytest.raises(SQLAlchemyError, match="A value is required for bind parameter 'name'"),
          database.transaction() as session):
        _RENAME.run(session, {"user": user})
    with database.transaction() as session:
        assert _RENAME.run(session, {"user": user, "name": "つぎ"}) == []
        assert session.scalars(select(Person.line_user_id)).all() == [user]


@pytest.mark.parametrize(("statement", "refusal"), [
    (select(_E.c.code).where(_E.c.id.in_(bindparam("ids", expanding=True))), "plain named"),
    (select(_E.c.code).where(_E.c.id == bindparam("id", literal_execute=True)), "plain named"),
    (select(_E.c.code).where(_E.c.id == bindparam("entity.id")), "plain named"),  # escaped
    (select(_E.c.code).where(_E.c.id == bindparam("id", callable_=lambda: 1)), "plain named"),
    # `following` has a default SQLAlchemy computes as it executes, which the driver would not.
    (insert(_PERSON).values(line_user_id="U" + "0" * 32, created_at=datetime.now(UTC)),
     "must be given values: following"),
])
def test_a_statement_the_driver_cannot_take_is_refused(database, statement, refusal):
    if database.engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL's statements run on the driver")
    with pytest.raises(TypeError, match=refusal), database.transaction() as session:
        DriverStatement(statement).run(session, {"ids": [1, 2], "id": 1, "entity.id": 1})
