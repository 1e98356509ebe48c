"""Help, cancel, stale and foreign buttons at every step; the conversation tables."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

import pytest

from bot.codes.checkin_codes import text_for
from bot.domain import monitor_surveys as rules
from bot.domain.audience import Audience
from bot.services import entities, monitor_surveys
from conversations.checkin.states import CheckInState
from conversations.monitor.states import StartAnswering
from conversations.my_registrations.states import MyRegistrationsState
from conversations.postback import MAX_DATA_LENGTH, pack, unpack
from conversations.premium.states import PremiumState
from conversations.premium_review.states import ReviewState
from conversations.registration.states import PickEntity, RegistrationState
from conversations.residence.states import ResidenceState
from conversations.router import ROUTER
from tests.factories import KAMIYAMA, TOKUSHIMA, Chat, actions_of, held, make_staff, open_activity, verify

# How to reach each state of every conversation from a fresh chat.
PATHS = {
    "registration.search": [("say", "登録する")],
    "registration.confirm": [("say", "登録する"), ("say", "神山")],
    "registration.relationship": [("say", "登録する"), ("say", "神山"), ("tap", "登録する")],
    "registration.frequency": [("say", "登録する"), ("say", "神山"), ("tap", "登録する"),
                               ("tap", "スキップ")],
    "registration.helping": [("say", "登録する"), ("say", "神山"), ("tap", "登録する"),
                             ("tap", "スキップ"), ("tap", "スキップ")],
    "residence.search": [("say", "設定"), ("tap", "お住まいを変更")],
    "mine.confirm_leave": [("say", "登録する"), ("say", "神山"), ("tap", "登録する"),
                           ("say", "登録状況"), ("tap", "登録をやめる")],
    "mine.confirm_delete": [("say", "登録する"), ("say", "神山"), ("tap", "登録する"),
                            ("say", "登録状況"), ("tap", "すべてのデータを削除")],
}
STAFF = [("invite", "363421"), ("say", "活動を作る")]
PATHS.update({
    "staff.title": STAFF,
    "staff.category": STAFF + [("say", "草刈り")],
    "staff.designated": STAFF + [("say", "草刈り"), ("tap", "ボランティア")],
    "staff.day": STAFF + [("say", "草刈り"), ("tap", "ボランティア"), ("tap", "指定する")],
})
PATHS["staff.start"] = PATHS["staff.day"] + [("say", "2099-12-24")]
PATHS["staff.end"] = PATHS["staff.start"] + [("say", "10:00")]
PATHS["staff.place"] = PATHS["staff.end"] + [("say", "12:00")]
PATHS["staff.kind"] = PATHS["staff.place"] + [("say", "棚田")]
PATHS["staff.more"] = PATHS["staff.kind"] + [("tap", "印刷用")]
PATHS["staff.confirm"] = PATHS["staff.more"] + [("tap", "日程はこれで全部")]
PATHS["staff.finish"] = [("invite", "363421"), ("activity", "363421"), ("say", "活動一覧"),
                         ("tap", "締め切る")]
PATHS["checkin.register"] = [("activity", "363421"), ("checkin", None)]
SURVEY = [("invite", "363421"), ("say", "アンケートを作る")]
NEWS = [("say", "神山"), ("tap", "登録する"), ("say", "キャンセル"),  # one registrant: themself
        ("invite", "363421"), ("say", "お知らせを送る")]
PATHS["news.text"] = NEWS
PATHS["news.extra"] = NEWS + [("say", "秋祭りのお知らせ")]
PATHS["news.audience"] = PATHS["news.extra"] + [("tap", "なし")]
PATHS["news.relationships"] = PATHS["news.audience"] + [("tap", "つながりで絞る")]
PATHS["news.prefectures"] = PATHS["news.audience"] + [("tap", "お住まいで絞る")]
PATHS["news.preview"] = PATHS["news.audience"] + [("tap", "登録者全員")]
PATHS["news.when"] = PATHS["news.preview"] + [("tap", "日時を指定")]
PATHS["monitor.title"] = SURVEY
PATHS["monitor.kind"] = SURVEY + [("say", "移住について")]
PATHS["monitor.question"] = PATHS["monitor.kind"] + [("tap", "単一選択")]
PATHS["monitor.choices"] = PATHS["monitor.question"] + [("say", "移住に関心がありますか？")]
PATHS["monitor.more"] = PATHS["monitor.choices"] + [("say", "はい\nいいえ")]
PATHS["monitor.preview"] = PATHS["monitor.more"] + [("tap", "完成")]
PATHS["monitor.audience"] = PATHS["monitor.preview"] + [("tap", "送る")]
PATHS["monitor.ties"] = PATHS["monitor.audience"] + [("tap", "つながりで絞る")]
PATHS["monitor.prefectures"] = PATHS["monitor.audience"] + [("tap", "お住まいで絞る")]
PATHS["monitor.confirm"] = PATHS["monitor.audience"] + [("tap", "登録者全員")]
PATHS["monitor.close"] = [("invite", "363421"), ("survey", "363421"), ("say", "アンケート一覧"),
                          ("tap", "締め切る")]
ANSWER = [("say", "登録する"), ("say", "神山"), ("tap", "登録する"), ("say", "キャンセル"),
          ("survey", "363421"), ("answer", None)]
PATHS["monitor_answer.choice"] = ANSWER
PATHS["monitor_answer.multiple"] = ANSWER + [("tap", "はい")]
PATHS["monitor_answer.text"] = PATHS["monitor_answer.multiple"] + [("tap", "スキップ"), ("tap", "3")]
MEASURE = [("admin", "363421"), ("say", "施策管理"), ("tap", "施策を追加")]
PATHS["measures.title"] = MEASURE
PATHS["measures.category"] = MEASURE + [("say", "交通費補助")]
PATHS["measures.description"] = PATHS["measures.category"] + [("tap", "交通費の支援")]
PATHS["measures.how"] = PATHS["measures.description"] + [("say", "半額を補助します")]
PATHS["measures.confirm"] = PATHS["measures.how"] + [("say", "窓口で登録証を見せてください")]
SAVED_MEASURE = PATHS["measures.confirm"] + [("tap", "登録する"), ("say", "施策管理")]
PATHS["measures.edit_field"] = SAVED_MEASURE + [("tap", "編集する")]
PATHS["measures.edit_value"] = PATHS["measures.edit_field"] + [("tap", "説明")]
PATHS["measures.edit_category"] = PATHS["measures.edit_field"] + [("tap", "種類")]
PATHS["measures.retire"] = SAVED_MEASURE + [("tap", "終了する")]

READY = [("say", "神山"), ("tap", "登録する"), ("say", "キャンセル"),  # registered, 1 of 1, verified
         ("run", "entities set 363421 --required-activities 1"), ("activity", "363421"),
         ("checkin", None), ("verified", None)]
PATHS["premium.choose"] = READY + [("say", "プレミアム登録")]
PATHS["premium.confirm"] = PATHS["premium.choose"] + [("tap", "神山町（徳島県）")]
PATHS["premium.confirm_give_up"] = PATHS["premium.confirm"] + [
    ("tap", "申し込む"), ("say", "登録状況"), ("tap", "プレミアムをやめる")]
PATHS["premium_review.reason"] = [  # staff never decide their own request: another applies
    ("run", "entities set 363421 --renewal-mode manual"),
    ("someone", PATHS["premium.confirm"] + [("tap", "申し込む")]),
    ("invite", "363421"), ("say", "審査"), ("tap", "却下する")]


def test_every_state_has_a_way_to_reach_it_in_these_tests():
    assert set(PATHS) == set(ROUTER.states)


@pytest.mark.parametrize("states", [RegistrationState, ResidenceState, CheckInState,
                                    MyRegistrationsState, PremiumState, ReviewState])
def test_every_state_of_a_step_is_in_the_table(states):
    assert {state.value for state in states} <= set(ROUTER.states)


def open_survey(app, code: str) -> int:
    """An open survey of `code` with a question of each kind; returns its ID."""
    with app.extensions["db"].transaction() as session:
        survey = monitor_surveys.create(session, entities.by_code(session, code), "アンケート", [
            rules.Question(rules.Kind.SINGLE, "関心は？", ("はい", "いいえ")),
            rules.Question(rules.Kind.MULTIPLE, "どれを？", ("農業", "漁業", "林業")),
            rules.Question(rules.Kind.RATING, "満足度は？"),
            rules.Question(rules.Kind.TEXT, "ご意見は？")], datetime.now(UTC))
        monitor_surveys.open_survey(survey, Audience(), datetime.now(UTC))
        return survey.id


def walk(chat, path, runner):
    token = survey_id = None
    for verb, value in path:
        if verb == "invite":
            make_staff(runner, chat, value)
        elif verb == "admin":
            make_staff(runner, chat, value, "admin")
        elif verb == "run":
            result = runner.invoke(args=value.split())
            assert result.exit_code == 0, result.output
        elif verb == "verified":
            verify(runner.app.extensions["db"], chat)
        elif verb == "activity":
            _activity, _session, token = open_activity(runner.app, value)
        elif verb == "checkin":
            chat.say(text_for(token))
        elif verb == "survey":
            survey_id = open_survey(runner.app, value)
        elif verb == "answer":
            chat.postback(pack(StartAnswering(survey_id)))
        elif verb == "someone":  # another person walks `value` in their own chat
            other = Chat(chat.app, chat.client, chat.line, "ほかの人")
            other.follow()
            walk(other, value, runner)
        else:
            getattr(chat, verb)(value)


@pytest.mark.parametrize("state", sorted(PATHS))
def test_help_at_every_step_says_where_you_are_and_keeps_you_there(chat, join, runner, state):
    join(KAMIYAMA, TOKUSHIMA)
    walk(chat, PATHS[state], runner)
    asked = chat.labels()
    chat.say("ヘルプ")
    assert "できること" in chat.text()
    assert chat.labels()[-len(asked):] == asked  # the same question again


@pytest.mark.parametrize("state", sorted(PATHS))
def test_cancel_at_every_step(chat, join, runner, state):
    join(KAMIYAMA, TOKUSHIMA)
    walk(chat, PATHS[state], runner)
    chat.say("キャンセル")
    assert "操作をやめました" in chat.text()
    chat.say("ヘルプ")
    assert "できること" in chat.text()


@pytest.mark.parametrize("state", sorted(PATHS))
def test_unexpected_input_at_every_step_is_answered_with_where_you_are(chat, join, runner, state):
    join(KAMIYAMA, TOKUSHIMA)
    walk(chat, PATHS[state], runner)
    typed_is_unexpected = not state.startswith(("registration.", "monitor_answer.")) \
        or state == "registration.search"
    chat.say("🙂🙂🙂") if typed_is_unexpected else chat.location(0.0, 0.0)
    assert chat.last, "never silence"
    assert chat.labels(), "always a way on"


def test_an_old_button_after_cancel_is_answered_politely(chat, db, join):
    join(KAMIYAMA)
    chat.say("登録する")
    chat.say("神山")
    confirm = chat.last
    chat.say("キャンセル")
    chat.tap("登録する", confirm)
    assert "以前のやりとり" in chat.text()
    assert held(db, chat) == {}


def test_tapping_confirm_twice_registers_once(chat, db, join):
    join(KAMIYAMA)
    chat.say("登録する")
    chat.say("神山")
    confirm = chat.last
    chat.tap("登録する", confirm)
    chat.tap("登録する", confirm)
    assert "つながり" in chat.text()  # asked the current question again
    assert len(held(db, chat)) == 1


@pytest.mark.parametrize("data", ["", "evil", "reg.pick", "reg.pick?code=1", "mine.leave?id=abc",
                                  "x" * 300, "reg.yes?code=363421&t=forged"])
def test_foreign_or_tampered_postbacks_are_answered_politely(chat, db, join, data):
    join(KAMIYAMA)
    chat.postback(data)
    assert chat.last and chat.labels()
    assert held(db, chat) == {}


@pytest.mark.parametrize("data", ["mine.leave?id=--1", "mine.leave?id=%C2%B2", "mine.leave?id=-1",
                                  "mine.leave?id=2147483648", "ans.start?id=%EF%BC%91",
                                  "reg.pick?code=%00&t=x", "mine.leave?id=1\x00"])
def test_numbers_and_text_we_never_pack_are_an_old_button_not_an_error(chat, db, join, data,
                                                                          caplog):
    join(KAMIYAMA)
    before = held(db, chat)
    chat.postback(data)
    assert "このボタンは使えません" in chat.text()  # not the apology for a failure
    assert held(db, chat) == before
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_a_pick_of_a_code_never_offered_leaves_the_buttons_on_screen_working(chat, db, join):
    join(KAMIYAMA)
    chat.say("神山")
    confirm = chat.last
    token = next(re.search(r"[?&]t=([^&]+)", action["data"]).group(1)
                 for message in confirm for action in actions_of(message)
                 if "t=" in action.get("data", ""))
    chat.postback(f"reg.pick?code=999999&t={token}")
    assert "登録する" in chat.labels()  # the same question again
    chat.tap("登録する", confirm)
    assert KAMIYAMA in held(db, chat)


def test_unpack_reads_only_the_numbers_pack_writes():
    assert unpack(pack(StartAnswering(id=2147483647))) == StartAnswering(id=2147483647)
    for raw in ("", "-1", "--1", "+1", " 1", "1.0", "²", "１", "2147483648", "1" * 13):
        assert unpack(f"ans.start?id={raw}") is None, raw


def test_postback_data_round_trips_and_keeps_lines_limit():
    data = PickEntity(code="363421", t="abc")
    assert unpack(pack(data)) == data
    with pytest.raises(ValueError):
        pack(PickEntity(code="x" * MAX_DATA_LENGTH, t="abc"))

