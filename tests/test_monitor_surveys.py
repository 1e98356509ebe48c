"""Monitor surveys (R11): staff write and send them in the chat, registrants answer, staff read."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.domain import monitor_surveys as rules
from bot.domain.audience import Audience
from bot.services import downloads, monitor_surveys
from bot.services.entities import by_code
from bot.store.models import MonitorAnswer, MonitorResponse, MonitorSurvey, Person
from tests.factories import KAMIKATSU, KAMIYAMA, TOKUSHIMA, deliver, make_staff, resident, staff_member


def write_survey(chat):
    """A survey with one question of each kind, saved as a draft."""
    chat.say("アンケートを作る")
    chat.say("移住体験ツアーについて")
    chat.tap("単一選択")
    chat.say("ツアーを知っていましたか？")
    chat.say("知っていた\n知らなかった")
    chat.tap("質問を追加")
    chat.tap("複数選択")
    chat.say("興味のある体験は？")
    chat.say("農業体験\n古民家見学\n川遊び")
    chat.tap("質問を追加")
    chat.tap("5段階評価")
    chat.say("満足度を教えてください")
    chat.tap("質問を追加")
    chat.tap("自由記述")
    chat.say("ご意見をどうぞ")
    chat.tap("完成")


def send_to_everyone(chat):
    chat.tap("送る")
    chat.tap("登録者全員")
    chat.tap("今すぐ送る")


def invitation(line, chat):
    """The invitation the worker delivered to this person, as they see it in LINE."""
    return [m for d in line.deliveries(chat.user_id) if d.via == "multicast" for m in d.messages]


def answer_button(line, chat):
    chat.tap("回答する", invitation(line, chat))


def stored(db):
    with db.transaction() as session:
        return (session.scalar(select(func.count()).select_from(MonitorResponse)),
                session.scalar(select(func.count()).select_from(MonitorAnswer)))


@pytest.fixture
def sent_survey(app, client, line, runner, join):
    """神山町 sends a four-question survey to its two registrants."""
    join(KAMIYAMA, TOKUSHIMA)
    ichiro = resident(app, client, line, "一郎")
    jiro = resident(app, client, line, "二郎")
    staff_chat = staff_member(app, client, line, runner)
    write_survey(staff_chat)
    send_to_everyone(staff_chat)
    deliver(app)
    return staff_chat, ichiro, jiro


def test_staff_write_a_survey_with_every_kind_of_question_and_preview_it(app, client, line, runner, join, db):
    join(KAMIYAMA)
    resident(app, client, line, "一郎")
    staff_chat = staff_member(app, client, line, runner)
    write_survey(staff_chat)
    preview = staff_chat.text()
    assert "下書きとして保存しました" in preview
    assert "質問2（複数選択）：興味のある体験は？" in preview and "農業体験、古民家見学、川遊び" in preview
    assert "質問3（5段階評価）" in preview and "質問4（自由記述）" in preview
    staff_chat.tap("送る")
    staff_chat.tap("登録者全員")
    assert "人数：1人" in staff_chat.text() and "回答する" in staff_chat.labels()
    with db.transaction() as session:
        survey = session.scalar(select(MonitorSurvey))
        assert survey.status == "draft"
        assert [(q.position, q.kind) for q in survey.questions] == \
            [(1, "single"), (2, "multiple"), (3, "rating"), (4, "text")]
        assert survey.questions[1].choices == ["農業体験", "古民家見学", "川遊び"]
    staff_chat.tap("回答する")  # the preview's button: explained, the preview asked again
    assert "これはプレビューのボタンです" in staff_chat.text() and "人数：1人" in staff_chat.text()
    staff_chat.tap("今すぐ送る")
    assert "回答の受付を始めます" in staff_chat.text()
    with db.transaction() as session:
        assert session.scalar(select(MonitorSurvey.status)) == "open"


def test_a_button_of_a_step_this_version_no_longer_has_is_answered_politely(app, client, line, runner,
                                                                          join, db):
    join(KAMIYAMA)
    staff_chat = staff_member(app, client, line, runner)
    staff_chat.say("アンケートを作る")
    staff_chat.say("題名")
    kinds = staff_chat.last
    with db.transaction() as session:  # saved by a version that had this step
        person = session.scalar(select(Person).where(Person.line_user_id == staff_chat.user_id))
        person.conversation = "monitor.retired"
    staff_chat.tap("単一選択", kinds)
    assert staff_chat.text() and staff_chat.labels() and "質問1（単一選択）" not in staff_chat.text()
    staff_chat.say("アンケートを作る")
    assert "題名を入力してください" in staff_chat.text()


def test_choices_must_fit_buttons(app, client, line, runner, join):
    join(KAMIYAMA)
    staff_chat = staff_member(app, client, line, runner)
    staff_chat.say("アンケートを作る")
    staff_chat.say("題名")
    staff_chat.tap("単一選択")
    staff_chat.say("質問")
    staff_chat.say("ひとつだけ")
    assert "2個以上必要です" in staff_chat.text()
    staff_chat.say("\n".join(f"選択肢{i}" for i in range(11)))
    assert "10個までです" in staff_chat.text()
    staff_chat.say("短い\n" + "長" * 21)
    assert "20文字までです" in staff_chat.text()
    staff_chat.say("同じ\n同じ")
    assert "同じ選択肢が2回あります" in staff_chat.text()
    staff_chat.say("はい\nいいえ")
    assert "質問を追加" in staff_chat.labels()


@pytest.mark.parametrize("action", ["", "zzz", "%ff"])
def test_a_survey_button_we_never_made_keeps_the_draft_being_written(app, client, line, runner,
                                                                       join, action):
    join(KAMIYAMA)
    staff_chat = staff_member(app, client, line, runner)
    staff_chat.say("アンケートを作る")
    staff_chat.say("題名")
    kinds = staff_chat.last
    staff_chat.postback(f"mon.for?code={KAMIYAMA}&a={action}")
    assert "このボタンは使えません" in staff_chat.text()
    staff_chat.tap("単一選択", kinds)  # the draft goes on where it was
    staff_chat.say("質問")
    staff_chat.say("はい\nいいえ")
    assert "質問を追加" in staff_chat.labels()


def test_residents_answer_once_each_and_staff_read_the_summary(app, client, line, db, sent_survey):
    staff_chat, ichiro, jiro = sent_survey
    assert "移住体験ツアーについて" in str(invitation(line, ichiro))
    answer_button(line, ichiro)
    assert "全4問" in ichiro.text() and "質問1/4：ツアーを知っていましたか？" in ichiro.text()
    ichiro.tap("知っていた")
    ichiro.tap("農業体験")
    ichiro.tap("川遊び")
    assert "✓ 農業体験" in ichiro.labels() and "選択中：農業体験、川遊び" in ichiro.text()
    ichiro.tap("次へ")
    assert ichiro.labels()[:5] == ["1", "2", "3", "4", "5"]
    ichiro.tap("5")
    ichiro.say("とても良かったです。また参加したいです。")
    assert "ご回答ありがとうございました" in ichiro.text()
    answer_button(line, ichiro)  # answers again: stored once
    assert "すでに回答いただいています" in ichiro.text()

    answer_button(line, jiro)
    jiro.say("知らなかった")  # typed instead of tapped
    jiro.tap("スキップ")       # skips the multiple choice
    jiro.tap("3")
    jiro.say("=SUM(A1) 交通費が高い")
    assert "ご回答ありがとうございました" in jiro.text()
    assert stored(db) == (2, 7)

    staff_chat.say("アンケート一覧")
    assert "受付中・質問4問・回答2件" in staff_chat.text()
    staff_chat.tap("結果")
    summary = staff_chat.text()
    assert "回答数：2件" in summary
    assert "・知っていた：1人" in summary and "・知らなかった：1人" in summary
    assert "・農業体験：1人" in summary and "・古民家見学：0人" in summary
    assert "平均：4.0（2人）" in summary and "5：1、4：0、3：1、2：0、1：0" in summary
    assert "・「=SUM(A1) 交通費が高い」" in summary and "また参加したいです" in summary


def test_the_csv_opens_in_excel_and_names_nobody(app, client, line, db, sent_survey):
    staff_chat, ichiro, jiro = sent_survey
    answer_button(line, ichiro)
    ichiro.tap("知っていた")
    ichiro.tap("農業体験")
    ichiro.tap("川遊び")
    ichiro.tap("次へ")
    ichiro.tap("4")
    ichiro.say("=SUM(A1)")
    answer_button(line, jiro)
    for _ in range(4):
        jiro.tap("スキップ")
    staff_chat.say("アンケート一覧")
    staff_chat.tap("結果")
    link = next(word for word in staff_chat.text().split() if "/downloads/" in word)
    response = client.get(link.split(app.live_url, 1)[1])
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.data
    assert body.startswith(b"\xef\xbb\xbf") and b"\r\n" in body and b"\n" not in body.replace(b"\r\n", b"")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["回答ID", "回答日時（日本時間）", "Q1 ツアーを知っていましたか？",
                       "Q2 興味のある体験は？", "Q3 満足度を教えてください", "Q4 ご意見をどうぞ"]
    assert [row[2:] for row in rows[1:]] == [["知っていた", "農業体験／川遊び", "4", "'=SUM(A1)"],
                                              ["", "", "", ""]]
    assert rows[1][1][:2] == "20" and len(rows[1][1]) == len("2026-01-05 10:00")
    text = body.decode("utf-8-sig")
    assert ichiro.user_id not in text and jiro.user_id not in text
    assert "一郎" not in text and "二郎" not in text


def test_an_interrupted_response_resumes_after_its_last_answer(app, client, line, db, sent_survey):
    _staff, ichiro, _jiro = sent_survey
    answer_button(line, ichiro)
    ichiro.tap("知らなかった")
    ichiro.tap("スキップ")
    ichiro.tap("2")
    ichiro.say("キャンセル")
    assert stored(db) == (1, 2)
    answer_button(line, ichiro)
    assert "続きから答えます（質問4から）" in ichiro.text() and "ご意見をどうぞ" in ichiro.text()
    ichiro.say("スキップ")
    assert "ご回答ありがとうございました" in ichiro.text()
    with db.transaction() as session:
        assert session.scalar(select(MonitorResponse.completed_at)) is not None
        assert session.scalars(select(MonitorAnswer.value)).all() == ["1", "2"]


def test_answers_in_progress_saved_by_the_previous_version_go_on(app, client, line, db, sent_survey):
    """The question asked was kept as "q" before the answers were a typed draft."""
    _staff, ichiro, _jiro = sent_survey
    answer_button(line, ichiro)
    with db.transaction() as session:
        person = session.scalar(select(Person).where(Person.line_user_id == ichiro.user_id))
        saved = dict(person.conversation_data)
        person.conversation_data = {"survey": saved["survey"], "response": saved["response"],
                                    "q": saved["question"], "chosen": []}
    ichiro.tap("知っていた")
    assert "質問2/4" in ichiro.text()
    with db.transaction() as session:
        assert session.scalars(select(MonitorAnswer.value)).all() == ["0"]


def test_a_long_free_text_answer_is_cut_to_500_characters(app, client, line, db, sent_survey):
    _staff, ichiro, _jiro = sent_survey
    answer_button(line, ichiro)
    for label in ("スキップ", "スキップ", "スキップ"):
        ichiro.tap(label)
    assert "500文字を超えた分は省かれます" in ichiro.text()
    ichiro.say("長" * 600)
    assert "ご回答ありがとうございました" in ichiro.text()
    with db.transaction() as session:
        assert session.scalars(select(MonitorAnswer.value)).all() == ["長" * 500]


def test_an_old_question_button_does_not_answer_twice(app, client, line, db, sent_survey):
    _staff, ichiro, _jiro = sent_survey
    answer_button(line, ichiro)
    first = ichiro.last
    answer_button(line, ichiro)  # the invitation tapped again: the same question
    assert "質問1/4" in ichiro.text()
    ichiro.tap("知っていた", first)
    ichiro.tap("知らなかった", first)  # the first question's button, tapped again
    assert "質問2/4" in ichiro.text()
    with db.transaction() as session:
        assert session.scalars(select(MonitorAnswer.value)).all() == ["0"]


def test_a_closed_survey_refuses_politely_and_stores_nothing(app, client, line, db, sent_survey):
    staff_chat, ichiro, jiro = sent_survey
    answer_button(line, jiro)
    staff_chat.say("アンケート一覧")
    staff_chat.tap("締め切る")
    staff_chat.tap("いいえ")
    assert "そのまま受付を続けます" in staff_chat.text()
    staff_chat.say("アンケート一覧")
    staff_chat.tap("締め切る")
    staff_chat.tap("はい")
    assert "受付を締め切りました" in staff_chat.text()
    answer_button(line, ichiro)
    assert "締め切りました" in ichiro.text()
    jiro.tap("知っていた")  # was answering when it closed
    assert "締め切りました" in jiro.text()
    assert stored(db) == (1, 0)
    staff_chat.say("アンケート一覧")
    assert "締め切り・質問4問・回答0件" in staff_chat.text() and "締め切る" not in staff_chat.labels()


def test_someone_who_is_not_a_registrant_is_told_politely(app, client, line, db, join, sent_survey):
    _staff, ichiro, _jiro = sent_survey
    join(KAMIKATSU)
    stranger = resident(app, client, line, "よそ者", town=None)
    stranger.tap("回答する", invitation(line, ichiro))  # a forwarded button
    assert "神山町（徳島県）からお送りした方だけが回答できます" in stranger.text()
    assert "移住体験ツアー" not in stranger.text()  # not even its title
    other_town = resident(app, client, line, "上勝の人", town="上勝")
    other_town.tap("回答する", invitation(line, ichiro))
    assert "お送りした方だけが回答できます" in other_town.text()
    assert stored(db) == (0, 0)


def opened(db, code: str, audience: Audience) -> int:
    """A one-question survey of `code`, sent to `audience` now; its ID."""
    with db.transaction() as session:
        survey = monitor_surveys.create(session, by_code(session, code), "送り先のあるアンケート",
                                [rules.Question(rules.Kind.RATING, "満足度")], datetime.now(UTC))
        monitor_surveys.open_survey(survey, audience, datetime.now(UTC))
        return survey.id


def test_only_those_a_survey_was_sent_to_can_answer_it(app, client, line, db, join):
    join(KAMIYAMA, TOKUSHIMA)
    early = resident(app, client, line, "早い人")
    to_premium = opened(db, KAMIYAMA, Audience(kinds=("premium",)))
    to_all = opened(db, KAMIYAMA, Audience())
    late = resident(app, client, line, "後の人")  # registered after both went out
    for chat, survey_id in ((early, to_premium), (late, to_premium), (late, to_all)):
        chat.postback(f"ans.start?id={survey_id}")  # a button they were never sent
        assert "お送りした方だけが回答できます" in chat.text()
        assert "送り先のあるアンケート" not in chat.text()
    assert stored(db) == (0, 0)
    early.postback(f"ans.start?id={to_all}")
    assert "満足度" in early.text()
    assert stored(db) == (1, 0)


def test_a_draft_is_sent_later_from_the_list(app, client, line, runner, join, db):
    join(KAMIYAMA)
    ichiro = resident(app, client, line, "一郎")
    staff_chat = staff_member(app, client, line, runner)
    write_survey(staff_chat)
    staff_chat.say("キャンセル")
    staff_chat.say("アンケート一覧")
    assert "下書き・質問4問・回答0件" in staff_chat.text()
    staff_chat.tap("送る")
    staff_chat.tap("つながりで絞る")
    staff_chat.tap("出身地")
    staff_chat.tap("次へ")
    assert "人数：0人" in staff_chat.text() and "今すぐ送る" not in staff_chat.labels()
    staff_chat.say("キャンセル")
    staff_chat.say("アンケート一覧")
    staff_chat.tap("送る")
    staff_chat.tap("お住まいで絞る")
    staff_chat.say("どこか")
    assert "都道府県名が見つかりませんでした" in staff_chat.text()
    staff_chat.say("キャンセル")
    staff_chat.say("アンケート一覧")
    staff_chat.tap("送る")
    staff_chat.tap("ベーシックのみ")
    staff_chat.tap("今すぐ送る")
    deliver(app)
    assert invitation(line, ichiro)


def test_at_most_ten_questions(app, client, line, runner, join, db):
    join(KAMIYAMA)
    staff_chat = staff_member(app, client, line, runner)
    staff_chat.say("アンケートを作る")
    staff_chat.say("十問")
    for number in range(1, 11):
        if number > 1:
            staff_chat.tap("質問を追加")
        staff_chat.tap("5段階評価")
        staff_chat.say(f"質問その{number}")
    assert "質問を追加" not in staff_chat.labels() and "完成" in staff_chat.labels()
    staff_chat.tap("完成")
    with db.transaction() as session:
        assert len(session.scalar(select(MonitorSurvey)).questions) == 10


# Authorisation: staff of A never see or act on B's surveys; residents cannot use staff commands.

@pytest.fixture
def two_towns(app, client, line, runner, join, db):
    join(KAMIYAMA, KAMIKATSU)
    a_staff = staff_member(app, client, line, runner, "神山の職員", KAMIYAMA)
    b_staff = staff_member(app, client, line, runner, "上勝の職員", KAMIKATSU)
    resident_chat = resident(app, client, line, "住民")
    with db.transaction() as session:
        survey = monitor_surveys.create(session, by_code(session, KAMIYAMA), "神山の秘密のアンケート",
                                [rules.Question(rules.Kind.RATING, "満足度")], datetime.now(UTC))
        monitor_surveys.open_survey(survey, Audience(), datetime.now(UTC))
        survey_id = survey.id
    return a_staff, b_staff, resident_chat, survey_id


@pytest.mark.parametrize("command", ["アンケートを作る", "アンケート一覧"])
def test_residents_cannot_use_survey_commands(two_towns, command):
    _a, _b, resident_chat, _survey = two_towns
    resident_chat.say(command)
    assert "職員の方専用" in resident_chat.text()


@pytest.mark.parametrize("action", ["mon.res?id={id}", "mon.close?id={id}", "mon.draft?id={id}"])
def test_staff_of_another_entity_cannot_act_on_a_survey(two_towns, db, action):
    _a, b_staff, resident_chat, survey_id = two_towns
    for outsider in (b_staff, resident_chat):
        outsider.postback(action.format(id=survey_id))
        assert "神山の秘密のアンケート" not in outsider.text()
        assert "見つかりませんでした" in outsider.text() or "職員の方専用" in outsider.text()
    with db.transaction() as session:
        assert session.get(MonitorSurvey, survey_id).status == "open"


def test_staff_see_only_their_own_surveys(two_towns):
    a_staff, b_staff, _resident, _survey = two_towns
    a_staff.say("アンケート一覧")
    assert "神山の秘密のアンケート" in a_staff.text()
    b_staff.say("アンケート一覧")
    assert "神山の秘密のアンケート" not in b_staff.text() and "上勝町" in b_staff.text()
    for action in ("list", "new"):
        b_staff.postback(f"mon.for?code={KAMIYAMA}&a={action}")
        assert "職員の方専用" in b_staff.text() and "神山の秘密" not in b_staff.text()


def test_a_download_link_reaches_only_its_own_entitys_survey(app, client, db, two_towns):
    _a, b_staff, _resident, survey_id = two_towns
    with db.transaction() as session:
        b_person = session.scalar(select(Person.id).where(Person.line_user_id == b_staff.user_id))
    forged = downloads.download_url(app.config, "survey", KAMIKATSU, survey_id, person_id=b_person)
    assert client.get(forged.split(app.live_url, 1)[1]).status_code == 404
    theirs = downloads.download_url(app.config, "survey", KAMIYAMA, survey_id, person_id=b_person)
    assert client.get(theirs.split(app.live_url, 1)[1]).status_code == 403


def test_staff_of_two_entities_choose_which(app, client, line, runner, join):
    join(KAMIYAMA, KAMIKATSU)
    both = staff_member(app, client, line, runner, "兼務", KAMIYAMA)
    make_staff(runner, both, KAMIKATSU)
    both.say("アンケートを作る")
    assert set(both.labels()) == {"神山町（徳島県）", "上勝町（徳島県）"}
    both.tap("上勝町（徳島県）")
    assert "上勝町（徳島県）の登録者へのアンケートを作ります" in both.text()


# The rules without I/O, and the tables ------------------------------------------------------------

def test_choices_are_read_one_per_line():
    assert rules.parse_choices(" はい \n\n いいえ\n") == ("はい", "いいえ")
    assert rules.parse_choices("ひとつ") is rules.ChoiceProblem.TOO_FEW
    assert rules.parse_choices("\n".join(str(i) for i in range(11))) is rules.ChoiceProblem.TOO_MANY
    assert rules.parse_choices("a\n" + "b" * 21) is rules.ChoiceProblem.TOO_LONG
    assert rules.parse_choices("a\na") is rules.ChoiceProblem.REPEATED


def test_answers_are_encoded_for_their_question_only():
    single = rules.Question(rules.Kind.SINGLE, "?", ("a", "b"))
    multiple = rules.Question(rules.Kind.MULTIPLE, "?", ("a", "b", "c"))
    assert rules.encode(single, 1) == "1" and rules.encode(single, 2) is None
    assert rules.encode(multiple, [2, 0]) == "0,2" and rules.encode(multiple, [3]) is None
    assert rules.encode(rules.Question(rules.Kind.RATING, "?"), 6) is None
    assert rules.encode(rules.Question(rules.Kind.TEXT, "?"), "  ") is None
    assert rules.label(multiple, "0,2") == "a／c"
    assert rules.toggle(rules.toggle([], multiple, 2), multiple, 0) == [0, 2]
    assert rules.toggle([0], multiple, 9) == [0]


def test_summaries_count_choices_ratings_and_keep_the_latest_texts():
    multiple = rules.Question(rules.Kind.MULTIPLE, "?", ("a", "b", "c"))
    assert rules.summarise(multiple, {"0,2": 2, "2": 1}).counts == (2, 0, 3)
    rating = rules.summarise(rules.Question(rules.Kind.RATING, "?"), {"5": 2, "2": 1})
    assert (rating.answered, rating.average, rating.counts) == (3, 4.0, (0, 1, 0, 0, 2))
    assert rules.summarise(rules.Question(rules.Kind.RATING, "?"), {}).average is None
    texts = rules.text_summary(rules.Question(rules.Kind.TEXT, "?"), 5, ["x" * 100, "b", "c", "d"])
    assert texts.latest == ("x" * 59 + "…", "b", "c")
    assert rules.csv_cell("=1+1") == "'=1+1" and rules.csv_cell("ok") == "ok"


def test_every_state_a_step_returns_is_in_the_router():
    from conversations.monitor.states import SurveyAnsweringState, SurveyWritingState
    from conversations.monitor.steps import STATE_OF_KIND
    from conversations.router import ROUTER

    assert {s.value for s in (*SurveyWritingState, *SurveyAnsweringState)} <= set(ROUTER.states)
    assert set(STATE_OF_KIND) == set(rules.Kind)


def test_a_survey_being_written_or_sent_reads_back_from_what_the_previous_version_saved():
    from conversations.monitor.draft import SurveySending, SurveyWriting

    writing = SurveyWriting.load({"entity": KAMIYAMA, "title": "題名", "kind": "single", "text": "?",
                                  "questions": [{"kind": "rating", "text": "満足度", "choices": []}]})
    assert writing.written == [rules.Question(rules.Kind.RATING, "満足度")]
    assert (writing.kind, writing.text) == ("single", "?")
    assert writing.adding(rules.Question(rules.Kind.SINGLE, "?", ("a", "b"))).kind is None
    sending = SurveySending.load({"entity": KAMIYAMA, "survey": 7, "ties": ["hometown"]})
    assert sending == SurveySending(7, ["hometown"])
