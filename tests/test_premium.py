"""Applying for premium in the chat: every rule explained with the person's figures (#5).

Identity verification is set up as rows in the database (what a finished verification leaves,
R13); the verification pages themselves are tested in tests/test_identity_*.py.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.codes.checkin_codes import text_for
from bot.domain.calendar import years_later
from bot.services import entities, people, premium
from bot.store.models import GuardianConsent, Origin
from conversations.postback import pack
from conversations.premium.states import Apply
from tests.factories import (
    FUCHU_HIROSHIMA,
    HIROSHIMA,
    HOKKAIDO,
    KAMIYAMA,
    SAPPORO,
    TOKUSHIMA,
    TOKYO,
    TOKYO_CHIYODA,
    Chat,
    actions_of,
    held,
    open_activity,
    premium_row,
    registered,
    require,
    take_part,
    verify,
)


def apply(chat, label: str | None = None) -> None:
    chat.say("プレミアム登録")
    if label is not None and label in chat.labels():
        chat.tap(label)


@pytest.fixture
def kamiyama(chat, join, runner):
    """A person registered at 神山町 (and so at 徳島県, R2); one activity is enough there."""
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    require(runner, KAMIYAMA, 1)
    return chat


# The happy path ------------------------------------------------------------------------------

def test_an_adult_with_enough_activities_becomes_premium_for_a_year_with_the_prefecture(
        app, db, kamiyama):
    chat = kamiyama
    take_part(app, chat, KAMIYAMA)
    verify(db, chat)
    apply(chat)
    assert "どの登録先にプレミアム登録を申し込みますか" in chat.text()
    assert chat.labels()[:2] == ["神山町（徳島県）", "徳島県"]
    chat.tap("神山町（徳島県）")
    text = chat.text()
    assert "条件をすべて満たしています" in text
    assert "✅ 神山町（徳島県）の指定活動への参加（過去12か月）：1回／1回" in text
    assert "✅ マイナンバーカードでの本人確認：済み" in text
    assert "プレミアム登録の数：申し込むと1か所（上限3か所）" in text
    chat.tap("申し込む")
    text = chat.text()
    assert "神山町（徳島県）のプレミアム登録が完了しました。" in text
    assert "徳島県も同時にプレミアム登録になりました" in text
    assert "ふるさと住民登録証" in text  # the card, a Flex message
    assert any(m["type"] == "flex" for m in chat.last)
    assert held(db, chat) == {KAMIYAMA: ("premium", "direct", "active"),
                              TOKUSHIMA: ("premium", "co_registration", "active")}
    town, prefecture = premium_row(db, chat, KAMIYAMA), premium_row(db, chat, TOKUSHIMA)
    assert town.premium_origin == Origin.DIRECT and prefecture.premium_origin == Origin.CO_REGISTRATION
    year = town.premium_until - town.premium_since
    assert timedelta(days=365) <= year <= timedelta(days=366)
    assert prefecture.premium_until == town.premium_until

    apply(chat)
    # Premium already: until when, the renewal's figures (counted from the grant on), and
    # what happens at expiry.
    assert "神山町（徳島県）はプレミアム登録です（" in chat.text()
    assert "更新の条件（期限の日に、それまでの12か月で判定します）" in chat.text()
    assert "徳島県はプレミアム登録です" not in chat.text()  # the co-registration follows


def test_a_place_never_offered_keeps_the_choice_on_screen_open(app, db, kamiyama):
    chat = kamiyama
    apply(chat)
    choice = chat.last
    token = next(re.search(r"[?&]t=([^&]+)", action["data"]).group(1)
                 for message in choice for action in actions_of(message)
                 if action.get("data", "").startswith("prem.pick?"))
    chat.postback(f"prem.pick?code=999999&t={token}")
    assert "どの登録先にプレミアム登録を申し込みますか" in chat.text()
    chat.tap("神山町（徳島県）", choice)  # the buttons shown before still answer
    assert "神山町（徳島県）" in chat.text() and "以前のやりとり" not in chat.text()


def test_declining_at_the_confirmation_changes_nothing(app, db, kamiyama):
    chat = kamiyama
    take_part(app, chat, KAMIYAMA)
    verify(db, chat)
    apply(chat, "神山町（徳島県）")
    chat.tap("やめる")
    assert "申し込みはしませんでした" in chat.text()
    assert held(db, chat)[KAMIYAMA][0] == "basic"


# Rules that do not hold ----------------------------------------------------------------------

def test_r4_too_few_activities_says_how_many_and_how_to_get_there(app, db, chat, join, runner):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    take_part(app, chat, KAMIYAMA, 2)
    verify(db, chat)
    apply(chat, "神山町（徳島県）")
    text = chat.text()
    assert "❌ 神山町（徳島県）の指定活動への参加（過去12か月）：2回／3回" in text
    assert "あと1回必要です" in text and "「活動履歴」" in text
    assert "活動履歴" in chat.labels()
    assert "申し込む" not in chat.labels()
    assert held(db, chat)[KAMIYAMA][0] == "basic"


def test_r5_without_verification_the_verification_button_is_sent(app, db, kamiyama):
    chat = kamiyama
    take_part(app, chat, KAMIYAMA)
    apply(chat, "神山町（徳島県）")
    assert "❌ マイナンバーカードでの本人確認：まだです" in chat.text()
    buttons = [a for m in chat.last for a in actions_of(m) if a["label"] == "本人確認をする"]
    assert buttons and buttons[0]["type"] == "uri"
    assert buttons[0]["uri"].startswith(app.live_url + "/identity/start/")
    assert held(db, chat)[KAMIYAMA][0] == "basic"


def test_r10_a_minor_needs_a_guardian_then_may_apply(app, db, kamiyama):
    chat = kamiyama
    take_part(app, chat, KAMIYAMA)
    verify(db, chat, born=years_later(datetime.now(UTC).date(), -15))  # 29 February too
    apply(chat, "神山町（徳島県）")
    assert "❌ 保護者の同意：まだです" in chat.text()
    assert "保護者の同意へ" in chat.labels()
    with db.transaction() as session:
        person = people.find(session, chat.user_id)
        session.add(GuardianConsent(person_id=person.id, provider="sandbox", subject="g",
                                    relationship_to_minor="parent",
                                    consented_at=datetime.now(UTC)))
    apply(chat, "神山町（徳島県）")
    assert "✅ 保護者の同意：済み" in chat.text()
    chat.tap("申し込む")
    assert "プレミアム登録が完了しました" in chat.text()


def test_r5_r9_premium_is_refused_at_the_home_municipality(app, db, kamiyama):
    chat = kamiyama
    take_part(app, chat, KAMIYAMA)
    verify(db, chat)
    chat.say("設定")
    chat.tap("お住まいを変更")
    chat.say("神山")
    if "神山町" in chat.labels():
        chat.tap("神山町")
    apply(chat, "神山町（徳島県）")
    assert "神山町（徳島県）はお住まいの市区町村です" in chat.text()
    assert "申し込む" not in chat.labels()
    assert held(db, chat)[KAMIYAMA][0] == "basic"


# R7: the cap of three, with the prefecture exception -----------------------------------------

def premium_at(app, db, chat, code: str) -> None:
    """Grant premium through bot.services.premium, as the chat does (test setup for the cap)."""
    now = datetime.now(UTC)
    with app.app_context(), db.transaction() as session:
        person = people.find(session, chat.user_id)
        premium.grant(session, person, entities.by_code(session, code), now)


@pytest.fixture
def three_places(app, db, chat, join, runner):
    """Premium at 札幌市, 府中市（広島県） and 徳島県 (applied for directly), registered at 神山町."""
    join(KAMIYAMA, TOKUSHIMA, SAPPORO, HOKKAIDO, FUCHU_HIROSHIMA, HIROSHIMA, TOKYO_CHIYODA, TOKYO)
    for code in (KAMIYAMA, TOKUSHIMA, SAPPORO, HOKKAIDO, FUCHU_HIROSHIMA, TOKYO_CHIYODA):
        require(runner, code, 1)
    registered(chat, "神山")
    registered(chat, "札幌")
    registered(chat, "府中", "府中市（広島県）")
    registered(chat, "千代田", "千代田区（東京都）")
    verify(db, chat)
    for code in (SAPPORO, FUCHU_HIROSHIMA, TOKUSHIMA, KAMIYAMA, TOKYO_CHIYODA):
        take_part(app, chat, code)
    for code in (SAPPORO, FUCHU_HIROSHIMA, TOKUSHIMA):
        premium_at(app, db, chat, code)
    return chat


def test_r7_a_fourth_premium_is_refused_naming_the_three(db, three_places):
    chat = three_places
    apply(chat, "千代田区（東京都）")
    text = chat.text()
    assert "プレミアム登録は1人3か所までです" in text
    assert "いまの3か所：" in text
    assert all(name in text for name in ("札幌市（北海道）", "府中市（広島県）", "徳島県、"))
    assert "申し込む" not in chat.labels()
    assert held(db, chat)[TOKYO_CHIYODA][0] == "basic"


def test_r7_the_prefecture_exception_allows_a_municipality_in_a_premium_prefecture(db, three_places):
    chat = three_places
    apply(chat, "神山町（徳島県）")
    text = chat.text()
    assert "条件をすべて満たしています" in text
    assert "申し込むと3か所（上限3か所）" in text
    assert "徳島県は、同じ都道府県の市区町村がプレミアム登録になると数に入らなくなります" in text
    chat.tap("申し込む")
    assert "プレミアム登録が完了しました" in chat.text()
    assert held(db, chat)[KAMIYAMA][0] == "premium"
    # 徳島県 was applied for directly: it keeps its own standing (R2)
    assert premium_row(db, chat, TOKUSHIMA).premium_origin == Origin.DIRECT


def test_r7_four_parallel_applications_leave_at_most_three_premium(
        app, db, chat, join, runner, database_template):
    if database_template[0] != "postgresql":
        pytest.skip("SQLite serialises every write transaction (BEGIN IMMEDIATE); "
                    "R7 under concurrent row locks is proven on PostgreSQL")
    codes = (KAMIYAMA, SAPPORO, FUCHU_HIROSHIMA, TOKYO_CHIYODA)
    join(*codes)
    for code in codes:
        require(runner, code, 1)
    registered(chat, "神山")
    registered(chat, "札幌")
    registered(chat, "府中", "府中市（広島県）")
    registered(chat, "千代田", "千代田区（東京都）")
    verify(db, chat)
    for code in codes:
        take_part(app, chat, code)

    start = threading.Barrier(len(codes))
    outcomes: dict[str, str] = {}

    def apply_at(code: str) -> None:
        now = datetime.now(UTC)
        start.wait()
        try:
            with app.app_context(), db.transaction() as session:
                person = people.find(session, chat.user_id)  # each thread: its own transaction
                premium.grant(session, person, entities.by_code(session, code), now)
            outcomes[code] = "granted"
        except premium.PremiumRefused as refused:
            outcomes[code] = ",".join(refused.unmet)

    threads = [threading.Thread(target=apply_at, args=(code,)) for code in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(outcomes.values()) == ["cap", "granted", "granted", "granted"]
    kinds = held(db, chat)
    assert sum(kinds[code][0] == "premium" for code in codes) == 3


# Manual mode: staff review -------------------------------------------------------------------

def test_an_old_apply_button_is_answered_politely(app, db, kamiyama):
    chat = kamiyama
    take_part(app, chat, KAMIYAMA)
    verify(db, chat)
    chat.postback(pack(Apply(KAMIYAMA, "forged")))
    assert chat.last and chat.labels()
    assert held(db, chat)[KAMIYAMA][0] == "basic"


def test_nothing_registered_offers_registration(chat):
    chat.say("プレミアム登録")
    assert "まず「登録する」から登録してください" in chat.text()
    assert "登録する" in chat.labels()


def test_english_speakers_apply_with_premium(app, client, line, db, join, runner):
    join(KAMIYAMA)
    require(runner, KAMIYAMA, 1)
    chat = Chat(app, client, line, "Mary", language="en")
    chat.follow()
    chat.say("Register")
    chat.say("Kamiyama")
    chat.tap("Register")
    chat.say("cancel")
    chat.say(text_for(open_activity(app, KAMIYAMA)[2]))
    assert "1 of 1" in chat.text()
    verify(db, chat)
    chat.say("Premium")
    assert "You meet every condition for premium at Kamiyama-cho (Tokushima)." in chat.text()
    assert "Apply" in chat.labels()
    chat.tap("Apply")
    assert "You are now premium at Kamiyama-cho (Tokushima)" in chat.text()
    assert held(db, chat)[KAMIYAMA][0] == "premium"
