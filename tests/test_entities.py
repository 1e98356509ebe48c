"""The shipped list of entities, loading it, and finding places (Entities, docs/rules.md)."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.domain.text import search_key
from bot.services import entities
from bot.store.models import Entity


def test_the_shipped_list_has_every_prefecture_and_municipality_but_no_wards():
    rows = entities.read_shipped_entities()
    kinds = [row.kind for row in rows]
    assert kinds.count("prefecture") == 47
    assert kinds.count("municipality") == 1741
    codes = {row.code: row for row in rows}
    assert codes["011002"].name == "札幌市" and codes["010006"].name == "北海道"
    assert codes["131016"].name == "千代田区" and codes["131016"].prefecture_code == "130001"
    assert "011011" not in codes  # 札幌市 中央区, a ward of a designated city
    assert all(len(code) == 6 for code in codes)


def test_loading_is_idempotent_and_keeps_settings(db):
    with db.transaction() as session:
        session.scalar(select(Entity).where(Entity.code == "363421")).participating = True
    with db.transaction() as session:
        assert entities.load(session) == (0, 0)
        assert session.scalar(select(func.count()).select_from(Entity)) == 1788
        assert session.scalar(select(Entity).where(Entity.code == "363421")).participating


def test_search_folds_kana_width_and_small_ke():
    assert search_key("カミヤマ") == search_key("かみやま") == search_key("ｶﾐﾔﾏ")
    assert search_key("鶴ヶ島") == search_key("鶴ケ島")


def test_search_finds_by_kanji_and_kana_exact_first(db):
    with db.transaction() as session:
        assert entities.search(session, "つるがしま")[0].name == "鶴ヶ島市"
        assert entities.search(session, "鶴ケ島")[0].name == "鶴ヶ島市"
        names = [e.name for e in entities.search(session, "府中")]
        assert names[:3].count("府中市") == 2
        assert entities.search(session, "%") == [] and entities.search(session, "   ") == []


def test_nearest_participating(db):
    with db.transaction() as session:
        entities.set_participation(session, ["363421", "011002"], True)
        (first, km), *_ = entities.nearest_participating(session, 33.9672, 134.3506)
        assert first.name == "神山町" and km < 5
        assert entities.nearest_municipality(session, 43.0621, 141.3544).name == "札幌市"


def test_search_finds_by_romaji_for_english_readers(db):
    with db.transaction() as session:
        assert entities.search(session, "Kamiyama")[0].name_en == "Kamiyama-cho"
        assert {e.name for e in entities.search(session, "fuchu-shi")} == {"府中市"}


def test_search_finds_what_a_like_on_the_stored_names_finds(db):
    """Names are matched in memory: the same entities as the database's LIKE on them."""
    with db.transaction() as session:
        for query in ("神山", "府中", "かみやま", "ｶﾐﾔﾏ", "kamiyamacho", "伊達", "町", "|", "_"):
            key = search_key(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            like = session.scalars(select(Entity.code).where(
                Entity.search_text.like(f"%{key}%", escape="\\"))).all()
            found = entities.search(session, query, limit=2000)
            assert sorted(e.code for e in found) == sorted(like), query
        # Many matches: the candidates are the first by code, as before the ranking.
        first = session.scalars(select(Entity.code).where(Entity.search_text.like("%町%"))
                                .order_by(Entity.code).limit(40)).all()
        assert {e.code for e in entities.search(session, "町", limit=10)} <= set(first)


def test_search_and_by_code_read_the_current_settings(db):
    with db.transaction() as session:
        assert not entities.search(session, "神山町")[0].participating
    with db.transaction() as session:
        entities.set_participation(session, ["363421", "360007"], True)
    with db.transaction() as session:
        town = entities.search(session, "神山町")[0]
        assert town.participating and entities.prefecture_of(session, town).participating
    with db.transaction() as session:
        town = entities.by_code(session, "363421")
        assert town.participating and entities.prefecture_of(session, town).participating


def test_search_finds_a_place_written_half_in_kanji_half_in_kana(db):
    with db.transaction() as session:
        for typed in ("神山ちょう", "かみやま町", "カミヤマ町", "ふちゅう市"):
            assert entities.search(session, typed), typed
        assert entities.search(session, "神山ちょう")[0].name == "神山町"
        assert entities.search(session, "かみやま町")[0].name == "神山町"
        assert {e.name for e in entities.search(session, "ふちゅう市")} == {"府中市"}
        assert entities.search(session, "上勝むら") == []  # 上勝町 is a town, not a village
