"""Basic registration through the chat: R1, R2, R3, R9 and the ways to find a place."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.domain import registration as rules
from bot.services import entities, registry
from bot.store.models import Entity, IdentityVerification, Person, Registration, SurveyAnswer
from tests.factories import (
    FUCHU_HIROSHIMA,
    FUCHU_TOKYO,
    HOKKAIDO,
    KAMIKATSU,
    KAMIYAMA,
    SAPPORO,
    TOKUSHIMA,
    TOKYO,
    held,
    register_by_name,
)


def test_r1_a_municipality_that_does_not_participate_refuses_politely(chat, db, join):
    join(TOKUSHIMA)
    chat.say("登録する")
    chat.say("だて")  # 伊達市 in 北海道 and in 福島県: both listed, neither participating
    assert "伊達市（北海道）（未参加）" in chat.text()
    chat.tap("伊達市（北海道）")
    assert "まだふるさと住民登録に参加していません" in chat.text()
    assert "都道府県から選ぶ" in chat.labels()  # a way on, not a dead end
    assert held(db, chat) == {}


def test_r2_registering_at_a_municipality_co_registers_at_its_prefecture(chat, db, join):
    join(KAMIYAMA, TOKUSHIMA)
    register_by_name(chat, "神山")
    assert "徳島県にも同時に登録しました" in chat.text()
    assert held(db, chat) == {KAMIYAMA: ("basic", "direct", "active"),
                              TOKUSHIMA: ("basic", "co_registration", "active")}


def test_r2_no_co_registration_when_the_prefecture_does_not_participate(chat, db, join):
    join(KAMIYAMA)
    register_by_name(chat, "かみやま")
    assert "同時に登録" not in chat.text()
    assert held(db, chat) == {KAMIYAMA: ("basic", "direct", "active")}


def test_r2_direct_registration_at_a_prefecture_survives_leaving_the_town(chat, db, join):
    join(KAMIYAMA, TOKUSHIMA)
    register_by_name(chat, "神山")
    chat.say("キャンセル")
    register_by_name(chat, "徳島県")
    assert held(db, chat)[TOKUSHIMA] == ("basic", "direct", "active")
    chat.say("登録状況")
    chat.tap("登録をやめる")  # the first bubble: 神山町
    assert "同時登録も終わります" not in chat.text()
    chat.tap("登録をやめる", chat.last[-1:])
    assert held(db, chat) == {KAMIYAMA: ("basic", "direct", "ended"),
                              TOKUSHIMA: ("basic", "direct", "active")}


def test_r2_leaving_the_last_town_ends_the_co_registration(chat, db, join):
    join(KAMIYAMA, TOKUSHIMA)
    register_by_name(chat, "神山")
    chat.say("登録状況")
    chat.tap("登録をやめる")
    assert "徳島県への同時登録も終わります" in chat.text()
    chat.tap("登録をやめる", chat.last[-1:])
    assert "徳島県への同時登録も終わりました" in chat.text()
    assert held(db, chat) == {KAMIYAMA: ("basic", "direct", "ended"),
                              TOKUSHIMA: ("basic", "co_registration", "ended")}


def test_r2_co_registration_stays_while_another_town_of_the_prefecture_remains(chat, db, join):
    join(FUCHU_TOKYO, "131016", TOKYO)
    register_by_name(chat, "府中", pick="府中市（東京都）")
    chat.say("キャンセル")
    register_by_name(chat, "千代田", pick="千代田区（東京都）")
    assert "同時に登録されます" not in chat.text()
    assert held(db, chat)[TOKYO] == ("basic", "co_registration", "active")
    chat.say("登録状況")
    chat.tap("登録をやめる")
    chat.tap("登録をやめる", chat.last[-1:])
    assert held(db, chat)[TOKYO] == ("basic", "co_registration", "active")


def test_already_registered_is_told(chat, db, join):
    join(KAMIYAMA)
    register_by_name(chat, "神山")
    chat.say("登録する")
    chat.say("神山")
    assert "すでに登録しています" in chat.text()


def test_r3_the_survey_is_stored_and_every_question_can_be_skipped(chat, db, join):
    join(KAMIYAMA, TOKUSHIMA)
    register_by_name(chat, "神山")
    chat.tap("出身地")
    chat.tap("ふるさと納税をした")
    chat.tap("✓ 出身地")  # tapping again removes it
    chat.tap("次へ")
    chat.tap("年に数回")
    chat.tap("スキップ")
    assert "お住まいの市区町村" in chat.text()
    chat.tap("スキップ")
    assert "あなたのふるさと住民登録" in chat.text()
    with db.transaction() as session:
        answers = session.execute(select(SurveyAnswer.question, SurveyAnswer.answer)
                                  .order_by(SurveyAnswer.id)).all()
    assert answers == [("relationship", "furusato_nozei"), ("frequency", "several_a_year")]


def test_the_confirmations_other_button_tapped_during_the_survey_asks_the_survey_again(chat, db, join):
    """The confirmation card stays in the chat after 登録する: its やめる belongs to that step,
    so tapped during the survey it asks the survey's question again and the registration
    stays (it used to answer 「登録はしませんでした」 to someone just registered)."""
    join(KAMIYAMA)
    chat.say("登録する")
    chat.say("神山")
    confirmation = chat.last
    chat.tap("登録する")
    question = chat.text()
    chat.tap("やめる", confirmation)
    assert "登録はしませんでした" not in chat.text()
    assert "出身地" in chat.labels() and chat.text() in question
    assert held(db, chat)[KAMIYAMA][2] == "active"


def test_the_confirmation_asked_again_still_names_the_co_registration(chat, join):
    join(KAMIYAMA, TOKUSHIMA)
    chat.say("登録する")
    chat.say("神山")
    assert "徳島県にも同時に登録されます" in chat.text()
    chat.say("うーん")  # a confirmation takes its buttons: it is asked again, as it was
    assert "徳島県にも同時に登録されます" in chat.text()
    assert "登録する" in chat.labels()


def test_r3_survey_choices_can_also_be_typed(chat, db, join):
    join(KAMIYAMA)
    register_by_name(chat, "神山")
    chat.tap("スキップ")
    chat.say("年に数回")
    assert "どんなことで関わりたい" in chat.text()


def test_r9_registration_at_ones_own_residence_is_not_counted(chat, db, join):
    join(KAMIYAMA, TOKUSHIMA)
    register_by_name(chat, "神山")
    for _ in range(3):
        chat.tap("スキップ")
    chat.say("神山町")
    assert "統計には含まれません" in chat.text()
    with db.transaction() as session:
        counted = dict(session.execute(
            select(Entity.code, Registration.counted_in_statistics).join(Registration.entity)).all())
        person = session.scalar(select(Person).where(Person.line_user_id == chat.user_id))
        assert person.residence.code == KAMIYAMA
    assert counted == {KAMIYAMA: False, TOKUSHIMA: True}


@pytest.mark.parametrize(("declared", "verified"), [
    (None, None), (KAMIYAMA, None), (KAMIKATSU, None), (None, KAMIYAMA),
    (KAMIKATSU, KAMIYAMA), (KAMIYAMA, KAMIKATSU), ("verified, address not found", KAMIYAMA)])
def test_r9_where_one_lives_in_sql_is_the_domain_rule(db, declared, verified):
    """The SQL twins the statistics and the expiry job use (bot/services/registry.py)
    decide as `home_code` and bot.domain.registration.at_residence, at every kind of entity."""
    now = datetime.now(UTC)
    with db.transaction() as session:
        person = Person(line_user_id="U-r9", created_at=now)
        session.add(person)
        session.flush()
        if declared is not None:
            home = entities.by_code(session, verified if declared.startswith("verified") else declared)
            registry.set_residence(session, person, home)
        if verified is not None:
            session.add(IdentityVerification(
                person_id=person.id, provider="sandbox", subject="sub-r9", verified_at=now,
                consent_version="2026-12", consented_at=now,
                address_entity_id=None if declared and declared.startswith("verified")
                else entities.by_code(session, verified).id))
        session.flush()
        home_code = registry.home_code(session, person)
        for entity in session.scalars(select(Entity).where(
                Entity.code.in_([KAMIYAMA, KAMIKATSU, TOKUSHIMA, SAPPORO]))):
            in_sql = session.scalar(
                select(registry.at_residence_sql(entity.id, registry.home_entity_id()))
                .select_from(Person)
                .outerjoin(IdentityVerification, IdentityVerification.person_id == Person.id)
                .where(Person.id == person.id))
            assert in_sql is rules.at_residence(entity.code, home_code), entity.code
            assert rules.counts_in_statistics(entity.code, home_code) is not in_sql
            declared_only = session.scalar(select(registry.at_residence_sql(
                entity.id, Person.residence_entity_id)).where(Person.id == person.id))
            assert declared_only is rules.at_residence(
                entity.code, person.residence.code if person.residence else None)


def test_same_name_municipalities_are_told_apart_by_prefecture(chat, join):
    join(FUCHU_TOKYO, FUCHU_HIROSHIMA)
    chat.say("登録する")
    chat.say("府中市")
    assert {"府中市（東京都）", "府中市（広島県）"} <= set(chat.labels())


@pytest.mark.parametrize("typed", ["かみやま", "カミヤマ", "ｶﾐﾔﾏ", "神山", "  神山町 "])
def test_names_are_found_in_kanji_hiragana_katakana_and_half_width(chat, join, typed):
    join(KAMIYAMA)
    chat.say("登録する")
    chat.say(typed)
    assert "神山町（徳島県）にベーシック登録しますか？" in chat.text()


def test_by_prefecture_then_municipality(chat, db, join):
    join(KAMIYAMA, TOKUSHIMA, SAPPORO)
    chat.say("登録する")
    chat.tap("都道府県から選ぶ")
    assert set(chat.labels()) >= {"北海道", "徳島県"} and "東京都" not in chat.labels()
    chat.tap("徳島県")
    assert chat.labels()[:2] == ["徳島県に直接", "神山町"]
    chat.tap("神山町")
    chat.tap("登録する")
    assert held(db, chat)[KAMIYAMA][2] == "active"


def test_long_lists_are_paged_within_lines_limits(chat, db, runner, join):
    with runner.app.extensions["db"].transaction() as session:
        codes = list(session.scalars(select(Entity.code).where(Entity.prefecture_code == HOKKAIDO)))
    join(*codes)
    chat.say("登録する")
    chat.tap("都道府県から選ぶ")
    chat.tap("北海道")
    first_page = chat.labels()
    assert len(first_page) <= 13 and "次へ ›" in first_page
    chat.tap("次へ ›")
    second_page = chat.labels()
    assert "‹ 前へ" in second_page and set(first_page).isdisjoint(set(second_page) - {"キャンセル", "次へ ›"})
    chat.tap(second_page[1])
    chat.tap("登録する")
    assert any(status == "active" for _k, _o, status in held(db, chat).values())


def test_by_location_offers_the_nearest_participating_municipalities(chat, db, join):
    join(KAMIYAMA, SAPPORO)
    chat.say("登録する")
    chat.location(33.9672, 134.3506)
    assert chat.labels()[0] == "神山町（徳島県）"
    assert "約0km" in chat.text() or "約1km" in chat.text()
    chat.tap("神山町（徳島県）")
    chat.tap("登録する")
    assert held(db, chat)[KAMIYAMA][2] == "active"


def test_a_place_name_typed_out_of_the_blue_offers_registration(chat, join):
    join(KAMIYAMA, FUCHU_TOKYO, FUCHU_HIROSHIMA)
    chat.say("神山")
    assert "神山町（徳島県）にベーシック登録しますか？" in chat.text()
    chat.say("キャンセル")
    chat.say("府中")
    assert {"府中市（東京都）", "府中市（広島県）"} <= set(chat.labels())


def test_declining_changes_nothing(chat, db, join):
    join(KAMIYAMA)
    chat.say("登録する")
    chat.say("神山")
    chat.tap("やめる")
    assert "登録はしませんでした" in chat.text()
    assert held(db, chat) == {}


def test_changing_the_residence_from_settings_keeps_its_own_words(chat, db, join):
    """Asked from 設定, the question is not the registration's last (no 「最後に」); a name not
    found keeps 「変更しない」 and キャンセル for someone who gave one before."""
    join(KAMIYAMA)
    register_by_name(chat, "神山")
    for _ in range(3):
        chat.tap("スキップ")
    assert chat.text().startswith("最後に、お住まいの市区町村")
    chat.say("千代田区")
    chat.say("設定")
    chat.tap("お住まいを変更")
    assert chat.text().startswith("お住まいの市区町村を教えてください")
    assert "現在の登録：千代田区（東京都）" in chat.text()
    chat.say("foo bar")
    assert "見つかりませんでした" in chat.text()
    assert chat.labels() == ["位置情報を送る", "変更しない", "キャンセル"]
    chat.say("変更しない")  # the button's words, typed: not a place to search for
    assert "お住まいは千代田区（東京都）のままです" in chat.text()


def test_the_words_of_a_button_typed_act_as_the_button(chat, db, join):
    """The survey says 「スキップ」 and 「次へ」; typed, they do what the buttons do."""
    join(KAMIYAMA)
    register_by_name(chat, "神山")
    chat.say("出身地")
    assert "✓ 出身地" in chat.labels()
    chat.say("次へ")
    assert "どのくらい訪れますか" in chat.text()
    chat.say("スキップ")
    assert "どんなことで関わりたいですか" in chat.text()
    chat.say("つぎへ")  # not a button's words: the question again, with what it takes
    assert "うまく理解できませんでした" in chat.text()
    with db.transaction() as session:
        answers = session.scalars(select(SurveyAnswer.question)).all()
    assert answers == ["relationship"]


def test_someone_back_who_is_still_registered_is_not_asked_to_register(chat, join):
    join(KAMIYAMA)
    chat.follow()
    assert "さっそく登録しますか" in chat.text()
    register_by_name(chat, "神山")
    chat.unfollow()

    chat.follow()

    assert "おかえりなさい" in chat.text() and "さっそく登録しますか" not in chat.text()
    assert "登録はそのまま続いています" in chat.text()
    assert "登録状況" in chat.labels()
    chat.say("登録状況")
    assert "神山町" in chat.text()


def test_the_survey_says_how_many_questions_it_asks(chat, join):
    """Three about the tie, and where one lives (R9) when it is not known yet: four here."""
    join(KAMIYAMA)
    chat.follow()
    register_by_name(chat, "神山")
    assert "3つ質問します（お住まいの市区町村をまだ伺っていなければ、最後にもう1つ）" in chat.text()
    asked = 0
    while "スキップ" in chat.labels():
        asked += 1
        chat.tap("スキップ")
    assert asked == 4


def test_next_and_skip_come_first_among_the_surveys_many_choices(chat, join):
    """Up to eleven quick replies: a phone shows the first few without scrolling."""
    join(KAMIYAMA)
    chat.follow()
    register_by_name(chat, "神山")
    assert chat.labels()[:2] == ["次へ", "スキップ"] and len(chat.labels()) > 5
    chat.tap(chat.labels()[2])  # a tie
    assert chat.labels()[:2] == ["次へ", "スキップ"] and "選択中" in chat.text()
    chat.tap("次へ")
    assert chat.labels()[0] == "スキップ"  # how often: one choice, no 次へ
