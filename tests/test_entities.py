"""The shipped list of entities, loading it, and finding places (SPEC §2)."""

from __future__ import annotations

from sqlalchemy import func, select

from bot import entities
from bot.domain.text import search_key
from bot.models import Entity


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
