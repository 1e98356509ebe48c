"""LINE calls after a step commits (the reply, linking the staff menu): whatever LINE does, the
webhook answers 200, the change stays committed, and the failure is logged without secrets,
saying what to do. Also the calls made before the transaction (a profile, a photo)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

import handlers
from bot import line as line_api
from bot.store.models import Person, Staff
from tests.factories import Chat, photo, png, staff_invitation

#: Small, so that a test of a timeout is quick; the platform's delay is well beyond it.
TIMEOUT = 0.5
SLOW = 1.5

# Each: the faults to inject, in order, on the rich-menu endpoints (the list, then the link).
PASS = {"status": None}
FAULTS = {
    "list answers 200, richmenus not a list": [{"status": 200, "body": {"richmenus": "x"}}],
    "list answers 200, not JSON": [{"status": 200, "body": "<html>maintenance</html>"}],
    "list answers 200, menus without fields": [{"status": 200, "body": {"richmenus": [{}]}}],
    "list times out": [{"status": None, "delay": SLOW}],
    "list answers 500": [{"status": 500}],
    "link answers 500": [PASS, {"status": 500}],
    "link times out": [PASS, {"status": None, "delay": SLOW}],
}


def enrolled(db, chat) -> bool:
    with db.transaction() as session:
        return session.scalar(select(Staff).join(Person, Staff.person_id == Person.id)
                              .where(Person.line_user_id == chat.user_id)) is not None


def no_secrets_in(app, caplog) -> None:
    assert app.config["LINE_CHANNEL_ACCESS_TOKEN"] not in caplog.text
    assert "Bearer" not in caplog.text and "authorization" not in caplog.text.lower()


@pytest.mark.parametrize("faults", FAULTS.values(), ids=FAULTS.keys())
def test_linking_the_staff_menu_fails_after_the_enrolment_is_committed(app, runner, db, line,
                                                                       chat, caplog, faults):
    runner.invoke(args=["richmenu", "deploy"])
    invitation = staff_invitation(runner)
    app.config["LINE_TIMEOUT_SECONDS"] = TIMEOUT
    for fault in faults:
        line.inject("richmenu", **fault)

    chat.say(invitation)  # asserts that /callback answered 200

    assert "神山町（徳島県）の職員として登録しました" in chat.text()  # the reply went first
    assert enrolled(db, chat)
    assert line.rich_menu_for(chat.user_id) == line.default_rich_menu_id  # not linked
    [logged] = [r for r in caplog.records if "could not link the staff menu" in r.getMessage()]
    assert logged.levelno == logging.WARNING and "the change is kept" in logged.getMessage()
    assert "furusato richmenu deploy" in logged.getMessage()  # what to do about it
    assert logged.exc_info is None  # LINE's failure in a few words, not a traceback
    no_secrets_in(app, caplog)

    runner.invoke(args=["richmenu", "deploy"])  # the remedy the log names
    staff_menu = line.rich_menus[line.rich_menu_for(chat.user_id)]
    assert staff_menu["menu"]["name"] == "furusato-staff-v2"


def test_the_log_says_what_line_answered(app, runner, chat, line, caplog):
    runner.invoke(args=["richmenu", "deploy"])
    invitation = staff_invitation(runner)
    line.inject("richmenu", status=500, body={"message": "An error occurred in the server"})
    chat.say(invitation)
    assert "LINE answered 500" in caplog.text and "An error occurred in the server" in caplog.text


@pytest.mark.parametrize("fault", [
    {"status": 500}, {"status": 400, "body": {"message": "Invalid reply token"}},
    {"status": None, "delay": SLOW},
], ids=["500", "400", "timeout"])
def test_a_failed_reply_leaves_the_enrolment_and_the_menu_link(app, runner, db, line, chat,
                                                              caplog, fault):
    runner.invoke(args=["richmenu", "deploy"])
    invitation = staff_invitation(runner)
    app.config["LINE_TIMEOUT_SECONDS"] = TIMEOUT
    line.inject("reply", **fault)

    chat.say(invitation)

    assert enrolled(db, chat)
    assert line.rich_menus[line.rich_menu_for(chat.user_id)]["menu"]["name"] == "furusato-staff-v2"
    assert "reply failed" in caplog.text
    no_secrets_in(app, caplog)


def test_no_staff_menu_deployed_is_logged_with_the_remedy(runner, db, chat, line, caplog):
    chat.say(staff_invitation(runner))
    assert enrolled(db, chat)
    assert "no staff menu is deployed" in caplog.text and "furusato richmenu deploy" in caplog.text


def test_a_call_that_fails_for_a_reason_of_ours_is_logged_with_its_traceback(app, caplog):
    made = []

    def broken(gateway):
        raise ValueError("a bug of ours")

    handlers.after_commit(line_api.gateway(app), [
        line_api.AfterCommit("do the first thing", broken, "Do it by hand."),
        line_api.AfterCommit("do the second thing", made.append, "")], "event-1")

    assert made == [line_api.gateway(app)]  # the calls after a failed one are still made
    [logged] = [r for r in caplog.records if "could not do the first thing" in r.getMessage()]
    assert logged.levelno == logging.ERROR and logged.exc_info is not None
    assert "event-1" in logged.getMessage() and "Do it by hand." in logged.getMessage()


# Before the transaction: what LINE must give first -----------------------------------------------

@pytest.mark.parametrize("fault", [
    {"status": None, "delay": SLOW}, {"status": 200, "body": {"displayName": 3}},
    {"status": 200, "body": "not JSON"}, {"status": 500},
], ids=["timeout", "200 not a profile", "200 not JSON", "500"])
def test_a_profile_line_does_not_give_leaves_the_follower_unnamed(app, client, db, line, caplog,
                                                                  fault):
    app.config["LINE_TIMEOUT_SECONDS"] = TIMEOUT
    chat = Chat(app, client, line, "花子")
    line.inject("profile", **fault)

    chat.follow()  # asserts that /callback answered 200

    assert chat.last  # greeted, without the name
    with db.transaction() as session:
        person = session.scalars(select(Person)).one()
        assert person.following and person.display_name is None
    assert "profile unavailable" in caplog.text
    no_secrets_in(app, caplog)


@pytest.mark.parametrize("fault", [{"status": None, "delay": SLOW}, {"status": 500}],
                         ids=["timeout", "500"])
def test_a_photo_line_does_not_give_is_answered_as_unreadable(app, chat, line, caplog, fault):
    app.config["LINE_TIMEOUT_SECONDS"] = TIMEOUT
    line.inject("content", **fault)

    photo(chat, line, png())  # asserts that /callback answered 200

    assert "画像を読み取れませんでした" in chat.text()
    assert "photo" in caplog.text and "unavailable" in caplog.text
    no_secrets_in(app, caplog)
