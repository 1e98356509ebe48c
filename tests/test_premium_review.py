"""Staff review premium requests (renewal mode `manual`, R8); giving up premium (R2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import entities, people, premium, registrations
from bot.models import PremiumRequest, PremiumRequestPurpose
from bot.worker import Worker
from conversations.postback import pack
from conversations.premium_review.states import Approve
from tests.factories import KAMIYAMA, TOKUSHIMA, Chat, held, make_staff
from tests.test_premium import premium_row, registered, require, take_part, verify

KAMIKATSU = "363022"


def pushed(app, chat) -> str:
    """Run the worker once; what the outbox delivered to this chat since its last turn."""
    Worker(app).run_once()
    deliveries = chat.line.deliveries(chat.user_id)
    chat.last = [m for d in deliveries[chat.seen:] for m in d.messages]
    chat.seen = len(deliveries)
    return chat.text()


def requests(db) -> list[tuple[str, str, str | None]]:
    with db.transaction() as session:
        return [(r.purpose, r.status, r.reason) for r in session.scalars(select(PremiumRequest))]


@pytest.fixture
def applied(app, client, line, db, chat, join, runner):
    """神山町 in manual mode with one member of staff; the resident has applied."""
    join(KAMIYAMA, TOKUSHIMA)
    require(runner, KAMIYAMA, 1, mode="manual")
    staff = Chat(app, client, line, "役場の佐藤")
    staff.follow()
    make_staff(runner, staff, KAMIYAMA)
    registered(chat, "神山")
    take_part(app, chat, KAMIYAMA)
    verify(db, chat)
    chat.say("プレミアム登録")
    chat.tap("神山町（徳島県）")
    assert "神山町（徳島県）では、申し込みを職員が審査します。" in chat.text()
    chat.tap("申し込む")
    assert "申し込みを受け付けました。職員が審査します。" in chat.text()
    return chat, staff


def test_manual_mode_queues_the_application_and_tells_staff(app, db, applied):
    chat, staff = applied
    assert held(db, chat)[KAMIYAMA][0] == "basic"
    assert requests(db) == [("application", "pending", None)]
    assert "神山町（徳島県）へのプレミアム登録の申請が届きました。" in pushed(app, staff)
    assert "審査" in staff.labels()
    chat.say("プレミアム登録")
    chat.tap("神山町（徳島県）")
    assert "審査中です" in chat.text()  # no second request
    assert len(requests(db)) == 1


def test_staff_see_the_judgement_and_approve(app, db, applied):
    chat, staff = applied
    staff.say("審査")
    queue, text = staff.last, staff.text()
    assert "神山町（徳島県）の審査待ちは1件です。" in text
    assert "山田花子" in text and "新規申請" in text
    assert "指定活動（過去12か月）：1回／1回" in text
    assert "本人確認：済み" in text
    assert "判定：条件を満たしています" in text
    staff.tap("承認する")
    assert "山田花子さんの新規申請を承認しました。" in staff.text()
    assert held(db, chat) == {KAMIYAMA: ("premium", "direct", "active"),
                              TOKUSHIMA: ("premium", "co_registration", "active")}
    assert requests(db) == [("application", "approved", None)]
    told = pushed(app, chat)
    assert "神山町（徳島県）のプレミアム登録が承認されました。" in told
    assert "ふるさと住民登録証" in told
    staff.tap("承認する", queue)  # the same button again: decided already
    assert "見つかりませんでした" in staff.text()


def test_staff_decline_with_a_reason_the_person_reads(app, db, applied):
    chat, staff = applied
    staff.say("審査")
    staff.tap("却下する")
    assert "却下する理由を入力してください" in staff.text()
    staff.say("")
    staff.say("参加記録を確認できませんでした")
    assert "却下しました。理由を本人にお知らせしました。" in staff.text()
    assert requests(db) == [("application", "declined", "参加記録を確認できませんでした")]
    assert held(db, chat)[KAMIYAMA][0] == "basic"
    told = pushed(app, chat)
    assert "プレミアム登録の申請は承認されませんでした。" in told
    assert "理由：参加記録を確認できませんでした" in told


def test_staff_never_see_or_decide_another_entitys_requests(app, client, line, db, runner,
                                                          join, applied):
    chat, _staff = applied
    join(KAMIKATSU)
    other = Chat(app, client, line, "上勝町の職員")
    other.follow()
    make_staff(runner, other, KAMIKATSU)
    other.say("審査")
    assert "上勝町（徳島県）の審査待ちの申請はありません。" in other.text()
    assert "山田花子" not in other.text()
    with db.transaction() as session:
        request_id = session.scalar(select(PremiumRequest.id))
    other.postback(pack(Approve(request_id)))
    assert "見つかりませんでした" in other.text()
    resident = Chat(app, client, line, "住民")
    resident.follow()
    resident.postback(pack(Approve(request_id)))
    assert "職員の方専用" in resident.text()
    assert requests(db) == [("application", "pending", None)]
    assert held(db, chat)[KAMIYAMA][0] == "basic"


def test_staff_cannot_waive_r5_only_activities(app, db, applied):
    chat, staff = applied
    with db.transaction() as session:  # the person has since moved to 神山町 (R9)
        person = people.find(session, chat.user_id)
        registrations.set_residence(session, person, entities.by_code(session, KAMIYAMA))
    staff.say("審査")
    assert "お住まいの市区町村です" in staff.text()
    staff.tap("承認する")
    assert "承認できません" in staff.text() and "お住まいの市区町村" in staff.text()
    assert requests(db) == [("application", "pending", None)]
    assert held(db, chat)[KAMIYAMA][0] == "basic"


def _renewal_requested(app, db, chat) -> datetime:
    """Premium that reached its expiry, queued for staff as the clock does; the old expiry."""
    with app.app_context(), db.transaction() as session:
        person = people.find(session, chat.user_id)
        kamiyama = entities.by_code(session, KAMIYAMA)
        registration = premium.registration_at(session, person, kamiyama)
        now = datetime.now(UTC)
        if registration.kind == "basic":
            premium.grant(session, person, kamiyama, now - timedelta(days=365))
        judgement = premium.judge(session, person, kamiyama, now)
        premium.request_review(session, registration, PremiumRequestPurpose.RENEWAL, judgement, now)
        return registration.premium_until


def test_a_declined_renewal_reverts_to_basic_with_the_prefecture(app, db, chat, join, runner,
                                                                  client, line):
    join(KAMIYAMA, TOKUSHIMA)
    require(runner, KAMIYAMA, 1, mode="manual")
    staff = Chat(app, client, line, "役場の佐藤")
    staff.follow()
    make_staff(runner, staff, KAMIYAMA)
    registered(chat, "神山")
    take_part(app, chat, KAMIYAMA)
    verify(db, chat)
    _renewal_requested(app, db, chat)
    assert "更新が審査待ちです" in pushed(app, staff)
    staff.say("審査")
    assert "更新" in staff.text()
    staff.tap("却下する")
    staff.say("活動への参加が確認できませんでした")
    assert "登録はベーシック登録に戻りました。" in staff.text()
    assert held(db, chat) == {KAMIYAMA: ("basic", "direct", "active"),
                              TOKUSHIMA: ("basic", "co_registration", "active")}
    assert "更新は承認されませんでした。ベーシック登録に戻りました。" in pushed(app, chat)


def test_an_approved_renewal_adds_a_year_from_the_old_expiry(app, db, chat, join, runner,
                                                             client, line):
    join(KAMIYAMA, TOKUSHIMA)
    require(runner, KAMIYAMA, 1, mode="manual")
    staff = Chat(app, client, line, "役場の佐藤")
    staff.follow()
    make_staff(runner, staff, KAMIYAMA)
    registered(chat, "神山")
    take_part(app, chat, KAMIYAMA)
    verify(db, chat)
    old_expiry = _renewal_requested(app, db, chat)
    staff.say("審査")
    staff.tap("承認する")
    assert "更新を承認しました" in staff.text()
    town, prefecture = premium_row(db, chat, KAMIYAMA), premium_row(db, chat, TOKUSHIMA)
    assert town.premium_until - old_expiry >= timedelta(days=365)
    assert prefecture.premium_until == town.premium_until
    assert "更新が承認されました" in pushed(app, chat)


# Giving up premium (「登録状況」) ------------------------------------------------------------

@pytest.fixture
def premium_kamiyama(app, db, chat, join, runner):
    join(KAMIYAMA, TOKUSHIMA, KAMIKATSU)
    require(runner, KAMIYAMA, 1)
    registered(chat, "神山")
    registered(chat, "上勝")  # another town of 徳島県, basic
    take_part(app, chat, KAMIYAMA)
    verify(db, chat)
    chat.say("プレミアム登録")
    chat.tap("神山町（徳島県）")
    chat.tap("申し込む")
    assert "プレミアム登録が完了しました" in chat.text()
    return chat


def test_giving_up_premium_says_what_happens_to_the_prefecture_first(db, premium_kamiyama):
    chat = premium_kamiyama
    chat.say("登録状況")
    assert chat.labels().count("プレミアムをやめる") == 1  # not on the co-registration
    chat.tap("プレミアムをやめる")
    assert "徳島県のプレミアム登録（同時登録）も、ベーシック登録に戻ります。" in chat.text()
    assert held(db, chat)[KAMIYAMA][0] == "premium"
    chat.tap("やめる")
    text = chat.text()
    assert "神山町（徳島県）はベーシック登録に戻りました。" in text
    assert "徳島県もベーシック登録に戻りました。" in text
    assert held(db, chat) == {KAMIYAMA: ("basic", "direct", "active"),
                              TOKUSHIMA: ("basic", "co_registration", "active"),
                              KAMIKATSU: ("basic", "direct", "active")}
    row = premium_row(db, chat, KAMIYAMA)
    assert row.premium_until is None and row.premium_origin is None


def test_keeping_premium_changes_nothing(db, premium_kamiyama):
    chat = premium_kamiyama
    chat.say("登録状況")
    chat.tap("プレミアムをやめる")
    chat.tap("続ける")
    assert "プレミアム登録はそのままです" in chat.text()
    assert held(db, chat)[KAMIYAMA][0] == "premium"


def test_leaving_a_premium_town_leaves_the_prefecture_basic_for_the_other_town(
        db, premium_kamiyama):
    chat = premium_kamiyama
    chat.say("登録状況")
    chat.tap("登録をやめる")  # the first bubble: 神山町
    chat.tap("登録をやめる")
    assert held(db, chat) == {KAMIYAMA: ("basic", "direct", "ended"),  # reverted, then ended
                              TOKUSHIMA: ("basic", "co_registration", "active"),
                              KAMIKATSU: ("basic", "direct", "active")}
