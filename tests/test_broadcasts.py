"""Broadcasts (R11): staff compose in the chat, choose an audience, preview, send now or later."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from bot.delivery import fanout
from bot.delivery.worker import Worker
from bot.domain.calendar import JST
from bot.store.models import Broadcast, OutboxFailure, OutboxMessage, OutboxStatus, Person
from jobs import run_job
from tests.factories import (
    KAMIKATSU,
    KAMIYAMA,
    TOKUSHIMA,
    Chat,
    actions_of,
    deliver,
    image_event,
    make_staff,
    now,
    register_by_name,
    staff_member,
)


def resident_with_ties(app, client, line, name, *, ties=(), home=None, town="神山"):
    chat = Chat(app, client, line, name)
    chat.follow()
    register_by_name(chat, town)
    for tie in ties:
        chat.tap(tie)
    chat.tap("次へ")
    chat.tap("スキップ")
    chat.tap("スキップ")
    if home:
        chat.say(home)
    else:
        chat.tap("スキップ")
    return chat


def news_texts(line, chat) -> list[str]:
    return [m.get("text", "") for d in line.deliveries(chat.user_id) if d.via == "multicast"
            for m in d.messages]


def compose(staff_chat, body="棚田の草刈りの参加者を募集します。"):
    staff_chat.say("お知らせを送る")
    staff_chat.say(body)
    staff_chat.tap("なし")


def test_a_broadcast_to_all_registrants_with_preview_and_delivery_counts(app, client, line, runner, join):
    join(KAMIYAMA, TOKUSHIMA)
    people = [resident_with_ties(app, client, line, name) for name in ("一", "二", "三")]
    people[2].unfollow()  # blocked: skipped
    staff_chat = staff_member(app, client, line, runner)
    compose(staff_chat)
    staff_chat.tap("登録者全員")
    assert "【神山町（徳島県）】\n棚田の草刈りの参加者を募集します。" in staff_chat.text()  # the preview
    assert "人数：2人" in staff_chat.text()
    assert news_texts(line, people[0]) == []
    staff_chat.tap("今すぐ送る")
    assert "送信を受け付けました" in staff_chat.text()
    deliver(app)
    assert news_texts(line, people[0]) == ["【神山町（徳島県）】\n棚田の草刈りの参加者を募集します。"]
    assert news_texts(line, people[1]) == ["【神山町（徳島県）】\n棚田の草刈りの参加者を募集します。"]
    assert news_texts(line, people[2]) == []
    staff_chat.say("送信状況")
    assert "送信完了・" in staff_chat.text() and "対象2人" in staff_chat.text()
    assert "届いた：2人" in staff_chat.text() and "失敗：0人" in staff_chat.text()
    assert "LINE" not in staff_chat.text() and "届かず" not in staff_chat.text()
    assert not any(label.endswith("の未達分を再送") for label in staff_chat.labels())


def test_a_long_text_is_kept_whole_and_one_too_long_is_refused_in_words(app, client, line,
                                                                         runner, join, db):
    join(KAMIYAMA, TOKUSHIMA)
    resident_with_ties(app, client, line, "一")
    staff_chat = staff_member(app, client, line, runner)
    staff_chat.say("お知らせを送る")
    staff_chat.say("草" * 2001)
    assert "本文が長すぎます（2001文字）" in staff_chat.text()
    staff_chat.say("草" * 1500)
    staff_chat.tap("なし")
    staff_chat.tap("登録者全員")
    staff_chat.tap("今すぐ送る")
    with db.transaction() as session:
        [message] = session.scalars(select(Broadcast.messages)).one()
    assert message["text"] == "【神山町（徳島県）】\n" + "草" * 1500


def test_a_segment_by_ties_and_by_home_prefecture(app, client, line, runner, join):
    join(KAMIYAMA)
    born = resident_with_ties(app, client, line, "出身", ties=["出身地"], home="札幌市")
    visitor = resident_with_ties(app, client, line, "観光", ties=["何度も訪れている"], home="千代田区")
    staff_chat = staff_member(app, client, line, runner)
    compose(staff_chat, "出身の方へ")
    staff_chat.tap("つながりで絞る")
    staff_chat.tap("出身地")
    staff_chat.tap("次へ")
    assert "人数：1人" in staff_chat.text() and "つながり：出身地" in staff_chat.text()
    staff_chat.tap("今すぐ送る")
    compose(staff_chat, "東京にお住まいの方へ")
    staff_chat.tap("お住まいで絞る")
    staff_chat.say("東京 と 大阪")
    assert "お住まい：東京都、大阪府" in staff_chat.text() and "人数：1人" in staff_chat.text()
    staff_chat.tap("今すぐ送る")
    deliver(app)
    assert news_texts(line, born) == ["【神山町（徳島県）】\n出身の方へ"]
    assert news_texts(line, visitor) == ["【神山町（徳島県）】\n東京にお住まいの方へ"]


def test_a_scheduled_broadcast_waits_for_its_time_and_can_be_cancelled(app, client, line, runner, join, db):
    join(KAMIYAMA)
    person = resident_with_ties(app, client, line, "住民")
    staff_chat = staff_member(app, client, line, runner)
    compose(staff_chat, "明日のお知らせ")
    staff_chat.tap("登録者全員")
    staff_chat.tap("日時を指定")
    staff_chat.postback_with(staff_chat.last, "日時を選ぶ", {"datetime": "2099-12-24T10:00"})
    assert "2099年12月24日（木） 10:00に送ります" in staff_chat.text()  # not this year: with the year
    deliver(app)
    assert news_texts(line, person) == []
    with db.transaction() as session:
        send_at = session.scalar(select(Broadcast.send_at))
    deliver(app, send_at + timedelta(seconds=1))
    assert news_texts(line, person) == ["【神山町（徳島県）】\n明日のお知らせ"]
    compose(staff_chat, "取り消すお知らせ")
    staff_chat.tap("登録者全員")
    staff_chat.tap("日時を指定")
    staff_chat.say("2099-12-25 9:00")
    staff_chat.say("送信状況")
    # Not this year: the year. Who, not how many: that is settled when it is sent.
    assert "予約中・2099年12月25日（金） 09:00・対象：登録者全員" in staff_chat.text()
    cancel_label = next(label for label in staff_chat.labels() if label.endswith("を取り消す"))
    staff_chat.tap(cancel_label)
    assert "予約を取り消しました" in staff_chat.text()
    staff_chat.say("送信状況")
    assert "取り消し・2099年12月25日（金） 09:00・対象：登録者全員" in staff_chat.text()


def test_a_picture_and_a_link_travel_with_the_text(app, client, line, runner, join):
    join(KAMIYAMA)
    person = resident_with_ties(app, client, line, "住民")
    staff_chat = staff_member(app, client, line, runner)
    staff_chat.say("お知らせを送る")
    staff_chat.say("秋祭りのお知らせ")
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), "orange").save(buffer, "JPEG")
    line.add_content("700000000000000001", buffer.getvalue(), "image/jpeg")
    staff_chat._send(image_event(staff_chat.user_id, message_id="700000000000000001",
                                 reply_token=staff_chat.token()))
    assert "誰に送りますか" in staff_chat.text()
    staff_chat.tap("登録者全員")
    staff_chat.tap("今すぐ送る")
    deliver(app)
    sent = [m for d in line.deliveries(person.user_id) if d.via == "multicast" for m in d.messages]
    assert [m["type"] for m in sent] == ["text", "image"]
    picture = app.test_client().get(sent[1]["originalContentUrl"].split(app.live_url, 1)[1])
    assert picture.status_code == 200 and picture.mimetype == "image/jpeg"


@pytest.mark.parametrize("path", ["/media/%00.jpg", "/media/%00/preview.jpg", "/media/a%00b.jpg",
                                  "/media/" + "a" * 33 + ".jpg", "/media/%E7%A5%AD.jpg"])
def test_a_media_address_that_cannot_be_ours_is_a_404(client, path):
    response = client.get(path)
    assert response.status_code == 404 and response.text == "Not found\n"


def test_a_prefecture_reaches_its_co_registrations(app, client, line, runner, join):
    join(KAMIYAMA, KAMIKATSU, TOKUSHIMA)
    a = resident_with_ties(app, client, line, "神山の人")
    b = resident_with_ties(app, client, line, "上勝の人", town="上勝")
    staff_chat = staff_member(app, client, line, runner, "県職員", TOKUSHIMA)
    compose(staff_chat, "県からのお知らせ")
    staff_chat.tap("登録者全員")
    assert "人数：2人" in staff_chat.text()
    staff_chat.tap("今すぐ送る")
    deliver(app)
    assert news_texts(line, a) == news_texts(line, b) == ["【徳島県】\n県からのお知らせ"]


def test_staff_of_another_entity_cannot_cancel_or_see(app, client, line, runner, join, db):
    join(KAMIYAMA, KAMIKATSU)
    staff_member(app, client, line, runner, "神山の職員", KAMIYAMA)
    b_staff = staff_member(app, client, line, runner, "上勝の職員", KAMIKATSU)
    with db.transaction() as session:
        from bot.domain.audience import Audience
        from bot.services.entities import by_code
        now = datetime.now(UTC)
        scheduled = fanout.create(session, by_code(session, KAMIYAMA),
                                      [{"type": "text", "text": "x"}], "x", Audience(),
                                      now + timedelta(days=1), now)
        broadcast_id = scheduled.id
    b_staff.postback(f"news.stop?id={broadcast_id}")
    assert "取り消せません" in b_staff.text()
    b_staff.say("送信状況")
    assert f"#{broadcast_id}" not in b_staff.text()
    with db.transaction() as session:
        assert session.get(Broadcast, broadcast_id).status == "scheduled"
    resident_chat = Chat(app, client, line, "住民")
    resident_chat.follow()
    resident_chat.say("お知らせを送る")
    assert "職員の方専用" in resident_chat.text()


def test_fan_out_is_resumable_and_never_doubles(app, client, line, runner, join, db):
    """Pages of recipients go in with the cursor in one transaction (Outgoing messages, docs/rules.md)."""
    join(KAMIYAMA)
    people = [resident_with_ties(app, client, line, f"住民{i}") for i in range(5)]
    with db.transaction() as session:
        from bot.domain.audience import Audience
        from bot.services.entities import by_code
        now = datetime.now(UTC)
        broadcast_id = fanout.create(session, by_code(session, KAMIYAMA),
                                         [{"type": "text", "text": "少しずつ"}], "x",
                                         Audience(), now, now).id
    pages = 0
    while True:
        with db.transaction() as session:
            more = fanout.fan_out_page(session, broadcast_id, datetime.now(UTC), size=2)
        if not more:
            break
        pages += 1
    assert pages == 3
    with db.transaction() as session:
        rows = session.scalars(select(OutboxMessage).where(
            OutboxMessage.broadcast_id == broadcast_id)).all()
        assert sorted(len(r.recipients) for r in rows) == [1, 2, 2]
        assert session.get(Broadcast, broadcast_id).recipients == 5
        assert session.get(Broadcast, broadcast_id).status == "queued"
        ids = {p.line_user_id for p in session.scalars(select(Person))}
    assert {user for r in rows for user in r.recipients} <= ids
    deliver(app)
    assert all(news_texts(line, p) == ["少しずつ"] for p in people)


def test_someone_who_blocks_after_the_broadcast_is_queued_is_skipped_and_not_counted(
        app, client, line, runner, join, db):
    join(KAMIYAMA)
    people = [resident_with_ties(app, client, line, name) for name in ("一", "二", "三")]
    staff_chat = staff_member(app, client, line, runner)
    compose(staff_chat)
    staff_chat.tap("登録者全員")
    staff_chat.tap("今すぐ送る")
    assert fanout.fan_out_due(app.extensions["db"].transaction, datetime.now(UTC)) == 1
    staff_chat.say("送信状況")
    assert "送信中・" in staff_chat.text() and "送信待ち：3人" in staff_chat.text()
    people[1].unfollow()  # queued already: the worker drops them when it claims the row
    deliver(app)
    assert news_texts(line, people[0]) == news_texts(line, people[2]) == [
        "【神山町（徳島県）】\n棚田の草刈りの参加者を募集します。"]
    assert news_texts(line, people[1]) == []
    staff_chat.say("送信状況")
    assert "送信完了・" in staff_chat.text() and "対象3人" in staff_chat.text()
    assert "届いた：2人" in staff_chat.text() and "失敗：0人" in staff_chat.text()
    assert "ブロック・データ削除のため送らなかった：1人" in staff_chat.text()


def test_a_wrong_step_in_the_composer_never_forces_starting_over(app, client, line, runner, join, db):
    """A bad link still offers 「なし」 (typed or tapped), a bad time the picker again, an
    audience of nobody a way back to the choice; typed button words act as the buttons."""
    join(KAMIYAMA)
    born = resident_with_ties(app, client, line, "出身", ties=["出身地"])
    staff_chat = staff_member(app, client, line, runner)
    staff_chat.say("お知らせを送る")
    staff_chat.say("草刈りのお知らせ")
    staff_chat.say("http://example.com")
    assert "https:// で始まるリンクではありませんでした" in staff_chat.text()
    assert staff_chat.labels() == ["なし", "キャンセル"]
    staff_chat.say("なし")  # typed
    assert "誰に送りますか" in staff_chat.text()
    staff_chat.tap("つながりで絞る")
    staff_chat.say("何度も訪れている")  # typed: the button of that name
    assert "選択中：何度も訪れている" in staff_chat.text()
    staff_chat.say("次へ")
    assert "対象の人がいません" in staff_chat.text() and "登録者全員" not in staff_chat.text()
    assert staff_chat.labels() == ["送り先を選び直す", "キャンセル"]
    empty_preview = staff_chat.last
    staff_chat.tap("送り先を選び直す")
    assert "誰に送りますか" in staff_chat.text()
    staff_chat.tap("送り先を選び直す", empty_preview)  # the preview left behind is done with
    assert "以前のやりとりのもの" in staff_chat.text()
    staff_chat.tap("つながりで絞る")
    staff_chat.tap("出身地")
    staff_chat.tap("次へ")
    assert "人数：1人" in staff_chat.text()
    staff_chat.tap("日時を指定")
    staff_chat.say("来週の月曜")
    assert "日時が読み取れないか" in staff_chat.text()
    assert staff_chat.labels() == ["日時を選ぶ", "キャンセル"]
    staff_chat.postback_with(staff_chat.last, "日時を選ぶ", {"datetime": "2099-12-24T10:00"})
    assert "に送ります（予約しました）" in staff_chat.text()
    with db.transaction() as session:
        broadcast = session.scalars(select(Broadcast)).one()
        assert broadcast.messages[0]["text"] == "【神山町（徳島県）】\n草刈りのお知らせ"
    deliver(app, broadcast.send_at + timedelta(seconds=1))
    assert news_texts(line, born) == ["【神山町（徳島県）】\n草刈りのお知らせ"]


def test_the_sender_is_named_in_japanese_whatever_the_staffs_language(app, client, line, runner,
                                                                       join):
    """One message goes to every recipient: its header is the place as the chat names it
    (with the prefecture, which tells 府中市 from 府中市), in Japanese."""
    join(KAMIYAMA)
    person = resident_with_ties(app, client, line, "住民")
    staff_chat = Chat(app, client, line, "Staff", language="en")
    staff_chat.follow()
    make_staff(runner, staff_chat, KAMIYAMA)
    staff_chat.say("Send announcement")
    staff_chat.say("Rice terrace work day")
    staff_chat.tap("None")
    staff_chat.tap("All registrants")
    assert "【神山町（徳島県）】\nRice terrace work day" in staff_chat.text()
    staff_chat.tap("Send now")
    deliver(app)
    assert news_texts(line, person) == ["【神山町（徳島県）】\nRice terrace work day"]


def test_news_being_composed_reads_back_from_what_the_previous_version_saved():
    from bot.domain.audience import Audience
    from conversations.broadcast.draft import BroadcastDraft

    draft = BroadcastDraft.load({"entity": KAMIYAMA, "text": "本文", "link": "https://example.com",
                                 "who": Audience(kinds=("basic",)).to_json()})
    assert (draft.text, draft.link, draft.image, draft.ties) == ("本文", "https://example.com", None, [])
    assert draft.audience == Audience(kinds=("basic",))


# Staff hear the truth: what did not arrive, why, and what can be done -----------------------

NEWS = "【神山町（徳島県）】\n棚田の草刈りの参加者を募集します。"
LINE_REFUSES = {"message": "The request body has 1 error(s)",
                "details": [{"message": "May not be empty", "property": "messages[0].text"}]}


def sent_now(app, client, line, runner, people=("一", "二")):
    """Residents of 神山町 and a staff member who has just sent them the news."""
    residents = [resident_with_ties(app, client, line, name) for name in people]
    staff_chat = staff_member(app, client, line, runner)
    compose(staff_chat)
    staff_chat.tap("登録者全員")
    staff_chat.tap("今すぐ送る")
    return residents, staff_chat


def test_a_broadcast_line_refused_says_so_why_and_offers_a_resend_once(
        app, client, line, runner, join, db):
    join(KAMIYAMA, KAMIKATSU)
    residents, staff_chat = sent_now(app, client, line, runner)
    with db.transaction() as session:
        broadcast_id = session.scalar(select(Broadcast.id))
    line.inject("multicast", 400, body=LINE_REFUSES)
    deliver(app)
    assert all(news_texts(line, person) == [] for person in residents)

    staff_chat.say("送信状況")
    status = staff_chat.text()
    assert "送信完了" not in status and "送信できず・" in status
    assert "届いた：0人　送信待ち：0人　失敗：2人" in status
    assert ("LINEが受け付けなかった：2人（LINEの応答：400 The request body has 1 error(s) "
            "(messages[0].text: May not be empty)）") in status
    assert f"「#{broadcast_id}の未達分を再送」で、受け付けられなかった人にもう一度送れます" in status
    resend = f"#{broadcast_id}の未達分を再送"
    assert resend in staff_chat.labels()
    offered = staff_chat.last

    # Staff of another entity cannot resend it.
    other = staff_member(app, client, line, runner, "上勝の職員", KAMIKATSU)
    other.postback(f"news.resend?id={broadcast_id}")
    assert "再送できません" in other.text()

    staff_chat.tap(resend)
    assert f"#{broadcast_id}で届かなかった2人に、もう一度送ります" in staff_chat.text()
    staff_chat.say("送信状況")
    assert "送信中・" in staff_chat.text() and "送信待ち：2人" in staff_chat.text()
    assert "失敗：0人" in staff_chat.text() and resend not in staff_chat.labels()
    deliver(app)
    assert all(news_texts(line, person) == [NEWS] for person in residents)
    staff_chat.say("送信状況")
    assert "送信完了・" in staff_chat.text() and "届いた：2人　送信待ち：0人　失敗：0人" in staff_chat.text()
    assert "受け付けなかった" not in staff_chat.text() and resend not in staff_chat.labels()

    staff_chat.tap(resend, offered)  # the button of the earlier status, a second time
    assert f"#{broadcast_id}の未達分はすでに再送しました。今回は何も送っていません。" in staff_chat.text()
    deliver(app)
    assert all(news_texts(line, person) == [NEWS] for person in residents)
    with db.transaction() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(row.status, row.failure) for row in rows if row.broadcast_id] == [
            (OutboxStatus.FAILED, OutboxFailure.RESENT), (OutboxStatus.SENT, None)]


def test_the_resend_is_refused_while_the_broadcast_still_sends(app, client, line, runner, join,
                                                                 db):
    """A refused row next to one still waiting for a retry: no button, and a postback made
    up of one resends nothing until the last try has ended."""
    join(KAMIYAMA)
    residents, staff_chat = sent_now(app, client, line, runner)
    with db.transaction() as session:
        broadcast_id = session.scalar(select(Broadcast.id))
    start = datetime.now(UTC)
    with db.transaction() as session:
        fanout.fan_out_page(session, broadcast_id, start, size=1)  # one row per person
        fanout.fan_out_page(session, broadcast_id, start, size=1)
        fanout.fan_out_page(session, broadcast_id, start, size=1)
    line.inject("multicast", 400, body=LINE_REFUSES)
    line.inject("multicast", 500)
    Worker(app, threads=1).run_once(start)
    staff_chat.say("送信状況")
    assert "送信中・" in staff_chat.text() and "LINEが受け付けなかった：1人" in staff_chat.text()
    assert "送信が終わると、受け付けられなかった人へ再送できます" in staff_chat.text()
    assert not any(label.endswith("の未達分を再送") for label in staff_chat.labels())
    staff_chat.postback(f"news.resend?id={broadcast_id}")
    assert "まだ送信中のため、再送していません" in staff_chat.text()
    with db.transaction() as session:
        assert session.scalar(select(OutboxMessage.failure).where(
            OutboxMessage.failure.is_not(None))) == OutboxFailure.REFUSED


@pytest.mark.parametrize(("status", "told"), [
    (401, "LINEがこのアカウントの接続情報（アクセストークン）を受け付けていないため、"),
    (429, "LINEの送信制限のため少し待っています"),
], ids=["unauthorized", "rate-limited"])
def test_a_paused_queue_is_named_with_its_reason_and_nothing_failed(
        app, client, line, runner, join, db, status, told):
    join(KAMIYAMA)
    residents, staff_chat = sent_now(app, client, line, runner)
    line.inject("multicast", status, body={"message": "Authentication failed"})
    start = datetime.now(UTC)
    Worker(app).run_once(start)
    staff_chat.say("送信状況")
    shown = staff_chat.text()
    assert "一時停止中・" in shown and told in shown, shown
    assert "届いた：0人　送信待ち：2人　失敗：0人" in shown
    assert "送信完了" not in shown and "受け付けなかった" not in shown
    assert not any(label.endswith("の未達分を再送") for label in staff_chat.labels())
    if status == 401:
        assert ("から送信を止めています。運営担当者に連絡してください。"
                "直り次第、続きを自動で送ります。") in shown

    deliver(app, start + timedelta(seconds=11))  # the token works again, the limit is over
    assert all(news_texts(line, person) == [NEWS] for person in residents)
    staff_chat.say("送信状況")
    assert "送信完了・" in staff_chat.text() and told not in staff_chat.text()


def test_one_that_may_have_arrived_is_told_as_such_and_never_offered_again(
        app, client, line, runner, join, db):
    """LINE never answered, and its retry key is too old to try again safely."""
    join(KAMIYAMA)
    residents, staff_chat = sent_now(app, client, line, runner)
    with db.transaction() as session:
        broadcast_id = session.scalar(select(Broadcast.id))
    line.inject("multicast", 500)
    start = datetime.now(UTC)
    worker = Worker(app, threads=1)
    worker.run_once(start)
    worker.run_once(start + timedelta(hours=23, minutes=1))
    assert all(news_texts(line, person) == [] for person in residents)

    staff_chat.say("送信状況")
    shown = staff_chat.text()
    assert "送信できず・" in shown and "送信完了" not in shown
    assert "届いた：0人　送信待ち：0人　失敗：2人" in shown
    assert "届いたか確認できなかった：2人（二重に届かないよう、再送しません）" in shown
    assert "受け付けなかった" not in shown and "再送できます" not in shown
    assert not any(label.endswith("の未達分を再送") for label in staff_chat.labels())
    staff_chat.postback(f"news.resend?id={broadcast_id}")
    assert "再送できる相手がいません" in staff_chat.text()
    deliver(app, start + timedelta(days=2))
    assert all(news_texts(line, person) == [] for person in residents)


def test_a_broadcast_partly_refused_reads_in_english_too(app, client, line, runner, join, db):
    join(KAMIYAMA)
    residents = [resident_with_ties(app, client, line, name) for name in ("一", "二")]
    staff_chat = Chat(app, client, line, "Staff", language="en")
    staff_chat.follow()
    make_staff(runner, staff_chat, KAMIYAMA)
    staff_chat.say("Send announcement")
    staff_chat.say("Rice terrace work day")
    staff_chat.tap("None")
    staff_chat.tap("All registrants")
    staff_chat.tap("Send now")
    with db.transaction() as session:
        broadcast_id = session.scalar(select(Broadcast.id))
        fanout.fan_out_page(session, broadcast_id, datetime.now(UTC), size=1)
    line.inject("multicast", 400, body=LINE_REFUSES)
    deliver(app)
    assert sorted(len(news_texts(line, person)) for person in residents) == [0, 1]
    staff_chat.say("Delivery status")
    shown = staff_chat.text()
    assert "Partly not delivered" in shown and "Refused by LINE: 1" in shown, shown
    staff_chat.tap(f"Resend #{broadcast_id} unsent")
    assert "1 " in staff_chat.text() and "again" in staff_chat.text(), staff_chat.text()
    deliver(app)
    assert [len(news_texts(line, person)) for person in residents] == [1, 1]


def test_once_purged_after_the_retention_period_a_refusal_is_no_longer_offered_again(
        app, client, line, runner, join, db):
    join(KAMIYAMA)
    residents, staff_chat = sent_now(app, client, line, runner)
    line.inject("multicast", 400, body=LINE_REFUSES)
    deliver(app)

    assert run_job(app, "cleanup", now() + timedelta(days=31)).counts[
        "outgoing messages purged"] == 1
    staff_chat.say("送信状況")

    assert "失敗：2人" in staff_chat.text()  # the counts stay
    assert not any("未達分を再送" in label for label in staff_chat.labels())


def test_the_date_picker_starts_no_earlier_than_now_in_japan(app, client, line, runner, join):
    """LINE's picker reads `min` as the phone's local time: Japan time, not UTC."""
    join(KAMIYAMA)
    resident_with_ties(app, client, line, "住民")
    staff_chat = staff_member(app, client, line, runner)
    compose(staff_chat)
    staff_chat.tap("登録者全員")
    before = datetime.now(JST).replace(second=0, microsecond=0, tzinfo=None)
    staff_chat.tap("日時を指定")
    after = datetime.now(JST).replace(tzinfo=None)

    [picker] = [a for m in staff_chat.last for a in actions_of(m) if a["type"] == "datetimepicker"]
    assert before <= datetime.fromisoformat(picker["min"]) <= after
