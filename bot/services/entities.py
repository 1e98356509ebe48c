"""The registration targets: loading the shipped list, participation, finding them."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from weakref import WeakKeyDictionary

from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.domain.geo import distance_km
from bot.domain.romaji import mixed_spellings, municipality_name_en
from bot.domain.text import search_key
from bot.store.db import persistent, set_changed
from bot.store.models import Entity, EntityKind

DATA = Path(__file__).parents[1] / "data"
MUNICIPALITIES_CSV = DATA / "localgovjp-utf8.csv"
PREFECTURES_CSV = DATA / "prefjp-utf8.csv"


class UnknownEntity(LookupError):
    def __init__(self, codes: Sequence[str]):
        super().__init__(", ".join(codes))
        self.codes = list(codes)


@dataclass(frozen=True)
class EntityRow:
    code: str
    kind: str
    name: str
    kana: str
    name_en: str | None
    prefecture_code: str
    latitude: float | None
    longitude: float | None
    site_url: str | None

    @property
    def search_text(self) -> str:
        """Name, kana, romaji and the half-and-half spellings, folded:
        神山町|かみやまちょう|kamiyamacho|神山ちょう|かみやま町."""
        romaji = (self.name_en or "").replace("-", "")
        return "|".join(search_key(text) for text in (self.name, self.kana, romaji,
                                                       *mixed_spellings(self.name, self.kana)))


def read_shipped_entities() -> list[EntityRow]:
    """The 47 prefectures and 1,741 municipalities; wards of designated cities are skipped."""
    rows: list[EntityRow] = []
    prefecture_by_number: dict[str, str] = {}
    with PREFECTURES_CSV.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            code = row["lgcode"].zfill(6)
            prefecture_by_number[row["pid"]] = code
            rows.append(EntityRow(code, EntityKind.PREFECTURE, row["pref"],
                                  row["prefkana"].replace(" ", ""), row["pref_en"], code,
                                  _float(row["lat"]), _float(row["lng"]), row["url"] or None))
    with MUNICIPALITIES_CSV.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            if " " in row["city"]:
                continue  # a ward of a designated city: not a registration target
            rows.append(EntityRow(row["lgcode"].zfill(6), EntityKind.MUNICIPALITY, row["city"],
                                  row["citykana"].replace(" ", ""),
                                  municipality_name_en(row["city"], row["citykana"].replace(" ", "")),
                                  prefecture_by_number[row["pid"]],
                                  _float(row["lat"]), _float(row["lng"]), row["url"] or None))
    return rows


def _float(value: str) -> float | None:
    return float(value) if value else None


def load(session: Session) -> tuple[int, int]:
    """Insert new entities and refresh the data of known ones; settings are never touched.

    Returns (inserted, updated). Running it twice changes nothing the second time.
    """
    existing = {entity.code: entity for entity in session.scalars(select(Entity))}
    inserted = updated = 0
    for row in read_shipped_entities():
        entity = existing.get(row.code)
        fields = {name: getattr(row, name) for name in EntityRow.__dataclass_fields__}
        fields["search_text"] = row.search_text
        if entity is None:
            session.add(Entity(**fields))
            inserted += 1
            continue
        updated += set_changed(entity, fields)
    session.flush()
    return inserted, updated


def by_codes(session: Session, codes: Iterable[str]) -> list[Entity]:
    """The entities with these codes, in the order given; unknown codes raise, naming them."""
    codes = [code.strip() for code in codes]
    found = {e.code: e for e in session.scalars(select(Entity).where(Entity.code.in_(codes)))}
    unknown = [code for code in codes if code not in found]
    if unknown:
        raise UnknownEntity(unknown)
    return [found[code] for code in codes]


def by_code(session: Session, code: str) -> Entity | None:
    """The entity with this code; one already loaded in this session costs no query.

    An entity not loaded yet is read with its prefecture in one statement, so that
    `prefecture_of` (R2: confirming and registering need both) costs no query either.
    """
    known = _known(session)
    entity_id = known.ids.get(code)
    if entity_id is None:
        found = session.scalar(_BY_CODE, {"code": code})
        if found is not None:  # loaded after this process read the codes
            known.ids[code] = found.id
        return found
    if session.identity_key(Entity, entity_id) not in session.identity_map:
        _read(session, {entity_id, known.prefecture_ids.get(entity_id, entity_id)})
    return session.get(Entity, entity_id)


_BY_CODE = select(Entity).where(Entity.code == bindparam("code"))
_ENTITY = Entity.__table__
# Core, not ORM, columns throughout, or SQLAlchemy runs the statement through the ORM anyway.
_BY_IDS = select(_ENTITY).where(_ENTITY.c.id.in_(bindparam("ids", expanding=True)))


def _read(session: Session, ids: Iterable[int]) -> dict[int, Entity]:
    """These entities as they are now (settings included), by id.

    The session's identity map holds objects weakly: the rows are kept in `session.info`
    for the session's life, so that `Session.get` finds a prefecture read along the way.
    """
    rows = session.execute(_BY_IDS, {"ids": list(ids)})
    found = {row.id: persistent(session, Entity, row) for row in rows}
    session.info.setdefault("entities", {}).update(found)
    return found


@dataclass
class _Known:
    """What never changes while a process runs, read once: entities are added or updated by
    `load` (at a release, before the web processes start), never deleted; their settings
    (participation…) are not here and are always read from the database."""
    ids: dict[str, int]  # code → id
    prefecture_ids: dict[int, int]  # id → its prefecture's id
    names: list[tuple[str, int]]  # (search_text, id) in code order


#: Each database's `_Known`, so that `by_code` can use the session's identity map
#: (`Session.get`) and `search` can match names without a query per look-up.
_known_by_engine: WeakKeyDictionary[Engine, _Known] = WeakKeyDictionary()


def _known(session: Session) -> _Known:
    engine = session.get_bind().engine
    known = _known_by_engine.get(engine)
    if known is None:
        rows = session.execute(select(Entity.code, Entity.id, Entity.prefecture_code,
                                      Entity.search_text).order_by(Entity.code)).all()
        ids = {row.code: row.id for row in rows}
        known = _Known(ids, {row.id: ids.get(row.prefecture_code, row.id) for row in rows},
                       [(row.search_text, row.id) for row in rows])
        if rows:  # an empty list may be loaded later (`furusato entities load`)
            _known_by_engine[engine] = known
    return known


def set_participation(session: Session, codes: Iterable[str], participating: bool) -> list[Entity]:
    entities = by_codes(session, codes)
    for entity in entities:
        entity.participating = participating
    return entities


def prefecture_of(session: Session, entity: Entity) -> Entity:
    if entity.is_prefecture:
        return entity
    prefecture = by_code(session, entity.prefecture_code)
    if prefecture is None:
        raise UnknownEntity([entity.prefecture_code])
    return prefecture


def search(session: Session, query: str, limit: int = 60) -> list[Entity]:
    """Entities whose name or kana contains the query; exact and prefix matches first.

    Names are matched in memory (`_Known`: a scan of 1,788 names cost the database more than
    the rest of the event); the matches and their prefectures are then read in one
    statement, with their current settings.
    """
    key = search_key(query)
    if not key:
        return []
    known = _known(session)
    matched = [entity_id for text, entity_id in known.names if key in text][:limit * 4]
    if not matched:
        return []
    found = _read(session, {*matched, *(known.prefecture_ids[i] for i in matched)})
    candidates = [found[entity_id] for entity_id in matched]

    def rank(entity: Entity) -> tuple:
        names = entity.search_text.split("|")
        exact = any(name == key for name in names)
        prefix = any(name.startswith(key) for name in names)
        return (not exact, not prefix, not entity.participating, entity.kind == EntityKind.PREFECTURE,
                entity.kana)

    return sorted(candidates, key=rank)[:limit]


def participating_in(session: Session, prefecture_code: str) -> list[Entity]:
    """The prefecture itself (if it participates) and its participating municipalities."""
    return list(session.scalars(
        select(Entity)
        .where(Entity.prefecture_code == prefecture_code, Entity.participating.is_(True))
        .order_by(Entity.kind.desc(), Entity.kana)))


def prefectures_with_participants(session: Session) -> list[Entity]:
    """Prefectures where at least one entity (itself or a municipality) participates."""
    codes = select(Entity.prefecture_code).where(Entity.participating.is_(True)).distinct()
    return list(session.scalars(
        select(Entity).where(Entity.kind == EntityKind.PREFECTURE, Entity.code.in_(codes))
        .order_by(Entity.code)))


def nearest_participating(session: Session, latitude: float, longitude: float,
                          limit: int = 5) -> list[tuple[Entity, float]]:
    """Participating municipalities nearest to a point, with their distance in km."""
    municipalities = session.scalars(
        select(Entity).where(Entity.participating.is_(True),
                             Entity.kind == EntityKind.MUNICIPALITY,
                             Entity.latitude.is_not(None))).all()
    ranked = sorted(((e, distance_km(latitude, longitude, e.latitude, e.longitude))
                     for e in municipalities), key=lambda pair: pair[1])
    return ranked[:limit]


def nearest_municipality(session: Session, latitude: float, longitude: float) -> Entity | None:
    """The municipality whose registered office is nearest: a guess at where a point lies."""
    municipalities = session.scalars(
        select(Entity).where(Entity.kind == EntityKind.MUNICIPALITY,
                             Entity.latitude.is_not(None))).all()
    return min(municipalities, default=None,
               key=lambda e: distance_km(latitude, longitude, e.latitude, e.longitude))


def count(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Entity.kind, func.count()).group_by(Entity.kind)).all())


@cache
def _prefectures() -> dict[str, EntityRow]:
    return {row.code: row for row in read_shipped_entities()
            if row.kind == EntityKind.PREFECTURE}


def prefecture_row(code: str) -> EntityRow:
    """A prefecture from the shipped data, without a query (names do not change)."""
    return _prefectures()[code]


def prefecture_rows() -> list[EntityRow]:
    return list(_prefectures().values())
