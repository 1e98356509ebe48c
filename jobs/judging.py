"""The premium judgement for a whole page of registrations in ONE query.

Each row carries every figure the renewal decision needs (R1, R4, R5, R7, R9): R4's designated
check-ins counted in SQL over the 12 months before the registration's own expiry (what the
judgement at expiry sees), the entity's requirement and renewal mode, the identity and
guardian consent, whether it is the home municipality, the R7 count. The decision itself is a
few comparisons in Python (bot.domain.validity.renewal_holds), so judging a million
registrations is one pass over plain rows in flat memory. It is bot.domain.premium.judge's
decision, figure for figure (tests/test_jobs.py proves it): change one, change the other.

A page is a keyset page (`id > :after … LIMIT n`) or, re-read under the people's locks, the
page's IDs as one array parameter (`= ANY(:ids)`, jobs.framework.one_of).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import (
    DateTime,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    select,
    text,
    true,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.expression import FunctionElement

from bot.domain import premium as rules
from bot.domain import validity
from bot.domain.calendar import adult_born_by, today_in_japan
from bot.domain.checkin import Progress
from bot.services import registry
from bot.store.db import UTCDateTime
from bot.store.models import (
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
from jobs.framework import JobRun, lock_people, one_of, pages


class Judged(NamedTuple):
    """One due premium registration with what its renewal is decided on (one result row)."""
    id: int
    person_id: int
    entity_id: int
    premium_until: datetime
    renewal_mode: str
    facts: validity.RenewalFacts

    @property
    def registration_id(self) -> int:
        return self.id


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


def _done(page):
    """R4 per row of the page: designated, not cancelled check-ins at its entity in the 12
    months before its expiry — a join bounded to the page's people (the (person,
    checked_in_at) index), grouped; rows without any are missing (0). The entity is a filter
    of the count, not a join condition, so the planner starts from the check-ins."""
    counts = (Activity.entity_id == page.c.entity_id) & Activity.designated.is_(True) \
        & (Activity.status != ActivityStatus.CANCELLED)
    return (select(page.c.id, func.count().filter(counts).label("done"))
            .join(CheckIn, and_(CheckIn.person_id == page.c.person_id,
                                CheckIn.checked_in_at >= year_before(page.c.premium_until),
                                CheckIn.checked_in_at <= page.c.premium_until))
            .join(ActivitySession, CheckIn.session_id == ActivitySession.id)
            .join(Activity, ActivitySession.activity_id == Activity.id)
            .group_by(page.c.id).subquery("done"))


_PREMIUM = (RegistrationKind.PREMIUM, RegistrationStatus.ACTIVE)


def _held(page):
    """How many premium registrations the person holds: R7's count is at most this, and
    counting it is one probe of an index that has it all (uq_registration_active)."""
    held = aliased(Registration)
    return (select(func.count().label("held"))
            .where(held.person_id == page.c.person_id, held.kind == _PREMIUM[0],
                   held.status == _PREMIUM[1]))


def _counted(page):
    """R7's exact count (bot.domain.premium.counted): the person's premium municipalities,
    plus premium prefectures in which they hold no premium municipality."""
    held, place = aliased(Registration), aliased(Entity)
    town, town_place = aliased(Registration), aliased(Entity)
    return (select(func.count(held.id)).join(place, held.entity_id == place.id)
            .where(held.person_id == page.c.person_id, held.kind == _PREMIUM[0],
                   held.status == _PREMIUM[1],
                   (place.kind != EntityKind.PREFECTURE) | ~exists().where(
                       town.person_id == held.person_id, town.kind == _PREMIUM[0],
                       town.status == _PREMIUM[1], town.entity_id == town_place.id,
                       town_place.kind != EntityKind.PREFECTURE,
                       town_place.prefecture_code == place.code))
            .scalar_subquery())


def judged_query(page_query, now: datetime, postgresql: bool = False):
    """Everything the decision needs, one row per row of `page_query` (a select of
    registrations' id, person_id, entity_id, premium_until), in ID order."""
    page = page_query.cte("page")
    done, until = _done(page), page.c.premium_until
    if postgresql:
        held = _held(page).lateral("held")  # counted once per row
        held_count = held.c.held
        until = type_coerce(until, DateTime(timezone=True))  # psycopg's are aware already
    else:  # SQLite has no LATERAL
        held, held_count = None, _held(page).scalar_subquery()
    query = (
        select(page.c.id, page.c.person_id, page.c.entity_id, until,
               Entity.renewal_mode, Entity.required_activities, Entity.participating,
               # where the person lives: a verified address decides over a declaration (R9)
               registry.at_residence_sql(page.c.entity_id, registry.home_entity_id())
               .label("home"),
               IdentityVerification.id.is_not(None).label("verified"),
               func.coalesce(IdentityVerification.birth_date
                             > literal(adult_born_by(today_in_japan(now))), false()
                             ).label("minor"),
               GuardianConsent.id.is_not(None).label("consented"),
               func.coalesce(done.c.done, 0),
               # the exact count only where it could exceed the cap (rarely, if ever)
               case((held_count > rules.MAX_PREMIUM_PLACES, _counted(page)), else_=held_count))
        .select_from(page)
        .join(Entity, Entity.id == page.c.entity_id)
        .join(Person, Person.id == page.c.person_id)
        .outerjoin(IdentityVerification, IdentityVerification.person_id == page.c.person_id)
        .outerjoin(GuardianConsent, GuardianConsent.person_id == page.c.person_id)
        .outerjoin(done, done.c.id == page.c.id)
        .order_by(page.c.id))
    return query if held is None else query.join(held, true())


def judge_rows(session: Session, page_query, now: datetime) -> list[Judged]:
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        # A page is a few index probes per row, in key order. Left to itself the planner
        # JIT-compiles every page (costing more than running it), pricing random reads as a
        # spinning disk's scans whole tables once per page, and once psycopg has prepared the
        # statement it settles on a generic plan, slower than the one for the page's bounds.
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL random_page_cost = 1.1"))
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    facts = validity.RenewalFacts  # its fields are the query's columns from the sixth on
    return [Judged(*row[:5], facts(*row[5:]))
            for row in session.connection().execute(judged_query(page_query, now, postgresql)).all()]


# Pages of due registrations ---------------------------------------------------------------------

#: Pages in ID order: the rows a page joins (the person, their identity, their check-ins) lie
#: close together, so a page is read in key order instead of at random; with few due rows the
#: planner takes them from the premium_until index and sorts them.
ORDER = (Registration.id,)


def page(where, after, limit: int):
    """Up to `limit` registrations matching `where` after the ID `after` (None: the first)."""
    query = (select(Registration.id, Registration.person_id, Registration.entity_id,
                    Registration.premium_until).where(*where).order_by(*ORDER).limit(limit))
    return query if after is None else query.where(Registration.id > after)


def judged_pages(job: JobRun, where, act: Callable[[Session, Judged], None]) -> None:
    """Every registration matching `where`, judged a page at a time under the people's row
    locks; `act(session, row)` for each, in the page's transaction."""
    def fetch(session: Session, after, limit: int) -> list:
        return session.execute(page(where, after, limit)).all()

    def handle(session: Session, rows) -> None:
        lock_people(session, [row.person_id for row in rows])
        locked = (page(where, None, len(rows))  # again, under the locks
                  .where(one_of(session, Registration.id, [row.id for row in rows])))
        for row in judge_rows(session, locked, job.now):
            act(session, row)

    pages(job, fetch, handle, cursor=lambda row: row.id, start=None)


# The full judgement, for what people and staff read -----------------------------------------

def judgement_of(session: Session, row: Judged) -> rules.Judgement:
    """`rules.judge` over the row's figures and the person's registrations: the explanation
    (and the record a review keeps) of a decision taken on the row. One item, for the items
    that change; the decision itself never waits for this."""
    entity = session.get(Entity, row.entity_id)
    person = session.get(Person, row.person_id)
    facts = row.facts
    identity = rules.Identity(facts.verified, facts.minor, facts.consented)
    return rules.judge(registry.target(entity),
                       registry.held(registry.active(session, person)),
                       Progress(facts.done, facts.required), identity,
                       entity.code if facts.home else None)
