"""My registrations: the list, leaving one, deleting all my data (R14), foreign IDs."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from bot.i18n import use_locale
from bot.services import people
from bot.store.models import (
    GuardianConsent,
    IdentityVerification,
    Person,
    Registration,
    SurveyAnswer,
)
from conversations.my_registrations import messages as my_registrations_messages
from conversations.my_registrations.states import Leave
from conversations.postback import pack
from tests.factories import KAMIYAMA, TOKUSHIMA, Chat, held, register_by_name


def test_the_list_shows_kind_origin_and_date(chat, join):
    join(KAMIYAMA, TOKUSHIMA)
    register_by_name(chat, "神山")
    chat.say("キャンセル")
    chat.say("登録状況")
    text = chat.text()
    assert "登録は2件です" in text
    assert "ベーシック登録・直接登録" in text
    assert "市区町村への登録に伴う同時登録" in text
    assert chat.labels().count("登録をやめる") == 2


def test_an_empty_list_offers_to_register(chat):
    chat.say("登録状況")
    assert "登録中の自治体はありません" in chat.text()
    assert chat.labels() == ["登録する", "すべてのデータを削除", "ヘルプ"]


def test_someone_who_left_everywhere_can_still_erase_their_data(chat, db, join):
    """R14 holds after the last registration ended: the empty list offers the erasure."""
    join(KAMIYAMA)
    register_by_name(chat, "神山")
    chat.say("登録状況")
    chat.tap("登録をやめる")
    chat.tap("登録をやめる")  # confirmed
    assert "登録をやめました" in chat.text()
    chat.say("登録状況")
    chat.tap("すべてのデータを削除")
    assert "件の登録が終わり" not in chat.text() and "お名前が消去されます" in chat.text()
    chat.say("削除する")  # typed: a confirmation is answered by its buttons only
    assert "お名前が消去されます" in chat.text()
    with db.transaction() as session:
        assert session.scalar(select(Person)).deleted_at is None
    chat.tap("削除する")
    assert "データを削除しました" in chat.text()
    with db.transaction() as session:
        person = session.scalar(select(Person))
        assert person.line_user_id is None and person.display_name is None
        assert person.deleted_at is not None


def test_keeping_a_registration_changes_nothing(chat, db, join):
    join(KAMIYAMA)
    register_by_name(chat, "神山")
    chat.say("登録状況")
    chat.tap("登録をやめる")
    chat.tap("続ける")
    assert "登録はそのままです" in chat.text()
    assert held(db, chat)[KAMIYAMA][2] == "active"


def test_another_persons_registration_cannot_be_ended(app, client, line, chat, db, join):
    join(KAMIYAMA)
    register_by_name(chat, "神山")
    with db.transaction() as session:
        their_id = session.scalar(select(Registration.id))
    intruder = Chat(app, client, line, "侵入者")
    intruder.follow()
    intruder.postback(pack(Leave(their_id)))
    assert "見つかりませんでした" in intruder.text()
    assert held(db, chat)[KAMIYAMA][2] == "active"


def test_r14_delete_all_my_data(app, client, line, chat, db, join):
    join(KAMIYAMA, TOKUSHIMA)
    register_by_name(chat, "神山")
    chat.tap("出身地")
    chat.tap("次へ")
    chat.say("登録状況")
    chat.tap("すべてのデータを削除")
    assert "元に戻せません" in chat.text()
    chat.tap("削除する")
    assert "データを削除しました" in chat.text()
    with db.transaction() as session:
        person = session.scalar(select(Person))
        assert person.line_user_id is None and person.display_name is None
        assert person.residence_entity_id is None and person.deleted_at is not None
        assert session.scalar(select(func.count()).select_from(SurveyAnswer)) == 0
        assert person.conversation is None and person.conversation_data is None
        # the anonymous aggregate stays: two registrations were made, both ended
        statuses = session.scalars(select(Registration.status)).all()
        assert sorted(statuses) == ["ended", "ended"]
    chat.say("登録状況")  # the same LINE user afterwards is a new, empty person
    assert "登録中の自治体はありません" in chat.text()


def test_r14_delete_all_my_data_erases_the_card_verification_too(chat, db, join):
    join(KAMIYAMA)
    register_by_name(chat, "神山")
    now = datetime.now(UTC)
    with db.transaction() as session:
        person = people.find(session, chat.user_id)
        session.add(IdentityVerification(
            person_id=person.id, provider="sandbox", subject="sub-1", verified_at=now,
            birth_date=date(2010, 4, 1), name="山田花子", consent_version="2026-12",
            consented_at=now))
        session.add(GuardianConsent(person_id=person.id, provider="sandbox", subject="sub-2",
                                    relationship_to_minor="parent", consented_at=now))
    chat.say("登録状況")
    chat.tap("すべてのデータを削除")
    chat.tap("削除する")
    assert "データを削除しました" in chat.text()
    with db.transaction() as session:
        for table in (IdentityVerification, GuardianConsent):
            assert session.scalar(select(func.count()).select_from(table)) == 0


def test_r14_unfollow_stops_sending_but_keeps_data(chat, db, join):
    join(KAMIYAMA)
    register_by_name(chat, "神山")
    assert chat.unfollow() == []
    with db.transaction() as session:
        person = session.scalar(select(Person).where(Person.line_user_id == chat.user_id))
        assert person.following is False
    assert held(db, chat)[KAMIYAMA][2] == "active"
    chat.follow()
    assert "おかえりなさい" in chat.text()


@pytest.mark.parametrize(("locale", "shown"), [("ja", "2026年12月8日から"),
                                               ("en", "Since 8 Dec 2026")])
def test_the_registration_date_is_the_day_in_japan(locale, shown):
    """Registered at 01:00 on 8 December in Japan, which is still the 7th in UTC."""
    registration = Registration(registered_at=datetime(2026, 12, 7, 16, 0, tzinfo=UTC))
    with use_locale(locale):
        assert my_registrations_messages.since(registration) == shown
