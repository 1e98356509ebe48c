"""Statistics per entity (R15), own residents excluded (R9): the figures, their rows and CSV.

Every figure is an aggregate query (GROUP BY in the database) over the entity's own rows,
reached through indexes: memory stays flat and the cost follows the entity's size, not the
table's (on PostgreSQL here, about 2–3 s for an entity with a million registrations).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, distinct, exists, func, select
from sqlalchemy.orm import Session, aliased

from bot.domain import checkin as checkin_rules
from bot.domain.calendar import JST
from bot.domain.relationship_survey import RELATIONSHIP
from bot.domain.statistics import last_months, standing
from bot.i18n import SOURCE_LOCALE, _, _l, current_locale, use_locale
from bot.i18n.survey import RELATIONSHIP_LABELS
from bot.services import attendance
from bot.services.entities import prefecture_row
from bot.services.registry import at_residence_sql
from bot.store.models import (
    Activity,
    ActivitySession,
    ActivityStatus,
    CheckIn,
    Entity,
    Origin,
    Person,
    Registration,
    RegistrationKind,
    RegistrationStatus,
    SurveyAnswer,
)

KIND_LABELS = {RegistrationKind.BASIC: _l("ベーシック"), RegistrationKind.PREMIUM: _l("プレミアム")}
ORIGIN_LABELS = {Origin.DIRECT: _l("直接の登録"), Origin.CO_REGISTRATION: _l("市区町村からの同時登録")}
STANDING_LABELS = {"1": _l("1回"), "2": _l("2回"), "3+": _l("3回以上")}
NOT_DECLARED = "not_declared"


@dataclass(frozen=True)
class ActivityFigures:
    """One activity's sessions and check-ins in the period (own residents' check-ins left out)."""
    id: int
    title: str
    designated: bool
    sessions: int
    check_ins: int
    people: int


@dataclass(frozen=True)
class EntityStatistics:
    entity_code: str
    entity_name: str
    now: datetime
    by_kind: dict[str, int]               # active registrations: basic, premium
    by_origin: dict[str, int]             # direct, co_registration
    by_relationship: dict[str, int]       # people per survey answer, in the survey's order
    by_prefecture: dict[str | None, int]  # people per prefecture code, most first; None: not declared
    new_by_month: dict[str, int]          # "2026-11" → registrations made, oldest month first
    premium_candidates: int
    activities: list[ActivityFigures]     # sessions of the last 12 months, newest first
    standing: dict[str, int]              # people at 1, 2, 3+ designated activities

    @property
    def this_month(self) -> int:
        return list(self.new_by_month.values())[-1]

    @property
    def last_month(self) -> int:
        return list(self.new_by_month.values())[-2]


def entity_statistics(session: Session, entity: Entity, now: datetime) -> EntityStatistics:
    kinds, origins = _by_kind_and_origin(session, entity)
    since = checkin_rules.twelve_months_before(now)
    done = _designated_done(entity, since, now)
    return EntityStatistics(
        entity_code=entity.code, entity_name=entity.name, now=now,
        by_kind=kinds, by_origin=origins,
        by_relationship=_by_relationship(session, entity),
        by_prefecture=_by_prefecture(session, entity),
        new_by_month=_new_by_month(session, entity, now),
        premium_candidates=_premium_candidates(session, entity, done),
        activities=_activities(session, entity, since, now),
        standing=standing(dict(session.execute(
            select(done.c.done, func.count()).group_by(done.c.done)).all())))


def _counted(entity: Entity) -> tuple:
    """Active registrations at the entity that are related population (R9: not own residents)."""
    return (Registration.entity_id == entity.id, Registration.status == RegistrationStatus.ACTIVE,
            Registration.counted_in_statistics.is_(True))


def _by_kind_and_origin(session: Session, entity: Entity) -> tuple[dict[str, int], dict[str, int]]:
    kinds = {kind.value: 0 for kind in RegistrationKind}
    origins = {origin.value: 0 for origin in Origin}
    for kind, origin, count in session.execute(
            select(Registration.kind, Registration.origin, func.count())
            .where(*_counted(entity)).group_by(Registration.kind, Registration.origin)):
        kinds[kind] += count
        origins[origin] += count
    return kinds, origins


def _by_relationship(session: Session, entity: Entity) -> dict[str, int]:
    counts = dict(session.execute(
        select(SurveyAnswer.answer, func.count(distinct(Registration.person_id)))
        .join(Registration, SurveyAnswer.registration_id == Registration.id)
        .where(*_counted(entity), SurveyAnswer.question == RELATIONSHIP.code)
        .group_by(SurveyAnswer.answer)).all())
    return {choice: counts.get(choice, 0) for choice in RELATIONSHIP.choices}


def _by_prefecture(session: Session, entity: Entity) -> dict[str | None, int]:
    residence = aliased(Entity)
    rows = session.execute(
        select(residence.prefecture_code, func.count(distinct(Registration.person_id)))
        .select_from(Registration)
        .join(Person, Person.id == Registration.person_id)
        .outerjoin(residence, residence.id == Person.residence_entity_id)
        .where(*_counted(entity))
        .group_by(residence.prefecture_code)).all()
    # Most people first; "not declared" (None) after every prefecture.
    return dict(sorted(rows, key=lambda row: (row[0] is None, -row[1], row[0] or "")))


def _new_by_month(session: Session, entity: Entity, now: datetime) -> dict[str, int]:
    """Registrations made here per Japan-time month, ended ones too: a flow, not a stock."""
    months = last_months(now)
    month = case(*[(Registration.registered_at >= m.starts_at, m.key) for m in reversed(months)])
    made = (select(month.label("month"))
            .where(Registration.entity_id == entity.id,
                   Registration.counted_in_statistics.is_(True),
                   Registration.registered_at >= months[0].starts_at,
                   Registration.registered_at <= now)
            .subquery())
    counts = dict(session.execute(select(made.c.month, func.count()).group_by(made.c.month)).all())
    return {m.key: counts.get(m.key, 0) for m in months}


def _not_resident(entity: Entity):
    """The check-in's person does not live in the entity (R9), as the registrations' own
    `counted_in_statistics` says: where the person lives, as recorded on the person."""
    return ~exists().where(Person.id == CheckIn.person_id,
                           at_residence_sql(entity.id, Person.residence_entity_id))


def _designated_done(entity: Entity, since: datetime, now: datetime):
    """Per person: designated activities done here in the period, as R4 counts them."""
    return (attendance.designated_check_ins(entity, since)
            .where(CheckIn.checked_in_at <= now, _not_resident(entity))
            .group_by(CheckIn.person_id)
            .subquery())


def _premium_candidates(session: Session, entity: Entity, done) -> int:
    """Active basic registrants with a designated check-in here, not yet premium here."""
    premium = aliased(Registration)
    return session.scalar(
        select(func.count())
        .select_from(Registration)
        .join(done, done.c.person_id == Registration.person_id)
        .where(*_counted(entity), Registration.kind == RegistrationKind.BASIC,
               ~exists().where(premium.person_id == Registration.person_id,
                               premium.entity_id == entity.id,
                               premium.kind == RegistrationKind.PREMIUM,
                               premium.status == RegistrationStatus.ACTIVE)))


def _activities(session: Session, entity: Entity, since: datetime,
                now: datetime) -> list[ActivityFigures]:
    """Activities with sessions that opened for check-in in the period; cancelled ones did not happen."""
    rows = session.execute(
        select(Activity.id, Activity.title, Activity.designated,
               func.count(distinct(ActivitySession.id)), func.count(CheckIn.id),
               func.count(distinct(CheckIn.person_id)))
        .join(ActivitySession, ActivitySession.activity_id == Activity.id)
        .outerjoin(CheckIn, and_(CheckIn.session_id == ActivitySession.id,
                                 CheckIn.checked_in_at <= now, _not_resident(entity)))
        .where(Activity.entity_id == entity.id, Activity.status != ActivityStatus.CANCELLED,
               ActivitySession.starts_at >= since,
               ActivitySession.starts_at <= now + checkin_rules.MARGIN)
        .group_by(Activity.id, Activity.title, Activity.designated)
        .order_by(func.max(ActivitySession.starts_at).desc(), Activity.id.desc())).all()
    return [ActivityFigures(*row) for row in rows]


# Rows, CSV -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    section: str
    key: str
    label: str
    value: int | str


def prefecture_name(code: str | None) -> str:
    if code is None:
        return _("未回答")
    row = prefecture_row(code)
    return row.name_en if current_locale() == "en" and row.name_en else row.name


def month_label(key: str) -> str:
    year, month = key.split("-")
    return _("{year}年{month}月").format(year=year, month=int(month))


def rows(stats: EntityStatistics) -> list[Row]:
    """Every figure as (section, key, label, value) in the current locale: long format."""
    def section(title: str, items) -> list[Row]:
        return [Row(title, str(key), str(label), value) for key, label, value in items]

    return [
        *section(_("集計の対象"), [
            ("entity_code", _("団体コード"), stats.entity_code),
            ("entity_name", _("団体名"), stats.entity_name),
            ("as_of", _("集計日時（日本時間）"), f"{stats.now.astimezone(JST):%Y-%m-%d %H:%M}")]),
        *section(_("登録者の種類"), [(k, KIND_LABELS[k], n) for k, n in stats.by_kind.items()]),
        *section(_("登録の経路"), [(k, ORIGIN_LABELS[k], n) for k, n in stats.by_origin.items()]),
        *section(_("関係性"), [(k, RELATIONSHIP_LABELS[k], n)
                             for k, n in stats.by_relationship.items()]),
        *section(_("お住まいの都道府県"), [(code or NOT_DECLARED, prefecture_name(code), n)
                                    for code, n in stats.by_prefecture.items()]),
        *section(_("新規登録（月別）"), [(key, month_label(key), n)
                                   for key, n in stats.new_by_month.items()]),
        *section(_("プレミアム候補"), [
            ("premium_candidates", _("過去12か月に指定活動に参加したベーシック登録者"),
             stats.premium_candidates)]),
        *section(_("指定活動への参加回数（過去12か月）"),
                 [(k, STANDING_LABELS[k], n) for k, n in stats.standing.items()]),
        *section(_("活動ごとの日程数（過去12か月）"),
                 [(a.id, a.title, a.sessions) for a in stats.activities]),
        *section(_("活動ごとの参加受付数（過去12か月）"),
                 [(a.id, a.title, a.check_ins) for a in stats.activities]),
        *section(_("活動ごとの参加人数（過去12か月）"),
                 [(a.id, a.title, a.people) for a in stats.activities]),
    ]


def statistics_csv(stats: EntityStatistics, locale: str = SOURCE_LOCALE) -> bytes:
    """UTF-8 with a BOM and CRLF line ends, which Excel opens as it is; Japanese labels by default."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["section", "key", "label", "value"])
    with use_locale(locale):
        for row in rows(stats):
            writer.writerow([row.section, row.key, _inert(row.label), _inert(str(row.value))])
    return buffer.getvalue().encode("utf-8-sig")


def _inert(cell: str) -> str:
    """Text typed by people (activity titles) never runs as a spreadsheet formula."""
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell


def csv_download(session: Session, entity: Entity, object_id: int | None,
                 now: datetime) -> tuple[str, bytes]:
    """The producer of the "statistics" download (bot.services.downloads)."""
    filename = f"furusato-statistics-{entity.code}-{now.astimezone(JST):%Y-%m-%d}.csv"
    return filename, statistics_csv(entity_statistics(session, entity, now))
