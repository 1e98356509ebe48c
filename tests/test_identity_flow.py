"""Identity verification as a person goes through it: the chat's button, the pages, the result
in the chat; tickets, LIFF, minors and guardians, the residence from the address (R5, R9, R10)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from bot import line
from bot.i18n import _, use_locale
from bot.identity import handoff, records
from bot.identity.address import municipality_for
from bot.services import people
from bot.store.models import (
    Entity,
    GuardianConsent,
    IdentityVerification,
    Registration,
    VerificationAttempt,
    VerificationPurpose,
)
from cli import walkthrough
from tests.factories import (
    FUCHU_TOKYO,
    KAMIYAMA,
    TOKUSHIMA,
    Chat,
    actions_of,
    heard,
    held,
    identity_rows,
    register_by_name,
    typed_text,
    verification_uri,
    verify_in_chat,
)

LIFF_ID = "1234567890-identity"


def status_of(db, chat):
    with db.transaction() as session:
        return records.status(session, people.find(session, chat.user_id), date.today())


def test_the_command_offers_a_button_to_the_verification_page(app, chat):
    uri = verification_uri(chat)
    assert uri.startswith(app.config["PUBLIC_BASE_URL"] + "/identity/start/")
    # LINE opens it in the default browser, where the provider's app will return.
    assert uri.endswith("?openExternalBrowser=1")
    assert "プレミアム登録には、マイナンバーカードでの本人確認が必要です" in chat.text()
    assert "本人確認に進む" in chat.labels()


def test_an_adult_verifies_and_the_chat_offers_premium_next(app, chat, db):
    """A signed link's pages end with the code, sent in the person's own chat (the link may
    have been forwarded: only the chat is surely the account's)."""
    page = verify_in_chat(chat, "adult")
    assert page.status == 200 and "本人確認ができました" not in page.text

    told = chat.text()
    assert "マイナンバーカードで本人確認ができました" in told
    assert "お住まいを神山町（徳島県）として登録しました" in told
    [premium] = [a for m in chat.last for a in actions_of(m)]
    assert (premium["type"], premium["text"]) == ("message", "プレミアム登録")
    assert heard(app, chat) == ""  # the answer, not a push as well
    assert page.browser.get(page.url).outcome == "verified"  # the page, reloaded, knows

    residence, verification, _ = identity_rows(db, chat)
    assert (verification.name, verification.birth_date) == ("山田 太郎", date(1990, 4, 1))
    assert verification.provider == "sandbox" and verification.consent_version
    assert residence == KAMIYAMA  # R9: the verified address replaces the declaration
    assert verification.address_entity_id is not None
    status = status_of(db, chat)
    assert (status.verified, status.minor, status.guardian_consented) == (True, False, False)


def test_the_command_then_shows_the_status_and_a_way_to_verify_again(app, chat):
    verify_in_chat(chat, "adult")
    chat.say("本人確認")
    assert "本人確認済みです" in chat.text()
    assert "もう一度確認する" in chat.labels()


def test_an_english_speaker_reads_everything_in_english(app, client, line):
    emma = Chat(app, client, line, name="Emma", language="en")
    emma.follow()
    emma.say("Verify identity")
    uri = [a["uri"] for m in emma.last for a in actions_of(m) if a["type"] == "uri"][0]
    page = verify_in_chat(emma, "adult", uri, language="en")
    assert "One more step: send the code in LINE" in page.text
    assert "You are verified with your My Number Card" in emma.text()
    assert "Kamiyama" in emma.text()
    with use_locale("en"):  # the premium conversation's command word, as English speakers see it
        premium = _("プレミアム登録")
    assert [a["text"] for m in emma.last for a in actions_of(m)] == [premium]


def test_a_renewed_card_updates_the_same_row(app, chat, db):
    verify_in_chat(chat, "adult")
    _, first, _ = identity_rows(db, chat)
    verify_in_chat(chat, "renewed_card")
    assert "マイナンバーカードで本人確認ができました" in chat.text()
    _, second, _ = identity_rows(db, chat)
    assert (second.id, second.subject) == (first.id, first.subject)
    assert second.verified_at > first.verified_at


def test_a_card_already_linked_to_another_account_is_refused(app, client, line, chat, db):
    verify_in_chat(chat, "shared_card")
    taro = Chat(app, client, line, name="太郎")
    taro.follow()
    page = verify_in_chat(taro, "shared_card")
    again = page.browser.get(page.url)
    assert again.outcome == "subject_taken"
    assert "別のLINEアカウントで本人確認に使われています" in again.text
    told = taro.text()
    assert "別のLINEアカウントで本人確認に使われているため" in told
    assert "お心当たりがない場合は、登録先の自治体にお問い合わせください" in told  # a next step
    assert "ヘルプ" in taro.labels()
    _, verification, _ = identity_rows(db, taro)
    assert verification is None
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(IdentityVerification)) == 1


def test_two_demo_testers_choosing_the_same_persona_hold_two_cards(app, client, line, chat, db):
    verify_in_chat(chat, "adult")
    taro = Chat(app, client, line, name="太郎")
    taro.follow()
    verify_in_chat(taro, "adult")
    verify_in_chat(taro, "renewed_card")
    assert "マイナンバーカードで本人確認ができました" in taro.text()
    subjects = {identity_rows(db, someone)[1].subject for someone in (chat, taro)}
    assert len(subjects) == 2


def test_cancelling_at_the_provider_says_so_and_offers_to_try_again(app, chat, db):
    page = walkthrough.verify(verification_uri(chat), "cancel")
    assert (page.status, page.outcome) == (200, "cancelled")
    assert "本人確認を中止しました" in page.text and "もう一度試す" in page.text
    assert "本人確認を中止しました" in heard(app, chat)
    assert "本人確認" in chat.labels()

    again = walkthrough.try_again(page, "adult")
    assert again.outcome == "confirm_in_chat"
    chat.say(typed_text(again))
    assert "マイナンバーカードで本人確認ができました" in chat.text()
    refused = page.browser.submit(page, page.form("retry"))  # the same button twice
    assert refused.status == 410 and "期限切れ" in refused.text


def test_a_provider_error_is_explained(app, chat, db):
    page = walkthrough.verify(verification_uri(chat), "error")
    assert page.outcome == "provider_error"
    assert "デジタル認証アプリとのやりとりで問題が起きました" in page.text
    assert "本人確認ができませんでした" in heard(app, chat)
    assert identity_rows(db, chat)[1] is None


def test_a_minor_needs_a_guardian_who_consents_with_their_own_card(app, chat, db):
    verify_in_chat(chat, "age17")
    told = chat.text()
    assert "保護者の同意が必要です" in told
    [guardian_link] = walkthrough.links_in(told)
    assert "/identity/guardian/" in guardian_link
    assert guardian_link + "?openExternalBrowser=1" in told  # the guardian's default browser
    [share] = [a["uri"] for m in chat.last for a in actions_of(m) if a["type"] == "uri"]
    assert share.startswith("https://line.me/R/share?text=")  # LINE's own share screen
    assert quote(guardian_link, safe="") in share
    assert status_of(db, chat).minor and not status_of(db, chat).guardian_consented
    _, verification, _ = identity_rows(db, chat)
    assert verification.address_entity_id is not None
    assert identity_rows(db, chat)[0] == FUCHU_TOKYO

    consent = walkthrough.Browser().get(guardian_link)
    assert "鈴木 さくらさんは18歳未満のため" in consent.text
    done = walkthrough.consent_as_guardian(guardian_link, "parent", "親権者")
    assert done.outcome == "guardian_consented" and "同意を受け付けました" in done.text
    assert "保護者の方の同意が届きました" in heard(app, chat)
    assert [a["text"] for m in chat.last for a in actions_of(m)] == ["プレミアム登録"]

    _, verification, consent_row = identity_rows(db, chat)
    assert consent_row.relationship_to_minor == "parent"
    assert consent_row.subject != verification.subject
    status = status_of(db, chat)
    assert (status.verified, status.minor, status.guardian_consented) == (True, True, True)
    again = walkthrough.Browser().get(guardian_link)
    assert again.status == 410 and "すでに使われています" in again.text


@pytest.mark.parametrize("persona, outcome, text", [
    ("age14", "guardian_is_minor", "保護者の方は18歳以上の必要があります"),
    ("age17", "guardian_is_self", "ご本人のカードでは同意できません"),
])
def test_the_guardian_must_be_another_adult(app, chat, db, persona, outcome, text):
    verify_in_chat(chat, "age17")
    [link] = walkthrough.links_in(chat.text())
    page = walkthrough.consent_as_guardian(link, persona, "その他")
    assert page.outcome == outcome and text in page.text
    assert identity_rows(db, chat)[2] is None
    assert heard(app, chat) == ""  # the minor hears only of a consent
    assert walkthrough.try_again(page, "parent").outcome == "guardian_consented"


def test_the_guardian_must_state_the_relationship_and_consent(app, chat, db):
    verify_in_chat(chat, "age17")
    [link] = walkthrough.links_in(chat.text())
    browser = walkthrough.Browser()
    page = browser.get(link)
    back = line.chat_link(app.config["LINE_BOT_BASIC_ID"])
    assert back in page.links  # a guardian who will not consent can go back to LINE
    refused = browser.submit(page, page.form("consent"), relationship="parent")  # not ticked
    assert refused.status == 400 and "同意のチェックを入れてください" in refused.text
    assert walkthrough.consent_as_guardian(link, "parent", "未成年後見人").outcome \
        == "guardian_consented"
    assert identity_rows(db, chat)[2].relationship_to_minor == "legal_guardian"


def test_the_guardians_page_says_what_is_missing_in_the_minors_language(app, chat):
    chat.say("English")
    verify_in_chat(chat, "age17")
    [link] = walkthrough.links_in(chat.text())
    browser = walkthrough.Browser()
    page = browser.get(link)
    refused = browser.submit(page, page.form("consent"), relationship="parent")  # not ticked
    assert refused.status == 400 and "tick the consent box" in refused.text
    assert "同意のチェック" not in refused.text


def test_the_command_gives_a_minor_a_fresh_guardian_link(app, chat):
    verify_in_chat(chat, "age17")
    chat.say("本人確認")
    assert "保護者の同意：まだです" in chat.text()
    assert "保護者の同意リンク" in chat.labels()


# Links and tickets ------------------------------------------------------------------------------

def ticket_link(app, db, chat, issued_at):
    with db.transaction() as session:
        signed = handoff.issue(session, people.find(session, chat.user_id),
                               VerificationPurpose.SELF, issued_at, app.config)
        return handoff.ticket_url(app.config, signed)


def test_an_expired_link_is_a_polite_410(app, client, chat, db):
    link = ticket_link(app, db, chat, datetime.now(UTC) - timedelta(minutes=31))
    response = client.get(link)
    assert response.status_code == 410 and "このリンクは期限切れです" in response.text
    assert "「本人確認」と送ると、新しいリンクが届きます" in response.text
    assert client.post(link).status_code == 410


def test_a_used_link_is_a_polite_410(app, client, chat):
    link = verification_uri(chat)
    browser = walkthrough.Browser()
    consent = browser.get(link)
    assert browser.submit(consent, consent.form("consent")).url.startswith(
        app.config["PUBLIC_BASE_URL"] + "/_dev/idp/")
    assert browser.get(link).status == 410
    second = browser.submit(consent, consent.form("consent"))
    assert second.status == 410 and "すでに使われています" in second.text


def guardian_ticket_link(app, db, chat, issued_at):
    with db.transaction() as session:
        signed = handoff.issue(session, people.find(session, chat.user_id),
                               VerificationPurpose.GUARDIAN, issued_at, app.config)
        return handoff.ticket_url(app.config, signed, VerificationPurpose.GUARDIAN)


def test_a_guardian_with_a_used_or_expired_link_is_sent_to_the_child(app, client, chat, db):
    verify_in_chat(chat, "age17")
    [link] = walkthrough.links_in(chat.text())
    walkthrough.consent_as_guardian(link, "parent", "親権者")
    used = walkthrough.Browser().get(link)
    assert used.status == 410
    assert "このリンクを送ってくれたお子さまに、新しいリンクを送ってもらってください" in used.text
    assert "「本人確認」と送" not in used.text  # only the child can send that
    expired = client.get(guardian_ticket_link(app, db, chat, datetime.now(UTC) - timedelta(hours=73)))
    assert expired.status_code == 410 and "お子さまに、新しいリンクを" in expired.text


@pytest.mark.parametrize("tamper", [lambda s: s[:-2] + ("AA" if not s.endswith("AA") else "BB"),
                                    lambda s: "x" + s, lambda s: "nonsense"])
def test_a_tampered_link_is_a_polite_404(app, client, chat, db, tamper):
    link = verification_uri(chat).split("?")[0]
    base, signed = link.rsplit("/", 1)
    response = client.get(f"{base}/{tamper(signed)}")
    assert response.status_code == 404 and "このリンクは正しくありません" in response.text
    assert response.headers["Cache-Control"] == "no-store"
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(VerificationAttempt)) == 0


def test_the_callback_answers_once_and_unknown_states_politely(app, client, chat, db):
    browser = walkthrough.Browser()
    consent = browser.get(verification_uri(chat))
    picker = browser.submit(consent, consent.form("consent"))
    form = picker.form("persona-form")
    # The provider's redirect, captured instead of followed, then replayed.
    response = browser.http.request("POST", picker.url, redirect=False, fields={
        **form.fields, "persona": "adult", "pin": walkthrough.SANDBOX_PIN}, encode_multipart=False)
    callback = response.headers["Location"]
    assert browser.get(callback).outcome == "confirm_in_chat"
    replay = browser.get(callback)  # the code is shown once
    assert replay.outcome == "awaiting_chat" and "すでに終わっています" in replay.text
    with db.transaction() as session:
        attempt = session.scalars(select(VerificationAttempt)).one()
        assert attempt.code_verifier is None and attempt.outcome == "awaiting_chat"
    unknown = client.get("/identity/callback?code=x&state=unknown")
    assert unknown.status_code == 400 and "正しくありません" in unknown.text
    assert client.get("/identity/callback").status_code == 400


@pytest.mark.parametrize("state", ["%00", "a%00b", "%E3%81%82", "a" * 65])
def test_a_state_that_cannot_be_ours_is_refused_not_looked_up(client, state):
    callback = client.get(f"/identity/callback?code=x&state={state}")
    assert callback.status_code == 400 and "正しくありません" in callback.text
    assert client.post("/identity/retry", data={"state": state.replace("%00", "\x00")}
                       ).status_code == 410


def test_an_attempt_left_too_long_expires(app, client, chat, db):
    browser = walkthrough.Browser()
    consent = browser.get(verification_uri(chat))
    picker = browser.submit(consent, consent.form("consent"))
    with db.transaction() as session:
        attempt = session.scalars(select(VerificationAttempt)).one()
        attempt.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    page = walkthrough.sign_in(browser, picker, "adult")
    assert page.status == 410 and "この手続きは期限切れです" in page.text
    assert identity_rows(db, chat)[1] is None


# LIFF ------------------------------------------------------------------------------------------

@pytest.fixture
def liff(app):
    app.config["IDENTITY_LIFF_ID"] = LIFF_ID
    return app


def test_with_liff_the_button_opens_the_liff_app(liff, chat):
    assert verification_uri(chat) == f"https://liff.line.me/{LIFF_ID}"


def test_the_liff_page_starts_liff_with_its_id(liff, client):
    response = client.get("/identity/liff")
    assert response.status_code == 200 and f'data-liff-id="{LIFF_ID}"' in response.text


def test_the_liff_page_verifies_the_person_line_says_it_is(liff, client, line, chat, db):
    id_token = line.issue_id_token(chat.user_id, LIFF_ID.split("-")[0])
    browser = walkthrough.Browser()
    browser.get(liff.live_url + "/identity/liff")
    response = browser.post_json(liff.live_url + "/identity/liff/begin", {"idToken": id_token})
    assert response.status == 200, response.text
    location = json.loads(response.text)["location"]
    page = walkthrough.sign_in(browser, browser.get(location), "adult")
    assert page.outcome == "verified"
    assert identity_rows(db, chat)[1].name == "山田 太郎"


@pytest.mark.parametrize("body, status", [({"idToken": "a.b.c"}, 401), ({}, 400), (None, 400)])
def test_the_liff_endpoint_refuses_what_line_does_not_vouch_for(liff, client, body, status):
    response = client.post("/identity/liff/begin", json=body)
    assert response.status_code == status and response.json["error"]


def test_json_nested_too_deep_for_the_decoder_is_a_400(liff, client):
    response = client.post("/identity/liff/begin", data="[" * 50_000 + "]" * 50_000,
                           content_type="application/json")
    assert response.status_code == 400 and response.json["error"]


def test_an_id_token_of_another_channel_is_refused(liff, client, line, chat):
    id_token = line.issue_id_token(chat.user_id, "9999999999")
    assert client.post("/identity/liff/begin", json={"idToken": id_token}).status_code == 401


def test_someone_who_does_not_follow_is_asked_to_add_the_account(liff, client, line):
    line.add_user("U" + "0" * 32, "誰か")
    id_token = line.issue_id_token("U" + "0" * 32, LIFF_ID.split("-")[0])
    response = client.post("/identity/liff/begin", json={"idToken": id_token})
    assert response.status_code == 403 and "友だち追加" in response.json["detail"]


def test_line_being_down_is_a_503(liff, client, line, chat):
    id_token = line.issue_id_token(chat.user_id, LIFF_ID.split("-")[0])
    line.inject("verify", 500)
    assert client.post("/identity/liff/begin", json={"idToken": id_token}).status_code == 503


# Address → municipality (R9) --------------------------------------------------------------------

@pytest.mark.parametrize("address, code", [
    ("徳島県名西郡神山町神領字本野間１００番地", "363421"),
    ("福島県郡山市朝日一丁目２３番７号", "072036"),
    ("北海道札幌市中央区北１条西２丁目", "011002"),
    ("東京都府中市宮西町２丁目２４番地", "132063"),
    ("広島県府中市府川町３１５", "342084"),
    ("東京都 千代田区 永田町１丁目", "131016"),
    ("山口県大島郡周防大島町大字小松", "353051"),
    # District names holding 市, 町, 村 or 区 themselves.
    ("北海道余市郡余市町黒川町１９丁目", "014087"),
    ("奈良県高市郡明日香村大字岡５５", "294021"),
    ("福島県田村郡三春町大字三春字大町１番地の２", "075213"),
    ("山形県西村山郡河北町谷地戊８１", "063215"),
    ("山形県東村山郡山辺町緑ケ丘５番地", "063011"),
    ("北海道札幌市北区北３１条西４丁目", "011002"),  # a designated city's ward: the city
    ("どこか遠くの町", None),
    ("", None),
])
def test_an_address_finds_its_municipality(db, address, code):
    with db.transaction() as session:
        found = municipality_for(session, address)
        assert (found.code if found else None) == code


def test_guardian_consents_are_unique_per_minor(app, chat, db):
    verify_in_chat(chat, "age17")
    [link] = walkthrough.links_in(chat.text())
    walkthrough.consent_as_guardian(link, "parent", "親権者")
    chat.say("本人確認")
    second = [a["uri"] for m in chat.last for a in actions_of(m) if a["type"] == "uri"]
    assert len(second) == 1  # consented: no guardian link any more
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(GuardianConsent)) == 1


# A new home where the person already holds premium (R5) -----------------------------------------

def test_verifying_into_a_home_held_as_premium_says_it_cannot_be_renewed(app, chat, db, join):
    join(KAMIYAMA, TOKUSHIMA)
    register_by_name(chat, "神山")
    chat.say("キャンセル")  # leaves the survey; the registration stays
    now = datetime.now(UTC)
    with db.transaction() as session:  # premium granted while the person lived elsewhere
        registration = session.scalar(select(Registration).join(Registration.entity).where(
            Entity.code == KAMIYAMA, Registration.status == "active"))
        registration.kind, registration.premium_origin = "premium", "direct"
        registration.premium_since, registration.premium_until = now, now + timedelta(days=365)
    notice = ("神山町（徳島県）のプレミアム登録は有効期限まで続きますが、"
              "お住まいの市区町村のため、更新はできません")

    verify_in_chat(chat, "adult")
    assert notice in chat.text()
    assert identity_rows(db, chat)[0] == KAMIYAMA
    assert held(db, chat)[KAMIYAMA][0] == "premium"  # nothing changes before it expires


def test_no_word_of_premium_at_home_without_premium_there(app, chat):
    page = verify_in_chat(chat, "adult")
    assert "本人確認ができました" in chat.text() and "更新はできません" not in chat.text()
    assert "更新はできません" not in page.browser.get(page.url).text
