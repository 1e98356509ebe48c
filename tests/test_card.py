"""The registration card (R6): its content, its short-lived signed QR code, the counter check."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from bot.codes import card_codes
from bot.codes.qr import decode_qr, qr_png
from tests.factories import (
    KAMIYAMA,
    SAPPORO,
    kamiyama_resident,
    make_premium,
    person_of,
    photo,
    staff_member,
    verify,
)


def card_token(messages: list[dict]) -> str:
    flex = next(m for m in messages if m["type"] == "flex")
    urls = re.findall(r"/card/([^/\"]+)\.png", str(flex))
    assert len(urls) == 1, flex
    return urls[0]


def test_card_lists_entities_kind_and_premium_validity(app, client, line, db, join):
    chat = kamiyama_resident(app, client, line, join)
    make_premium(db, chat, KAMIYAMA)
    chat.say("登録証")
    shown = chat.text()
    assert "ふるさと住民登録証" in shown
    assert "花子（LINEの表示名・本人確認前）" in shown
    assert "神山町（徳島県）" in shown and "プレミアム登録（2099年5月1日まで有効）" in shown
    assert "徳島県" in shown and "ベーシック登録" in shown
    assert "まで有効です" in shown  # the QR code's few minutes
    assert chat.labels() == ["QRコードを更新"]
    card_token(chat.last)


def test_card_shows_the_verified_name(app, client, line, db, join):
    chat = kamiyama_resident(app, client, line, join)
    verify(db, chat)
    chat.say("登録証")
    assert "山田花子（本人確認済み）" in chat.text()


def test_card_in_english(app, client, line, db, join):
    chat = kamiyama_resident(app, client, line, join)
    make_premium(db, chat, KAMIYAMA)
    chat.say("English")
    chat.say("Card")
    shown = chat.text()
    assert "Kamiyama-cho (Tokushima)" in shown
    assert "1 May 2099" in shown
    chat.say("My card")  # the rich menu's words for it
    assert chat.text() == shown


def test_card_without_registrations_offers_to_register(chat):
    chat.say("登録証")
    assert "登録はまだありません" in chat.text()
    assert "/card/" not in str(chat.last)
    assert chat.labels() == ["登録する"]


def test_the_refresh_button_shows_the_card_with_a_valid_code(app, client, line, join):
    chat = kamiyama_resident(app, client, line, join)
    chat.say("登録証")
    chat.tap("QRコードを更新")
    code = card_codes.read(card_token(chat.last), app.config["SECRET_KEY"], datetime.now(UTC))
    assert code.expires_at > datetime.now(UTC) + timedelta(minutes=9)


def test_the_qr_image_holds_the_line_link_with_the_card_check_text(app, client, line, join):
    chat = kamiyama_resident(app, client, line, join)
    chat.say("登録証")
    token = card_token(chat.last)
    response = client.get(f"/card/{token}.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "private" in response.headers["Cache-Control"]
    (link,) = decode_qr(response.data)
    assert link.startswith("https://line.me/R/oaMessage/")
    assert card_codes.find_token(link) == token
    assert "登録証確認" in card_codes.text_for(token)


def test_qr_image_of_a_forged_or_expired_code_is_refused(app, client):
    secret = app.config["SECRET_KEY"]
    assert client.get("/card/WzEsOTk5OTk5OTk5OV0.forged.png").status_code == 404
    old, _code = card_codes.issue(1, datetime.now(UTC) - timedelta(minutes=11), secret)
    response = client.get(f"/card/{old}.png")
    assert response.status_code == 410
    assert "期限切れ" in response.get_data(as_text=True)


# The code itself ---------------------------------------------------------------------------------

def test_card_code_expires_after_ten_minutes():
    now = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)
    token, code = card_codes.issue(42, now, "secret")
    assert code.expires_at == now + timedelta(minutes=10)
    assert card_codes.read(token, "secret", now + timedelta(minutes=9, seconds=59)).person_id == 42
    with pytest.raises(card_codes.ExpiredCardCode):
        card_codes.read(token, "secret", now + timedelta(minutes=10))


@pytest.mark.parametrize("tamper", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),   # the signature
    lambda t: "WzQzLDk5OTk5OTk5OTld" + t[t.index("."):],          # another person, far future
    lambda t: t[:25],                                              # cut short
])
def test_card_code_tampered_is_invalid(tamper):
    token, _code = card_codes.issue(42, datetime.now(UTC), "secret")
    with pytest.raises(card_codes.InvalidCardCode):
        card_codes.read(tamper(token), "secret", datetime.now(UTC))


def test_card_code_of_another_secret_or_a_check_in_code_is_invalid(app):
    token, _code = card_codes.issue(42, datetime.now(UTC), "other secret")
    with pytest.raises(card_codes.InvalidCardCode):
        card_codes.read(token, "secret", datetime.now(UTC))
    from bot.codes import checkin_codes
    from bot.domain.checkin import Code
    now = datetime.now(UTC)
    check_in = checkin_codes.sign(Code(KAMIYAMA, 1, now, now + timedelta(hours=1)), "secret")
    with pytest.raises(card_codes.InvalidCardCode):
        card_codes.read(check_in, "secret", now)


def test_card_check_text_is_found_in_typed_text_and_links():
    token, _code = card_codes.issue(7, datetime.now(UTC), "secret")
    assert card_codes.find_token(card_codes.text_for(token)) == token
    assert card_codes.find_token(f"card check {token}") == token
    assert card_codes.find_token(card_codes.line_link(token, "@furusato")) == token
    assert card_codes.find_token("登録証") is None


# The counter check -------------------------------------------------------------------------------

def test_staff_of_the_entity_see_name_entity_kind_and_validity(app, client, line, db, join,
                                                                runner):
    chat = kamiyama_resident(app, client, line, join)
    make_premium(db, chat, KAMIYAMA)
    verify(db, chat)
    chat.say("登録証")
    token = card_token(chat.last)
    counter = staff_member(app, client, line, runner)
    counter.say(card_codes.text_for(token))
    shown = counter.text()
    assert "登録を確認しました" in shown
    assert "氏名：山田花子（マイナンバーカードで本人確認済み）" in shown
    assert "登録先：神山町（徳島県）" in shown
    assert "種類：プレミアム登録" in shown
    assert "有効期限：2099年5月1日まで" in shown
    assert "徳島県" not in shown.replace("神山町（徳島県）", "")  # only the staff's own entity


def test_unverified_holder_is_named_by_the_line_name_and_marked(app, client, line, join, runner):
    chat = kamiyama_resident(app, client, line, join)
    chat.say("登録証")
    token = card_token(chat.last)
    counter = staff_member(app, client, line, runner)
    counter.say(card_codes.text_for(token))
    assert "名前：花子（LINEの表示名です。本人確認前" in counter.text()
    assert "種類：ベーシック登録" in counter.text()
    assert "有効期限：なし（ベーシック登録）" in counter.text()


def test_staff_elsewhere_learn_only_that_the_person_is_not_registered_there(app, client, line,
                                                                            join, runner):
    chat = kamiyama_resident(app, client, line, join)
    chat.say("登録証")
    token = card_token(chat.last)
    counter = staff_member(app, client, line, runner, code=SAPPORO)
    counter.say(card_codes.text_for(token))
    assert "この方は札幌市（北海道）には登録されていません" in counter.text()
    assert "花子" not in counter.text() and "神山" not in counter.text()


def test_an_ended_registration_is_not_confirmed(app, client, line, join, runner):
    chat = kamiyama_resident(app, client, line, join)
    chat.say("登録証")
    token = card_token(chat.last)
    chat.say("登録状況")
    chat.tap("登録をやめる")
    chat.tap("登録をやめる")
    counter = staff_member(app, client, line, runner)
    counter.say(card_codes.text_for(token))
    assert "登録されていません" in counter.text()


def test_expired_and_forged_codes_are_refused_in_plain_words(app, client, line, db, join, runner):
    chat = kamiyama_resident(app, client, line, join)
    with db.transaction() as session:
        person_id = person_of(session, chat).id
    counter = staff_member(app, client, line, runner)
    old, _code = card_codes.issue(person_id, datetime.now(UTC) - timedelta(minutes=11),
                                  app.config["SECRET_KEY"])
    counter.say(card_codes.text_for(old))
    assert "有効期限" in counter.text() and "過ぎています" in counter.text()
    assert "花子" not in counter.text()
    forged, _code = card_codes.issue(person_id, datetime.now(UTC), "not our secret")
    counter.say(card_codes.text_for(forged))
    assert "正しい登録証のコードではありません" in counter.text()
    assert "花子" not in counter.text()


def test_a_resident_sending_a_card_code_gets_a_polite_explanation(app, client, line, join):
    chat = kamiyama_resident(app, client, line, join)
    chat.say("登録証")
    token = card_token(chat.last)
    other = kamiyama_resident(app, client, line, lambda *codes: None, name="次郎")
    other.say(card_codes.text_for(token))
    assert "窓口で職員が読み取って" in other.text()
    assert "花子" not in other.text()


def test_staff_can_send_a_photo_of_the_card(app, client, line, db, join, runner):
    chat = kamiyama_resident(app, client, line, join)
    make_premium(db, chat, KAMIYAMA)
    chat.say("登録証")
    token = card_token(chat.last)
    picture = Image.open(io.BytesIO(qr_png(card_codes.line_link(token, "@furusato-demo"))))
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, "JPEG", quality=80)
    counter = staff_member(app, client, line, runner)
    photo(counter, line, buffer.getvalue())
    assert "登録を確認しました" in counter.text()
    assert "種類：プレミアム登録" in counter.text()
