"""The premium judgement for a whole page of registrations in ONE query.

Each row carries every figure the renewal decision needs (R1, R4, R5, R7, R9): R4's designated
check-ins counted in SQL over the 12 months before the registration's own expiry (what the
judgement at expiry sees), the entity's requirement and renewal mode, the identity and
guardian consent, whether it is the home municipality, the R7 count. The decision itself is a
few comparisons in Python (bot.domain.validity.renewal_unmet), so judging a million
registrations is one pass over plain rows in flat memory.

Page bounds are array parameters (`= ANY(:ids)`) on PostgreSQL: one bind whatever the page
size, one cached plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Integer, and_, any_, bindparam, exists, false, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import FunctionElement

from bot.activities import JST
from bot.db import UTCDateTime
from bot.domain import premium as rules
from bot.domain import validity
from bot.domain.checkin import Progress
from bot.identity.records import ADULT_AGE
from bot.models import (
    Activity,
    ActivitySession,
    ActivityStatus,
    CheckIn,
    Entity,
    EntityKind,
    GuardianConsent,
    IdentityVerification,
    Person,
    Registration,
    RegistrationKind,
    RegistrationStatus,
)


@dataclass(frozen=True, slots=True)
class Judged:
    """One due premium registration with what its renewal is decided on (one result row)."""
    registration_id: int
    person_id: int
    entity_id: int
    premium_until: datetime
    renewal_mode: str
    facts: validity.RenewalFacts

    @property
    def id(self) -> int:  # the keyset cursor reads plain rows and these alike
        return self.registration_id


# SQL pieces ------------------------------------------------------------------------------------

class year_before(FunctionElement):
    """SQL for bot.domain.checkin.twelve_months_before: the same UTC moment a year earlier,
    29 February → 28 February (PostgreSQL's interval arithmetic does exactly that)."""
    type = UTCDateTime()
    inherit_cache = True


@compiles(year_before, "postgresql")
def _year_before_pg(element, compiler, **kw):
    moment = compiler.process(element.clauses, **kw)
    return f"((({moment}) AT TIME ZONE 'UTC') - interval '1 year') AT TIME ZONE 'UTC'"


@compiles(year_before, "sqlite")
def _year_before_sqlite(element, compiler, **kw):
    # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff' text: change the year, keep the rest.
    m = compiler.process(element.clauses, **kw)
    year = f"printf('%04d', CAST(substr({m}, 1, 4) AS INTEGER) - 1)"
    return (f"(CASE WHEN substr({m}, 6, 5) = '02-29' THEN {year} || '-02-28' || substr({m}, 11)"
            f" ELSE {year} || substr({m}, 5) END)")


def one_of(session: Session, column, ids: Iterable[int]):
    """`column = ANY(:ids)`, one array parameter, on PostgreSQL; `IN (…)` on SQLite."""
    ids = list(ids)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, ids, type_=ARRAY(Integer), unique=True))
    return column.in_(ids)


def adult_born_by(today: date) -> date:
    """The latest birth date of someone 18 or older on `today` (bot.identity.records.is_minor:
    born later means a minor; born on 29 February, one turns a year older on 1 March)."""
    try:
        return today.replace(year=today.year - ADULT_AGE)
    except ValueError:
        return today.replace(year=today.year - ADULT_AGE, day=28)


def _done(page):
    """R4: designated, not cancelled check-ins at the row's entity in the 12 months before its
    expiry — bounded to the row (the (person, checked_in_at) index), never the whole table."""
    return (select(func.count(CheckIn.id))
            .join(ActivitySession, CheckIn.session_id == ActivitySession.id)
            .join(Activity, ActivitySession.activity_id == Activity.id)
            .where(CheckIn.person_id == page.c.person_id,
                   CheckIn.checked_in_at >= year_before(page.c.premium_until),
                   CheckIn.checked_in_at <= page.c.premium_until,
                   Activity.entity_id == page.c.entity_id,
                   Activity.designated.is_(True), Activity.status != ActivityStatus.CANCELLED)
            .scalar_subquery())


def _counted(page):
    """R7's count of the person (bot.domain.premium.counted): premium municipalities, plus
    premium prefectures in which they hold no premium municipality."""
    held, place = aliased(Registration), aliased(Entity)
    town, town_place = aliased(Registration), aliased(Entity)
    premium = (RegistrationKind.PREMIUM, RegistrationStatus.ACTIVE)
    return (select(func.count(held.id)).join(place, held.entity_id == place.id)
            .where(held.person_id == page.c.person_id, held.kind == premium[0],
                   held.status == premium[1],
                   (place.kind != EntityKind.PREFECTURE) | ~exists().where(
                       town.person_id == page.c.person_id, town.kind == premium[0],
                       town.status == premium[1], town.entity_id == town_place.id,
                       town_place.kind != EntityKind.PREFECTURE,
                       town_place.prefecture_code == place.code))
            .scalar_subquery())


def judged_query(page, now: datetime):
    """Everything the decision needs, one row per row of `page` (a subquery with
    id, person_id, entity_id, premium_until), in the page's order."""
    return (
        select(page.c.id, page.c.person_id, page.c.entity_id, page.c.premium_until,
               Entity.renewal_mode, Entity.required_activities, Entity.participating,
               and_(Entity.kind != EntityKind.PREFECTURE,
                    func.coalesce(Person.residence_entity_id == page.c.entity_id, false())
                    ).label("home"),
               IdentityVerification.id.is_not(None).label("verified"),
               func.coalesce(IdentityVerification.birth_date
                             > literal(adult_born_by(now.astimezone(JST).date())), false()
                             ).label("minor"),
               GuardianConsent.id.is_not(None).label("consented"),
               _done(page).label("done"), _counted(page).label("counted"))
        .select_from(page)
        .join(Entity, Entity.id == page.c.entity_id)
        .join(Person, Person.id == page.c.person_id)
        .outerjoin(IdentityVerification, IdentityVerification.person_id == page.c.person_id)
        .outerjoin(GuardianConsent, GuardianConsent.person_id == page.c.person_id)
        .order_by(page.c.premium_until, page.c.id))


def judge_rows(session: Session, page, now: datetime) -> list[Judged]:
    facts = validity.RenewalFacts  # its fields are the query's columns from the sixth on
    return [Judged(*row[:5], facts(*row[5:])) for row in session.execute(judged_query(page, now))]


# The full judgement, for what people and staff read -----------------------------------------

def judgement_of(session: Session, row: Judged) -> rules.Judgement:
    """`rules.judge` over the row's figures and the person's registrations: the explanation
    (and the record a review keeps) of a decision taken on the row. One item, for the items
    that change; the decision itself never waits for this."""
    from bot import registrations

    entity = session.get(Entity, row.entity_id)
    person = session.get(Person, row.person_id)
    facts = row.facts
    identity = rules.Identity(facts.verified, facts.minor, facts.consented)
    return rules.judge(registrations.target(entity),
                       registrations.held(registrations.active(session, person)),
                       Progress(facts.done, facts.required), identity,
                       entity.code if facts.home else None)


def ids_page(session: Session, ids: Sequence[int]):
    """A page given by registration IDs (re-read under the people's locks)."""
    return (select(Registration.id, Registration.person_id, Registration.entity_id,
                   Registration.premium_until)
            .where(one_of(session, Registration.id, ids)).subquery("page"))
