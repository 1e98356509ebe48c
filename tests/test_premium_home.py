"""R5/R9: a verified address decides where the person lives; a declaration cannot move it.

Otherwise premium at one's own home municipality would be one message away: verify (the
address sets the residence), then declare another town.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.services import entities, people
from bot.store.models import IdentityVerification
from tests.factories import (
    KAMIKATSU,
    KAMIYAMA,
    TOKUSHIMA,
    held,
    registered,
    require,
    take_part,
    verification_uri,
    verify_in_chat,
)


def residence_of(db, chat) -> tuple[str | None, str | None]:
    """(declared residence, verified municipality) of the chat's person, as codes."""
    with db.transaction() as session:
        person = people.find(session, chat.user_id)
        verified = session.scalar(select(IdentityVerification.address_entity_id).where(
            IdentityVerification.person_id == person.id))
        verified_code = session.get(entities.Entity, verified).code if verified else None
        return (person.residence.code if person.residence else None), verified_code


def test_r9_a_verified_address_cannot_be_changed_by_declaring(app, db, chat, join, runner):
    join(KAMIYAMA, TOKUSHIMA, KAMIKATSU)
    registered(chat, "神山")
    verify_in_chat(chat, "adult")  # the sandbox adult lives in 神山町
    assert residence_of(db, chat) == (KAMIYAMA, KAMIYAMA)
    chat.say("設定")
    chat.tap("お住まいを変更")
    text = chat.text()
    assert "マイナンバーカードで確認した住所から神山町（徳島県）になっています" in text
    assert "もう一度「本人確認」" in text
    assert "本人確認" in chat.labels()
    chat.say("上勝")  # not a question any more: nothing is saved
    assert residence_of(db, chat) == (KAMIYAMA, KAMIYAMA)


def test_r9_a_question_left_open_before_verifying_cannot_move_the_home(
        app, db, chat, join, runner):
    join(KAMIYAMA, TOKUSHIMA, KAMIKATSU)
    registered(chat, "神山")
    link = verification_uri(chat)
    chat.say("設定")
    chat.tap("お住まいを変更")  # asked before verifying …
    verify_in_chat(chat, "adult", link)
    chat.say("上勝")  # … answered after: the verified address still decides
    if "上勝町" in chat.labels():
        chat.tap("上勝町")
    assert "マイナンバーカードで確認した住所" in chat.text()
    assert residence_of(db, chat) == (KAMIYAMA, KAMIYAMA)


def test_r5_premium_at_the_verified_home_is_refused_whatever_was_declared(
        app, db, chat, join, runner):
    join(KAMIYAMA, TOKUSHIMA, KAMIKATSU)
    registered(chat, "神山")
    require(runner, KAMIYAMA, 1)
    take_part(app, chat, KAMIYAMA)
    verify_in_chat(chat, "adult")
    with db.transaction() as session:  # a declaration left from before this rule
        person = people.find(session, chat.user_id)
        person.residence = entities.by_code(session, KAMIKATSU)
    chat.say("プレミアム登録")
    if "神山町（徳島県）" in chat.labels():
        chat.tap("神山町（徳島県）")
    assert "神山町（徳島県）はお住まいの市区町村です" in chat.text()
    assert "申し込む" not in chat.labels()
    assert held(db, chat)[KAMIYAMA][0] == "basic"
