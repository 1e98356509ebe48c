"""A verification whose callback reaches another browser than the one that consented — as on a
phone, where the デジタル認証アプリ returns to the default browser, not to LINE's — is finished
by the code that browser shows, sent in the person's own chat; nothing is recorded before."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.identity import confirmation
from bot.services import people, registry
from bot.store.models import VerificationAttempt
from cli import walkthrough
from jobs import run_job
from tests.factories import (
    KAMIYAMA,
    Chat,
    actions_of,
    heard,
    identity_rows,
    typed_text,
    verification_uri,
    verify_in_chat,
)


def finish_elsewhere(chat, persona: str = "adult") -> walkthrough.Page:
    """Consent in LINE's in-app browser; the provider sends the phone's default browser back."""
    return walkthrough.verify(verification_uri(chat), persona, elsewhere=True)


def the_attempt(db) -> VerificationAttempt:
    with db.transaction() as session:
        return session.scalars(select(VerificationAttempt)).one()


def test_the_code_sent_in_the_chat_records_the_verification(app, chat, db):
    page = finish_elsewhere(chat)
    assert (page.status, page.outcome) == (200, "confirm_in_chat")
    assert "LINEの「花子」さんのトーク" in page.text
    assert "ご自分のLINEアカウントでなければ" in page.text
    typed = typed_text(page)
    code = confirmation.find_code(typed)
    assert typed == f"本人確認コード {code}" and confirmation.shown(code) in page.text

    # Nothing is recorded yet; what waits is what R13 keeps, never the address or the code.
    assert identity_rows(db, chat)[1] is None
    attempt = the_attempt(db)
    assert attempt.outcome == "awaiting_chat" and attempt.code_verifier is None
    assert set(attempt.pending_result) == {"provider", "subject", "assurance_level", "name",
                                           "birth_date", "municipality_id"}
    assert code not in str(attempt.pending_result) and code not in attempt.confirmation_digest
    assert "山田" not in page.text and "1990" not in page.text  # the card stays off the page
    assert heard(app, chat) == ""  # nothing is pushed: the page's button opens the chat

    chat.say(typed)
    assert "マイナンバーカードで本人確認ができました" in chat.text()
    assert "お住まいを神山町（徳島県）として登録しました" in chat.text()
    residence, verification, _ = identity_rows(db, chat)
    assert verification.name == "山田 太郎" and residence == KAMIYAMA
    attempt = the_attempt(db)
    assert (attempt.outcome, attempt.pending_result, attempt.confirmation_digest) == \
        ("verified", None, None)

    chat.say(typed)  # once only
    assert "コードを待っている本人確認はありません" in chat.text()


def test_the_code_typed_by_hand_with_full_width_digits_works(app, chat, db):
    code = confirmation.find_code(typed_text(finish_elsewhere(chat)))
    chat.say("本人確認コード：" + confirmation.shown(code).translate(
        str.maketrans("0123456789", "０１２３４５６７８９")))
    assert "マイナンバーカードで本人確認ができました" in chat.text()


def test_a_minor_confirming_in_the_chat_gets_the_guardian_link(app, chat, db):
    chat.say(typed_text(finish_elsewhere(chat, "age17")))
    assert "保護者の同意が必要です" in chat.text()
    assert walkthrough.links_in(chat.text())


def test_wrong_codes_are_counted_and_the_fifth_drops_what_was_held(app, chat, db):
    right = confirmation.find_code(typed_text(finish_elsewhere(chat)))
    wrong = f"{(int(right) + 1) % 10 ** 6:06d}"
    for left in (4, 3, 2, 1):
        chat.say(f"本人確認コード {wrong}")
        assert "本人確認コードが違います" in chat.text() and f"あと{left}回" in chat.text()
    chat.say(f"本人確認コード {wrong}")
    assert "今回の本人確認は取り消し、確認した内容は破棄しました" in chat.text()
    assert "本人確認" in chat.labels()
    chat.say(f"本人確認コード {right}")  # too late: nothing is held any more
    assert "コードを待っている本人確認はありません" in chat.text()
    attempt = the_attempt(db)
    assert (attempt.outcome, attempt.pending_result) == ("wrong_code", None)
    assert identity_rows(db, chat)[1] is None


def test_the_code_in_another_persons_chat_records_nothing(app, client, line, chat, db):
    """The victim of a link sent by someone else sees the code; only that someone's chat
    could use it, and the victim's own chat cannot."""
    typed = typed_text(finish_elsewhere(chat))
    victim = Chat(app, client, line, name="被害者")
    victim.follow()
    victim.say(typed)
    assert "コードを待っている本人確認はありません" in victim.text()
    assert the_attempt(db).outcome == "awaiting_chat" and identity_rows(db, victim)[1] is None


def test_after_ten_minutes_the_code_is_refused_and_the_clean_up_drops_what_waited(app, chat, db):
    typed = typed_text(finish_elsewhere(chat))
    with db.transaction() as session:
        session.execute(update(VerificationAttempt).values(
            confirm_by=datetime.now(UTC) - timedelta(seconds=1)))
    chat.say(typed)
    assert "有効期限が過ぎたため、確認した内容は破棄しました" in chat.text()
    assert (the_attempt(db).outcome, the_attempt(db).pending_result) == ("expired", None)
    assert identity_rows(db, chat)[1] is None

    # Nobody sends the code: the hourly clean-up drops it once its time is over.
    with db.transaction() as session:
        session.execute(update(VerificationAttempt).values(outcome="awaiting_chat",
                                                           pending_result={"subject": "x"}))
    now = datetime.now(UTC)
    assert run_job(app, "cleanup", now, dry_run=True).counts.get(
        "unconfirmed verifications dropped") == 1
    assert the_attempt(db).pending_result == {"subject": "x"}  # a dry run changes nothing
    run_job(app, "cleanup", now)
    attempt = the_attempt(db)
    assert (attempt.outcome, attempt.pending_result, attempt.confirmation_digest) == \
        ("expired", None, None)


def test_a_code_still_in_time_is_kept_by_the_clean_up(app, chat, db):
    finish_elsewhere(chat)
    run_job(app, "cleanup", datetime.now(UTC))
    assert the_attempt(db).pending_result is not None


def test_a_cancel_in_another_browser_changes_nothing_and_says_how_to_start_again(app, chat, db):
    page = finish_elsewhere(chat, "cancel")
    assert (page.status, page.outcome) == (403, "unbound")
    assert "「本人確認」と送り" in page.text
    attempt = the_attempt(db)
    assert attempt.finished_at is None and attempt.outcome is None


def test_an_english_speaker_is_told_in_english_and_the_english_code_text_works(
        app, client, line, db):
    chat = Chat(app, client, line, name="Ann", language="en")
    chat.follow()
    chat.say("Verify identity")
    [link] = [a["uri"] for m in chat.last for a in actions_of(m) if a["type"] == "uri"]
    page = walkthrough.verify(link, "adult", "en", elsewhere=True)
    assert "One more step: send the code in LINE" in page.text
    assert 'the chat of "Ann" on LINE' in page.text
    typed = typed_text(page)
    assert typed.startswith("Verification code ")
    wrong = f"{(int(confirmation.find_code(typed)) + 1) % 10 ** 6:06d}"
    for _ in range(4):
        chat.say(f"Verification code {wrong}")
    assert "(1 try left)" in chat.text()
    chat.say(typed)
    assert "verified" in chat.text().lower() and identity_rows(db, chat)[1] is not None


def test_the_code_page_reloaded_says_to_send_the_code_and_shows_it_no_more(app, chat, db):
    page = finish_elsewhere(chat)
    again = page.browser.get(page.url)  # phones reload a tab one comes back to
    assert (again.status, again.outcome) == (200, "awaiting_chat")
    assert "LINEのトークで本人確認コードを送ってください" in again.text
    assert confirmation.shown(confirmation.find_code(typed_text(page))) not in again.text
    assert again.links == ["https://line.me/R/oaMessage/%40furusato-demo/"]  # back, no code
    chat.say(typed_text(page))
    assert "マイナンバーカードで本人確認ができました" in chat.text()
    assert page.browser.get(page.url).outcome == "verified"


def test_the_consenting_browser_coming_back_late_is_told_to_use_the_code(app, chat, db):
    in_app = walkthrough.Browser()
    consent = in_app.get(verification_uri(chat))
    at_provider = in_app.submit(consent, consent.form("consent"))
    default = walkthrough.Browser()
    page = walkthrough.sign_in(default, default.get(at_provider.url), "adult")
    late = in_app.get(page.url)  # the same callback, in the browser that consented
    assert (late.status, late.outcome) == (200, "awaiting_chat")


def test_a_newer_verification_drops_an_older_code(app, chat, db):
    """A code held from before must not overwrite what was verified since."""
    old_code = typed_text(finish_elsewhere(chat))
    verify_in_chat(chat, "age17")
    assert "保護者の同意が必要です" in chat.text()
    chat.say(old_code)
    assert "コードを待っている本人確認はありません" in chat.text()
    assert identity_rows(db, chat)[1].birth_date.year != 1990  # still the newer card's

    first = typed_text(finish_elsewhere(chat))
    second = typed_text(finish_elsewhere(chat))  # a second page: only its code counts
    chat.say(first)
    assert "本人確認コードが違います" in chat.text()
    chat.say(second)
    assert "マイナンバーカードで本人確認ができました" in chat.text()


def test_deleting_ones_data_takes_what_waits_with_it(app, chat, db):
    typed = typed_text(finish_elsewhere(chat))
    with db.transaction() as session:
        registry.delete_person_data(session, people.find(session, chat.user_id),
                                         datetime.now(UTC))
    with db.transaction() as session:
        assert session.scalars(select(VerificationAttempt)).all() == []
    chat.follow()  # back as a new person: the old code finds nothing
    chat.say(typed)
    assert "コードを待っている本人確認はありません" in chat.text()


def test_a_code_inside_other_text_is_not_taken_for_one(app, chat, db):
    code = confirmation.find_code(typed_text(finish_elsewhere(chat)))
    chat.say(f"あなたの本人確認コード {code} です")
    assert the_attempt(db).confirmation_tries == 0
    assert confirmation.find_code(f"Your verification code: {code} (valid 5 min)") is None
    assert confirmation.find_code(f" Verification code: {code[:3]}-{code[3:]} ") == code


def test_from_the_liff_page_inside_line_the_default_browser_finishes_by_the_code(app, line, chat,
                                                                                 db):
    """LIFF pages run inside LINE, so with LIFF the return to the default browser is the rule."""
    liff_id = "1234567890-identity"
    app.config["IDENTITY_LIFF_ID"] = liff_id
    id_token = line.issue_id_token(chat.user_id, liff_id.split("-")[0])
    in_line = walkthrough.Browser()
    in_line.get(app.live_url + "/identity/liff")
    begun = in_line.post_json(app.live_url + "/identity/liff/begin", {"idToken": id_token})
    default = walkthrough.Browser()
    page = walkthrough.sign_in(default, default.get(json.loads(begun.text)["location"]), "adult")
    assert page.outcome == "confirm_in_chat"
    chat.say(typed_text(page))
    assert identity_rows(db, chat)[1].name == "山田 太郎"
