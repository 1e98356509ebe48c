"""Staff review premium requests (renewal mode `manual`, R8); giving up premium (R2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.services import entities, people, premium, registry
from bot.store.models import CheckIn, IdentityVerification, PremiumRequest, PremiumRequestPurpose
from conversations.notices import premium as notices
from conversations.postback import pack
from conversations.premium_review.states import Approve, Decline
from tests.factories import (
    KAMIKATSU,
    KAMIYAMA,
    TOKUSHIMA,
    Chat,
    heard,
    held,
    make_staff,
    premium_row,
    registered,
    require,
    staff_member,
    take_part,
    verify,
)


def requests(db) -> list[tuple[str, str, str | None]]:
    with db.transaction() as session:
        return [(r.purpose, r.status, r.reason) for r in session.scalars(select(PremiumRequest))]


@pytest.fixture
def applied(app, client, line, db, chat, join, runner):
    """神山町 in manual mode with one member of staff; the resident has applied."""
    join(KAMIYAMA, TOKUSHIMA)
    require(runner, KAMIYAMA, 1, mode="manual")
    staff = staff_member(app, client, line, runner, "役場の佐藤", KAMIYAMA)
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
    assert "神山町（徳島県）へのプレミアム登録の申請が届きました。" in heard(app, staff)
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
    assert "：1回／1回" in text and "システムの判定（" in text
    assert "本人確認：済み" in text
    assert "判定：条件を満たしています" in text
    staff.say("Review")  # the English word typed: the same queue
    assert staff.text() == text
    staff.tap("承認する")
    assert "山田花子さんの新規申請を承認しました。" in staff.text()
    assert held(db, chat) == {KAMIYAMA: ("premium", "direct", "active"),
                              TOKUSHIMA: ("premium", "co_registration", "active")}
    assert requests(db) == [("application", "approved", None)]
    told = heard(app, chat)
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
    told = heard(app, chat)
    assert "プレミアム登録の申請は承認されませんでした。" in told
    assert "理由：参加記録を確認できませんでした" in told


def test_staff_never_see_or_decide_another_entitys_requests(app, client, line, db, runner,
                                                          join, applied):
    chat, _staff = applied
    join(KAMIKATSU)
    other = staff_member(app, client, line, runner, "上勝町の職員", KAMIKATSU)
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
        registry.set_residence(session, person, entities.by_code(session, KAMIYAMA))
    staff.say("審査")
    assert "いまの状況：指定活動1回／1回、満たしていない条件があります（お住まいの市区町村）" \
        in staff.text()
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
        queued = premium.request_review(session, registration, PremiumRequestPurpose.RENEWAL,
                                        judgement, now)
        notices.tell_reviewers(session, queued, now)
        return registration.premium_until


def test_a_declined_renewal_reverts_to_basic_with_the_prefecture(app, db, chat, join, runner,
                                                                  client, line):
    join(KAMIYAMA, TOKUSHIMA)
    require(runner, KAMIYAMA, 1, mode="manual")
    staff = staff_member(app, client, line, runner, "役場の佐藤", KAMIYAMA)
    registered(chat, "神山")
    take_part(app, chat, KAMIYAMA)
    verify(db, chat)
    _renewal_requested(app, db, chat)
    assert "更新が審査待ちです" in heard(app, staff)
    staff.say("審査")
    assert "更新" in staff.text()
    staff.tap("却下する")
    staff.say("活動への参加が確認できませんでした")
    assert "登録はベーシック登録に戻りました。" in staff.text()
    assert held(db, chat) == {KAMIYAMA: ("basic", "direct", "active"),
                              TOKUSHIMA: ("basic", "co_registration", "active")}
    assert "更新は承認されませんでした。ベーシック登録に戻りました。" in heard(app, chat)


def test_an_approved_renewal_adds_a_year_from_the_old_expiry(app, db, chat, join, runner,
                                                             client, line):
    join(KAMIYAMA, TOKUSHIMA)
    require(runner, KAMIYAMA, 1, mode="manual")
    staff = staff_member(app, client, line, runner, "役場の佐藤", KAMIYAMA)
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
    assert "更新が承認されました" in heard(app, chat)


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
    # the destructive choice says what it does; 「やめる」 alone could mean either (fixA #7)
    assert chat.labels() == ["プレミアムをやめる", "やめない"]
    chat.tap("プレミアムをやめる")
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
    chat.tap("やめない")
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


# Review findings (fixA) -----------------------------------------------------------------------

def request_of(db) -> PremiumRequest:
    with db.transaction() as session:
        return session.scalar(select(PremiumRequest))


def test_staff_cannot_decide_their_own_request(app, db, runner, applied):
    chat, _staff = applied
    make_staff(runner, chat, KAMIYAMA)  # the applicant works at the town hall too
    chat.say("審査")
    assert "ご自身の申請です。ほかの職員が審査します。" in chat.text()
    assert "承認する" not in chat.labels() and "却下する" not in chat.labels()
    request_id = request_of(db).id
    chat.postback(pack(Approve(request_id)))  # an old or forged button
    assert "ご自身の申請は審査できません" in chat.text()
    chat.postback(pack(Decline(request_id)))
    assert "ご自身の申請は審査できません" in chat.text()
    assert requests(db) == [("application", "pending", None)]
    assert held(db, chat)[KAMIYAMA][0] == "basic"


def _move_home(db, chat, code: str) -> None:
    """The person's verified address is now in `code` (R9), as a new verification leaves it."""
    with db.transaction() as session:
        person = people.find(session, chat.user_id)
        town = entities.by_code(session, code)
        verification = session.scalar(select(IdentityVerification).where(
            IdentityVerification.person_id == person.id))
        verification.address_entity_id = town.id
        registry.set_residence(session, person, town)


def test_an_approved_renewal_still_needs_r5(app, db, chat, join, runner, client, line):
    join(KAMIYAMA, TOKUSHIMA)
    require(runner, KAMIYAMA, 1, mode="manual")
    staff = staff_member(app, client, line, runner, "役場の佐藤", KAMIYAMA)
    registered(chat, "神山")
    take_part(app, chat, KAMIYAMA)
    verify(db, chat)
    old_expiry = _renewal_requested(app, db, chat)
    _move_home(db, chat, KAMIYAMA)  # moved to 神山町 since: premium there ends (R5)
    staff.say("審査")
    staff.tap("承認する")
    assert "承認できません" in staff.text() and "お住まいの市区町村" in staff.text()
    assert requests(db) == [("renewal", "pending", None)]
    assert premium_row(db, chat, KAMIYAMA).premium_until == old_expiry


def test_staff_may_confirm_activities_at_a_renewal(app, db, chat, join, runner, client, line):
    join(KAMIYAMA, TOKUSHIMA)
    require(runner, KAMIYAMA, 1, mode="manual")
    staff = staff_member(app, client, line, runner, "役場の佐藤", KAMIYAMA)
    registered(chat, "神山")
    take_part(app, chat, KAMIYAMA)
    verify(db, chat)
    old_expiry = _renewal_requested(app, db, chat)
    require(runner, KAMIYAMA, 3, mode="manual")  # more asked for now: activities short
    staff.say("審査")
    assert "いまの状況：指定活動1回／3回、満たしていない条件があります（指定活動の回数）" \
        in staff.text()
    staff.tap("承認する")
    assert "更新を承認しました" in staff.text()
    assert premium_row(db, chat, KAMIYAMA).premium_until - old_expiry >= timedelta(days=365)


def test_staff_see_the_renewal_judged_over_the_year_before_the_expiry(
        app, db, chat, join, runner, client, line):
    """The queue shows what the expiry judged (stored, with its time), counted over the 12
    months before the expiry — not over the 12 months before the moment staff look."""
    join(KAMIYAMA, TOKUSHIMA)
    require(runner, KAMIYAMA, 1, mode="manual")
    staff = staff_member(app, client, line, runner, "役場の佐藤", KAMIYAMA)
    registered(chat, "神山")
    take_part(app, chat, KAMIYAMA)
    verify(db, chat)
    now = datetime.now(UTC)
    with app.app_context(), db.transaction() as session:
        person = people.find(session, chat.user_id)
        kamiyama = entities.by_code(session, KAMIYAMA)
        premium.grant(session, person, kamiyama, now)
        registration = premium.registration_at(session, person, kamiyama)
        # Expires in 65 days; the only check-in was 330 days ago: within the last 12 months,
        # but before the 12 months that end at the expiry.
        registration.premium_until = now + timedelta(days=65)
        session.scalar(select(CheckIn)).checked_in_at = now - timedelta(days=330)
        session.flush()
        expiry_judged = premium.judge(session, person, kamiyama, now,
                                      counted_until=registration.premium_until)
        queued = premium.request_review(session, registration, PremiumRequestPurpose.RENEWAL,
                                        expiry_judged, now)
        notices.tell_reviewers(session, queued, now)
    assert expiry_judged.progress.done == 0
    staff.say("審査")
    text = staff.text()
    assert "システムの判定（" in text
    assert "：0回／1回" in text and "1回／1回" not in text
    assert "判定：満たしていない条件があります（指定活動の回数）" in text


def test_manual_mode_queues_an_application_short_only_of_activities(
        app, db, chat, join, runner, client, line):
    """R4 "or by staff": staff may confirm activities the QR codes did not record."""
    join(KAMIYAMA, TOKUSHIMA)
    require(runner, KAMIYAMA, 2, mode="manual")
    staff = staff_member(app, client, line, runner, "役場の佐藤", KAMIYAMA)
    registered(chat, "神山")
    take_part(app, chat, KAMIYAMA)
    verify(db, chat)
    chat.say("プレミアム登録")
    chat.tap("神山町（徳島県）")
    text = chat.text()
    assert "❌ 神山町（徳島県）の指定活動への参加（過去12か月）：1回／2回" in text
    assert "参加を職員が確認できれば認められることがあります" in text
    chat.tap("申し込む")
    assert "申し込みを受け付けました。職員が審査します。" in chat.text()
    assert "指定活動への参加は、職員が記録を確認して判断します。" in chat.text()
    assert requests(db) == [("application", "pending", None)]
    staff.say("審査")
    staff.tap("承認する")
    assert "新規申請を承認しました" in staff.text()
    assert held(db, chat)[KAMIYAMA][0] == "premium"


def test_auto_mode_still_refuses_an_application_short_of_activities(app, db, chat, join, runner):
    join(KAMIYAMA, TOKUSHIMA)
    require(runner, KAMIYAMA, 2)
    registered(chat, "神山")
    take_part(app, chat, KAMIYAMA)
    verify(db, chat)
    chat.say("プレミアム登録")
    chat.tap("神山町（徳島県）")
    assert "あと1回必要です" in chat.text()
    assert "申し込む" not in chat.labels()
    assert requests(db) == []


def test_leaving_the_town_withdraws_the_pending_request(app, db, applied):
    chat, staff = applied
    chat.say("登録状況")
    chat.tap("登録をやめる")  # the first bubble: 神山町
    chat.tap("登録をやめる")
    assert held(db, chat)[KAMIYAMA][2] == "ended"
    assert [(p, s) for p, s, _r in requests(db)] == [("application", "withdrawn")]
    staff.say("審査")
    assert "審査待ちの申請はありません" in staff.text()


def test_deleting_all_data_withdraws_the_pending_request(app, db, applied):
    chat, staff = applied
    chat.say("登録状況")
    chat.tap("すべてのデータを削除")
    chat.tap("削除する")
    assert "データを削除しました" in chat.text()
    assert requests(db) == [("application", "withdrawn", "data_deleted")]
    staff.say("審査")
    assert "審査待ちの申請はありません" in staff.text()
    assert "山田花子" not in staff.text()


def _images(node) -> list[str]:
    """The image URLs anywhere in a Flex message."""
    if isinstance(node, dict):
        found = [node["url"]] if node.get("type") == "image" else []
        return found + [url for value in node.values() for url in _images(value)]
    if isinstance(node, list):
        return [url for value in node for url in _images(value)]
    return []


def test_the_pushed_card_has_no_qr_but_a_way_to_a_fresh_one(app, db, applied):
    """A heard card may be read after the QR code's 10 minutes: no QR, a 「登録証」 button."""
    chat, staff = applied
    staff.say("審査")
    staff.tap("承認する")
    told = heard(app, chat)
    assert "ふるさと住民登録証" in told
    card = chat.last[-1]
    assert card["type"] == "flex" and _images(card) == []
    assert [(item["action"]["type"], item["action"]["text"])
            for item in card["quickReply"]["items"]] == [("message", "登録証")]
    chat.tap("登録証")
    [fresh] = [m for m in chat.last if m["type"] == "flex"]
    assert len(_images(fresh)) == 1  # asked for now: with the QR code


def test_staff_applying_at_their_own_town_are_not_asked_to_review_it(
        app, db, chat, join, runner, client, line):
    join(KAMIYAMA, TOKUSHIMA)
    require(runner, KAMIYAMA, 1, mode="manual")
    colleague = staff_member(app, client, line, runner, "役場の佐藤", KAMIYAMA)
    make_staff(runner, chat, KAMIYAMA)
    registered(chat, "神山")
    take_part(app, chat, KAMIYAMA)
    verify(db, chat)
    chat.say("プレミアム登録")
    chat.tap("神山町（徳島県）")
    chat.tap("申し込む")
    assert "申し込みを受け付けました" in chat.text()
    assert "申請が届きました" not in heard(app, chat)
    assert "申請が届きました" in heard(app, colleague)
