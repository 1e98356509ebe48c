"""Check-in by QR code (R12) and progress toward premium (R4): link, photo, rules, concurrency."""

from __future__ import annotations

import io
import re
import threading
import urllib.request
from datetime import UTC, datetime, timedelta

from PIL import Image
from sqlalchemy import func, select

from bot.codes import checkin_codes
from bot.codes.qr import qr_png
from bot.domain.checkin import Code
from bot.services import activities
from bot.store.models import Activity, CheckIn, Registration
from tests.factories import (
    KAMIYAMA,
    TOKUSHIMA,
    Chat,
    count,
    open_activity,
    photo,
    register_by_name,
    registered,
    signature,
    staff_member,
    text_event,
    webhook_body,
)


def test_r12_the_pre_typed_text_checks_in_and_shows_progress(app, chat, db, join):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    _activity, _session, token = open_activity(app, KAMIYAMA, "棚田の草刈り")
    chat.say(checkin_codes.text_for(token))
    assert "「棚田の草刈り」" in chat.text() and "参加を受け付けました" in chat.text()
    assert "神山町（徳島県）の指定活動への参加（過去12か月）：1回／3回" in chat.text()
    assert "あと2回" in chat.text()
    assert count(db, CheckIn) == 1


def test_r4_the_third_designated_activity_tells_about_premium(app, chat, join):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    for number in range(3):
        _a, _s, token = open_activity(app, KAMIYAMA, f"活動{number}")
        chat.say(checkin_codes.text_for(token))
    assert "3回／3回" in chat.text()
    assert "プレミアム登録に必要な活動回数を満たしました" in chat.text()
    assert "「プレミアム登録」から申し込めます" in chat.text()
    chat.tap("プレミアム登録")  # the way on is one tap away
    assert "プレミアム登録を申し込みますか" in chat.text()


def test_an_activity_that_is_not_designated_does_not_count(app, chat, join):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    _a, _s, token = open_activity(app, KAMIYAMA, "交流会", designated=False)
    chat.say(checkin_codes.text_for(token))
    assert "0回／3回" in chat.text() and "数えられない活動" in chat.text()


def test_r12_scanning_twice_is_one_check_in(app, chat, db, join):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    _a, _s, token = open_activity(app, KAMIYAMA)
    chat.say(checkin_codes.text_for(token))
    chat.say(checkin_codes.text_for(token))
    assert "すでに受付済みです" in chat.text() and "1回／3回" in chat.text()
    assert count(db, CheckIn) == 1


def test_someone_not_registered_is_offered_registration_then_checked_in(app, chat, db, join):
    join(KAMIYAMA, TOKUSHIMA)
    _a, _s, token = open_activity(app, KAMIYAMA, "棚田の草刈り")
    chat.say(checkin_codes.text_for(token))
    assert "ふるさと住民登録（ベーシック登録）が必要です" in chat.text()
    chat.tap("登録して参加")
    text = chat.text()
    assert "神山町（徳島県）にベーシック登録しました" in text and "徳島県にも同時に登録しました" in text
    assert "参加を受け付けました" in text
    assert count(db, CheckIn) == 1
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Registration)) == 2


def test_declining_registration_records_nothing(app, chat, db, join):
    join(KAMIYAMA)
    _a, _s, token = open_activity(app, KAMIYAMA)
    chat.say(checkin_codes.text_for(token))
    chat.tap("やめる")
    assert "チェックインはしませんでした" in chat.text()
    assert count(db, CheckIn) == 0


def test_r12_a_tampered_code_is_refused(app, chat, db, join):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    _a, _s, token = open_activity(app, KAMIYAMA)
    payload, signature_part = token.split(".")
    tampered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature_part
    chat.say(checkin_codes.text_for(tampered))
    assert "正しいチェックイン用のコードではありません" in chat.text()
    assert count(db, CheckIn) == 0


def test_r12_a_code_from_somewhere_else_is_refused(app, chat, db, join):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    _a, session_id, _token = open_activity(app, KAMIYAMA)
    now = datetime.now(UTC)
    foreign = checkin_codes.sign(Code(KAMIYAMA, session_id, now - timedelta(hours=1),
                                      now + timedelta(hours=1)), "another-deployments-secret")
    chat.say(checkin_codes.text_for(foreign))
    assert "正しいチェックイン用のコードではありません" in chat.text()
    assert count(db, CheckIn) == 0


def test_r12_expired_and_not_yet_open_codes_are_refused_with_the_times(app, chat, db, join):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    _a, _s, past = open_activity(app, KAMIYAMA, "昨日の活動", starts_in_minutes=-60 * 26)
    chat.say(checkin_codes.text_for(past))
    assert "「昨日の活動」の受付は終わりました（受付は" in chat.text()
    _a, _s, future = open_activity(app, KAMIYAMA, "来週の活動", starts_in_minutes=60 * 24 * 7)
    chat.say(checkin_codes.text_for(future))
    assert "「来週の活動」の受付はまだ始まっていません（受付開始：" in chat.text()
    assert count(db, CheckIn) == 0


def test_r12_a_cancelled_or_closed_activity_refuses(app, chat, db, join):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    activity_id, _s, token = open_activity(app, KAMIYAMA, "雨天中止")
    with db.transaction() as session:
        session.get(Activity, activity_id).status = "cancelled"
    chat.say(checkin_codes.text_for(token))
    assert "「雨天中止」は中止になりました" in chat.text()
    activity_id, _s, token = open_activity(app, KAMIYAMA, "締切済み")
    with db.transaction() as session:
        session.get(Activity, activity_id).status = "closed"
    chat.say(checkin_codes.text_for(token))
    assert "締め切られました" in chat.text()
    assert count(db, CheckIn) == 0


def test_r12_a_rotating_code_is_refused_once_it_is_old(app, chat, db, join):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    _a, session_id, current = open_activity(app, KAMIYAMA, "会場表示", rotate_seconds=30)
    with db.transaction() as session:
        from bot.store.models import ActivitySession
        old = activities.token(session.get(ActivitySession, session_id), app.config["SECRET_KEY"],
                               datetime.now(UTC) - timedelta(seconds=120))
    chat.say(checkin_codes.text_for(old))
    assert "このQRコードは古くなっています" in chat.text()
    chat.say(checkin_codes.text_for(current))
    assert "参加を受け付けました" in chat.text()


def jpeg(image: Image.Image, quality=60) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def test_r12_a_photo_of_the_qr_code_checks_in(app, chat, line, db, join):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    _a, _s, token = open_activity(app, KAMIYAMA, "写真で受付")
    link = checkin_codes.line_link(token, app.config["LINE_BOT_BASIC_ID"])
    picture = Image.open(io.BytesIO(qr_png(link))).rotate(20, expand=True, fillcolor="white")
    photo(chat, line, jpeg(picture))
    assert "「写真で受付」" in chat.text() and "参加を受け付けました" in chat.text()
    assert count(db, CheckIn) == 1


def test_a_photo_without_a_code_or_not_an_image_is_answered(chat, line, db):
    photo(chat, line, jpeg(Image.new("RGB", (400, 300), "white")))
    assert "QRコードが見つかりませんでした" in chat.text()
    photo(chat, line, b"not an image at all")
    assert "画像を読み取れませんでした" in chat.text()
    other = qr_png("https://example.com/not-a-check-in")
    photo(chat, line, other, "image/png")
    assert "チェックイン用ではない" in chat.text()


def test_my_activities_lists_what_was_done(app, chat, join):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    _a, _s, token = open_activity(app, KAMIYAMA, "棚田の草刈り")
    chat.say(checkin_codes.text_for(token))
    chat.say("活動履歴")
    assert "■ 神山町（徳島県）（指定活動 過去12か月：1／3回）" in chat.text()
    assert "★" in chat.text() and "棚田の草刈り" in chat.text()


def test_my_activities_in_english_marks_items_as_english_does(app, chat, join):
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    _a, _s, token = open_activity(app, KAMIYAMA, "Weeding", designated=False)
    chat.say(checkin_codes.text_for(token))
    chat.say("English")
    chat.say("My activities")
    assert re.search(r"^• .* Weeding$", chat.text(), re.M), chat.text()
    assert "・" not in chat.text()


def test_concurrent_identical_scans_make_one_check_in_and_one_success_message(app, chat, line, db, join):
    """R12 under concurrency: 20 scans of the same code at once (proven on PostgreSQL in CI)."""
    join(KAMIYAMA, TOKUSHIMA)
    registered(chat, "神山")
    _a, _s, token = open_activity(app, KAMIYAMA, "同時受付")
    seen = len(line.deliveries(chat.user_id))
    bodies = [webhook_body(text_event(checkin_codes.text_for(token), chat.user_id,
                                      reply_token=line.issue_reply_token(chat.user_id)))
              for _ in range(20)]
    start = threading.Barrier(len(bodies))
    statuses = []

    def scan(body):
        request = urllib.request.Request(
            f"{app.live_url}/callback", data=body, method="POST",
            headers={"Content-Type": "application/json",
                     "X-Line-Signature": signature(body, app.config["LINE_CHANNEL_SECRET"])})
        start.wait()
        with urllib.request.urlopen(request, timeout=30) as response:
            statuses.append(response.status)

    threads = [threading.Thread(target=scan, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses == [200] * 20
    assert count(db, CheckIn) == 1
    replies = [" ".join(m.get("text", "") for m in d.messages)
               for d in line.deliveries(chat.user_id)[seen:]]
    assert len(replies) == 20
    assert sum("参加を受け付けました" in r for r in replies) == 1
    assert sum("すでに受付済みです" in r for r in replies) == 19


def test_staff_figures_exclude_own_residents_and_count_standing(app, client, line, runner, join, db):
    join(KAMIYAMA, TOKUSHIMA)
    staff_chat = staff_member(app, client, line, runner)
    people = []
    for name in ("一郎", "二郎", "三郎"):
        person = Chat(app, client, line, name)
        person.follow()
        register_by_name(person, "神山")
        person.say("キャンセル")
        people.append(person)
    people[2].say("設定")
    people[2].tap("お住まいを変更")
    people[2].say("神山町")  # lives there: not counted (R9, R15)
    tokens = [open_activity(app, KAMIYAMA, f"活動{i}")[2] for i in range(3)]
    for token in tokens:
        people[0].say(checkin_codes.text_for(token))
    people[1].say(checkin_codes.text_for(tokens[0]))
    staff_chat.say("集計")
    text = staff_chat.text()
    assert "ベーシック：2人" in text
    assert "1回：1人" in text and "2回：0人" in text and "3回以上：1人" in text
    assert "・活動0：2人" in text
