"""Staff: invitations, the staff menu, creating activities in the chat, the authorisation matrix."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.store.models import Activity, ActivitySession, Person, Staff, StaffInvitation
from tests.factories import (
    KAMIKATSU,
    KAMIYAMA,
    TOKUSHIMA,
    Chat,
    make_staff,
    open_activity,
    register_by_name,
    staff_invitation,
    staff_member,
    url_path,
)


def test_an_invitation_makes_staff_once_and_links_the_staff_menu(app, client, line, runner, db, chat):
    runner.invoke(args=["richmenu", "deploy"])
    sent = staff_invitation(runner, role="admin")
    chat.say(sent)
    assert "神山町（徳島県）の管理者として登録しました" in chat.text()
    assert line.rich_menus[line.rich_menu_for(chat.user_id)]["menu"]["name"] == "furusato-staff-v2"
    other = Chat(app, client, line, "他人")
    other.follow()
    other.say(sent)
    assert "すでに使われています" in other.text()
    with db.transaction() as session:
        assert session.scalar(select(Staff.role)) == "admin"
        invitation_row = session.scalar(select(StaffInvitation))
        code = sent.split()[-1]
        assert code not in (invitation_row.code_hash or "")  # only the hash is kept


def test_unknown_and_expired_invitations_are_refused(runner, db, chat):
    chat.say("スタッフ招待 AAAA-BBBB-CCCC-DDDD")
    assert "見つかりませんでした" in chat.text()
    sent = staff_invitation(runner)
    with db.transaction() as session:
        session.scalar(select(StaffInvitation)).expires_at = datetime.now(UTC) - timedelta(minutes=1)
    chat.say(sent)
    assert "有効期限が切れています" in chat.text()
    with db.transaction() as session:
        assert session.scalar(select(Staff)) is None


def test_staff_list_and_remove(runner, chat, line):
    runner.invoke(args=["richmenu", "deploy"])
    make_staff(runner, chat, KAMIYAMA)
    listed = runner.invoke(args=["staff", "list", KAMIYAMA]).output
    assert chat.user_id in listed and "花子" in listed
    result = runner.invoke(args=["staff", "remove", KAMIYAMA, chat.user_id])
    assert result.exit_code == 0, result.output
    assert line.rich_menu_for(chat.user_id) == line.default_rich_menu_id
    chat.say("活動一覧")
    assert "職員の方専用" in chat.text()
    assert runner.invoke(args=["staff", "remove", KAMIYAMA, "nobody"]).exit_code != 0


def test_cli_refuses_unknown_codes(runner):
    result = runner.invoke(args=["staff", "invite", "999999"])
    assert result.exit_code != 0 and "Unknown entity code: 999999" in result.output


def test_creating_an_activity_in_the_chat_sends_its_qr_code_and_poster(app, runner, db, chat, join):
    join(KAMIYAMA)
    make_staff(runner, chat, KAMIYAMA)
    chat.say("活動を作る")
    chat.say("棚田の草刈り")
    chat.tap("ボランティア")
    chat.tap("指定する")
    chat.postback_with(chat.last, "日付を選ぶ", {"date": "2099-12-24"})
    chat.postback_with(chat.last, "時刻を選ぶ", {"time": "10:00"})
    chat.say("12時")
    chat.say("神山町 上分地区")
    chat.tap("印刷用")
    chat.tap("別の日を追加")
    chat.say("2099-12-25")
    chat.say("13:00")
    chat.say("15:00")
    chat.tap("日程はこれで全部")
    assert "棚田の草刈り" in chat.text() and "12月24日（木） 10:00〜12:00" in chat.text()
    chat.tap("作成する")
    images = [m for m in chat.last if m["type"] == "image"]
    assert len(images) == 2
    assert "poster.pdf" in chat.text()
    with db.transaction() as session:
        activity = session.scalar(select(Activity))
        assert (activity.title, activity.category, activity.designated) == \
            ("棚田の草刈り", "volunteer", True)
        assert session.query(ActivitySession).count() == 2
    png = app.test_client().get(images[0]["originalContentUrl"].split(app.live_url, 1)[1])
    assert png.status_code == 200 and png.mimetype == "image/png"
    chat.say("活動一覧")
    assert "ボランティア・指定活動" in chat.text()


def test_a_rotating_code_s_link_opens_its_screen_in_the_staff_member_s_browser_only(app, runner,
                                                                                 chat, join):
    join(KAMIYAMA)
    make_staff(runner, chat, KAMIYAMA)
    chat.say("活動を作る")
    chat.say("棚田の草刈り")
    chat.tap("ボランティア")
    chat.tap("指定する")
    chat.say("2099-12-24")
    chat.say("10:00")
    chat.say("12:00")
    chat.say("上分地区")
    chat.tap("画面表示")
    chat.tap("日程はこれで全部")
    chat.tap("作成する")
    assert "10分以内" in chat.text() and "12時間" in chat.text()
    [link] = re.findall(r"https?://\S+/staff/rotating/\S+", chat.text())
    staff_browser, elsewhere = app.test_client(), app.test_client()

    assert staff_browser.get(url_path(link)).status_code == 200  # which activity, and a button
    screen = staff_browser.post(url_path(link)).headers["Location"]
    assert staff_browser.get(screen + "/qr.png?step=1").mimetype == "image/png"
    assert elsewhere.get(screen).status_code == 403
    assert elsewhere.get(screen + "/qr.png?step=1").status_code == 403


def first_day_then_another(chat, title: str, designated: str) -> None:
    """An activity with its first day given, up to 「別の日を追加」 tapped."""
    chat.say("活動を作る")
    chat.say(title)
    chat.tap("ボランティア")
    chat.tap(designated)
    assert "日程はこれで全部" not in chat.labels()  # the first day is needed
    chat.say("2099-12-24")
    chat.say("10:00")
    chat.say("12:00")
    chat.say("上分地区")
    chat.tap("印刷用")
    chat.tap("別の日を追加")


def test_a_day_begun_and_not_wanted_can_be_left_out(runner, db, chat, join):
    """「別の日を追加」 tapped by mistake, or a day begun and not wanted: 「日程はこれで全部」
    (tapped or typed) at the date or time keeps the days given, the half-given one dropped."""
    join(KAMIYAMA)
    make_staff(runner, chat, KAMIYAMA)
    first_day_then_another(chat, "棚田の草刈り", "指定する")
    assert chat.labels() == ["日付を選ぶ", "日程はこれで全部", "キャンセル"]
    chat.say("日程はこれで全部")  # typed
    assert "12月24日（木） 10:00〜12:00" in chat.text() and "作成する" in chat.labels()
    chat.say("キャンセル")
    first_day_then_another(chat, "草刈り二日", "指定しない")
    chat.say("2099-12-25")
    chat.say("13:00")
    chat.tap("日程はこれで全部")  # at the end time: the half-given 25th is dropped
    assert "12月25日" not in chat.text()
    chat.tap("作成する")
    with db.transaction() as session:
        assert session.query(ActivitySession).count() == 1


def test_a_further_day_saved_by_the_version_before_typed_drafts_resumes(runner, db, chat, join):
    """The draft was a dict whose mode was read from its keys (a place given: a further day);
    someone adding a day at release time goes on where they were."""
    join(KAMIYAMA)
    make_staff(runner, chat, KAMIYAMA)
    first_day_then_another(chat, "棚田の草刈り", "指定する")
    with db.transaction() as session:
        person = session.scalar(select(Person).where(Person.line_user_id == chat.user_id))
        assert person.conversation == "staff.day"
        person.conversation_data = {
            "entity": KAMIYAMA, "windows": [["2099-12-24T10:00:00+09:00", "2099-12-24T12:00:00+09:00"]],
            "title": "棚田の草刈り", "category": "volunteer", "designated": True, "place": "上分地区",
            "rotating": False}
    chat.say("2099-12-25")
    chat.say("13:00")
    chat.say("15:00")
    assert "12月25日（金） 13:00〜15:00" in chat.text() and "別の日を追加" in chat.labels()
    chat.tap("日程はこれで全部")
    chat.tap("作成する")
    with db.transaction() as session:
        assert session.query(ActivitySession).count() == 2


def test_staff_are_offered_their_own_choices_and_their_menus_words_work_typed(runner, chat,
                                                                             join):
    join(KAMIYAMA)
    make_staff(runner, chat, KAMIYAMA)
    chat.say("ほにゃらら")
    assert "うまく理解できませんでした" in chat.text() and "お知らせを送る" in chat.labels()
    chat.say("キャンセル")
    assert "活動を作る" in chat.labels()
    chat.say("お知らせ")  # the staff rich menu's cell, typed
    assert "お知らせを送ります。本文を入力してください" in chat.text()
    chat.say("お知らせ")  # now an answer: the body, not the menu's words
    assert "写真を送るか、リンク" in chat.text()


def test_a_menu_cells_words_are_an_answer_inside_a_step_and_staff_words_are_staffs(app, client,
                                                                                   line, join):
    join(KAMIYAMA)
    resident = Chat(app, client, line, "住民")
    resident.follow()
    resident.say("お知らせ")  # the staff menu's words: not a resident's
    assert "職員の方専用" not in resident.text() and "うまく理解できませんでした" in resident.text()
    register_by_name(resident, "神山")
    resident.say("お知らせ")  # during the survey: the question again, the survey goes on
    assert "どんなつながりがありますか" in resident.text()
    resident.say("集計")  # a staff command, from someone who is not staff: an answer too
    assert "職員の方専用" not in resident.text() and "どんなつながりがありますか" in resident.text()
    resident.tap("次へ")
    assert "どのくらい訪れますか" in resident.text()


def test_bad_dates_and_times_are_asked_again(runner, chat, join):
    join(KAMIYAMA)
    make_staff(runner, chat, KAMIYAMA)
    chat.say("活動を作る")
    chat.say("草刈り")
    chat.tap("その他")
    chat.tap("指定しない")
    chat.say("2/30")
    assert "日付が読み取れませんでした" in chat.text()
    chat.say("2000-01-01")  # in the past
    assert "日付が読み取れませんでした" in chat.text()
    chat.say("2099-01-01")
    chat.say("25:00")
    assert "時刻が読み取れませんでした" in chat.text()
    chat.say("10:00")
    chat.say("09:00")
    assert "終了時刻は開始時刻より後に" in chat.text()


# Authorisation: staff of A can neither see nor act on B; residents cannot use staff commands.

@pytest.fixture
def two_towns(app, client, line, runner, join):
    join(KAMIYAMA, KAMIKATSU, TOKUSHIMA)
    a_staff = staff_member(app, client, line, runner, "神山の職員", KAMIYAMA)
    b_staff = staff_member(app, client, line, runner, "上勝の職員", KAMIKATSU)
    resident = Chat(app, client, line, "住民")
    resident.follow()
    activity_a, _session, _token = open_activity(app, KAMIYAMA, "神山の草刈り")
    return a_staff, b_staff, resident, activity_a


@pytest.mark.parametrize("command", ["活動を作る", "活動一覧", "集計"])
def test_residents_cannot_use_staff_commands(two_towns, command):
    _a, _b, resident, _activity = two_towns
    resident.say(command)
    assert "職員の方専用" in resident.text()


@pytest.mark.parametrize("action", ["act.qr?id={id}", "act.end?id={id}&status=closed",
                                    "act.end?id={id}&status=cancelled"])
def test_staff_of_another_entity_cannot_act_on_an_activity(two_towns, db, action):
    _a, b_staff, resident, activity_a = two_towns
    for outsider in (b_staff, resident):
        outsider.postback(action.format(id=activity_a))
        assert "神山の草刈り" not in outsider.text()
        assert "見つかりませんでした" in outsider.text() or "職員の方専用" in outsider.text()
    with db.transaction() as session:
        assert session.get(Activity, activity_a).status == "open"


def test_staff_see_only_their_own_entity(two_towns):
    a_staff, b_staff, _resident, _activity = two_towns
    a_staff.say("活動一覧")
    assert "神山の草刈り" in a_staff.text()
    b_staff.say("活動一覧")
    assert "神山の草刈り" not in b_staff.text() and "上勝町" in b_staff.text()
    b_staff.postback(f"staff.for?code={KAMIYAMA}&a=list")
    assert "神山の草刈り" not in b_staff.text() and "職員の方専用" in b_staff.text()
    for action in ("stats", "new"):
        b_staff.postback(f"staff.for?code={KAMIYAMA}&a={action}")
        assert "職員の方専用" in b_staff.text() and "活動名を入力" not in b_staff.text()


def test_staff_of_two_entities_choose_which(app, client, line, runner, join):
    join(KAMIYAMA, KAMIKATSU)
    both = staff_member(app, client, line, runner, "兼務", KAMIYAMA)
    make_staff(runner, both, KAMIKATSU)
    both.say("集計")
    assert set(both.labels()) == {"神山町（徳島県）", "上勝町（徳島県）"}
    both.tap("上勝町（徳島県）")
    assert "上勝町（徳島県）の集計" in both.text()


def test_closing_and_cancelling(two_towns, db):
    a_staff, _b, _resident, activity_a = two_towns
    a_staff.say("活動一覧")
    a_staff.tap("締め切る")
    assert "締め切りますか" in a_staff.text()
    a_staff.tap("いいえ")
    with db.transaction() as session:
        assert session.get(Activity, activity_a).status == "open"
    a_staff.say("活動一覧")
    a_staff.tap("中止する")
    confirmation = a_staff.last
    a_staff.say("キャンセル")
    a_staff.tap("はい", confirmation)  # done with: what staff can do now, their choices too
    assert "以前のやりとりのもの" in a_staff.text() and "活動を作る" in a_staff.labels()
    a_staff.say("活動一覧")
    a_staff.tap("中止する")
    a_staff.tap("はい")
    assert "中止しました" in a_staff.text()
    with db.transaction() as session:
        assert session.get(Activity, activity_a).status == "cancelled"


def test_a_removal_stands_when_line_refuses_the_menu_change(runner, chat, line, db):
    runner.invoke(args=["richmenu", "deploy"])
    make_staff(runner, chat, KAMIYAMA)
    line.inject("*", 500)

    result = runner.invoke(args=["staff", "remove", KAMIYAMA, chat.user_id])

    assert result.exit_code == 0, result.output
    assert "The removal is kept, but LINE did not take the menu change" in result.output
    assert "furusato richmenu deploy" in result.output
    with db.transaction() as session:
        assert session.scalar(select(Staff.removed_at)) is not None
    chat.say("活動一覧")
    assert "職員の方専用" in chat.text()


def test_cancelling_an_activity_being_created_says_nothing_was_saved(runner, chat, db):
    make_staff(runner, chat, KAMIYAMA)
    chat.say("活動を作る")
    chat.say("棚田の草刈り")
    chat.say("キャンセル")

    assert "途中まで入力した内容は保存していません" in chat.text()
    assert "保存した内容はそのまま残ります" not in chat.text()
    with db.transaction() as session:
        assert session.scalar(select(Activity)) is None
