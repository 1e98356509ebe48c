"""The rules as plain Python (bot/domain): decisions. That it imports no I/O is
tests/test_layers.py's to check."""

from __future__ import annotations

from bot.domain import registration as rules
from bot.domain import relationship_survey

TOWN = rules.Target("363421", "360007", False, True)
PREFECTURE = rules.Target("360007", "360007", True, True)


def held(code, prefecture, is_prefecture, origin, kind="basic"):
    return rules.Held(code, prefecture, is_prefecture, kind, origin)


def test_r1_not_participating():
    closed = rules.Target("011002", "010006", False, False)
    assert rules.basic_refusal(closed, []) is rules.Refusal.NOT_PARTICIPATING


def test_already_registered_directly_but_a_co_registration_can_become_direct():
    assert rules.basic_refusal(TOWN, [held("363421", "360007", False, "direct")]) \
        is rules.Refusal.ALREADY_REGISTERED
    assert rules.basic_refusal(PREFECTURE, [held("360007", "360007", True, "co_registration")]) is None


def test_r2_co_registration_needed_only_once_and_only_if_the_prefecture_participates():
    assert rules.needs_co_registration(TOWN, True, "basic", [])
    assert not rules.needs_co_registration(TOWN, False, "basic", [])
    assert not rules.needs_co_registration(PREFECTURE, True, "basic", [])
    assert not rules.needs_co_registration(
        TOWN, True, "basic", [held("360007", "360007", True, "co_registration")])
    # One registration per entity: premium at the prefecture stands for a basic town too.
    assert not rules.needs_co_registration(
        TOWN, True, "basic", [held("360007", "360007", True, "co_registration", kind="premium")])


def test_r2_cascade_ends_only_an_orphaned_co_registration():
    co = held("360007", "360007", True, "co_registration")
    other_town = held("362018", "360007", False, "direct")
    assert rules.co_registration_to_end("360007", [co])
    assert not rules.co_registration_to_end("360007", [co, other_town])
    assert not rules.co_registration_to_end("360007", [held("360007", "360007", True, "direct")])
    # A premium town left in the prefecture keeps its (premium) co-registration too.
    premium_co = held("360007", "360007", True, "co_registration", kind="premium")
    premium_town = held("362018", "360007", False, "direct", kind="premium")
    assert not rules.co_registration_to_end("360007", [premium_co, premium_town])
    # A town in another prefecture does not.
    assert rules.co_registration_to_end("360007", [co, held("011002", "010006", False, "direct")])


def test_r9_own_residence_is_not_counted():
    assert not rules.counts_in_statistics("363421", "363421")
    assert rules.counts_in_statistics("363421", "132063")
    assert rules.counts_in_statistics("363421", None)


def test_r3_survey_toggle_keeps_catalogue_order_and_ignores_unknown_values():
    chosen = relationship_survey.toggle([], relationship_survey.RELATIONSHIP, "family")
    chosen = relationship_survey.toggle(chosen, relationship_survey.RELATIONSHIP, "birthplace")
    assert chosen == ["birthplace", "family"]
    assert relationship_survey.toggle(chosen, relationship_survey.RELATIONSHIP, "birthplace") == ["family"]
    assert relationship_survey.toggle(chosen, relationship_survey.RELATIONSHIP, "return_gift") == chosen
    assert relationship_survey.next_question("helping") is None


def test_english_names_are_romanised_from_the_kana():
    from bot.domain.romaji import municipality_name_en, romanise
    assert municipality_name_en("神山町", "かみやまちょう") == "Kamiyama-cho"
    assert municipality_name_en("札幌市", "さっぽろし") == "Sapporo-shi"
    assert municipality_name_en("読谷村", "よみたんそん") == "Yomitan-son"
    assert municipality_name_en("千代田区", "ちよだく") == "Chiyoda-ku"
    assert [romanise(k) for k in ("とうきょう", "いのうえ", "にっこう", "しゅうなん")] == \
        ["tokyo", "inoue", "nikko", "shunan"]
