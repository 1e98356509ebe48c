"""The scenario runner itself: the format's errors, and playing steps against a bot double.

The double stands in for the bot at /callback (the runner's contract is "signed webhooks over
HTTP"): it checks LINE's signature, records each event, and answers through the real local
LINE platform with the replies a test queued. So these tests do not depend on what the real
conversations say; tests/scenarios/ plays the real ones.
"""

from __future__ import annotations

import hashlib
import json
import textwrap

import pytest
from click.testing import CliRunner
from flask import Flask, request
from linebot.v3.messaging import Message

from bot.devtools.events import signature
from bot.devtools.live_server import LiveServer
from bot.line import gateway, richmenu
from cli.scenario import ScenarioError, load_scenarios, run_scenario_file, scenario_cli, user_id
from tests.factories import write_scenario

TITLE = "runner"
HANAKO = user_id(TITLE, "hanako")


class BotDouble:
    def __init__(self, app):
        self.app = app
        self.events: list[dict] = []
        self.replies: list[list[dict]] = []
        self.status = 200
        double = Flask(__name__)
        double.add_url_rule("/callback", view_func=self.callback, methods=["POST"])
        self.server = LiveServer(double)

    def answer(self, *messages: dict) -> None:
        """Reply with these messages to the next event that carries a reply token."""
        self.replies.append(list(messages))

    def callback(self):
        body = request.get_data()
        if request.headers.get("X-Line-Signature") != signature(
                body, self.app.config["LINE_CHANNEL_SECRET"]):
            return "invalid signature", 400
        for event in json.loads(body)["events"]:
            self.events.append(event)
            if self.replies and "replyToken" in event:
                messages = [Message.from_dict(m) for m in self.replies.pop(0)]
                assert gateway(self.app).reply(event["replyToken"], messages)
        return "OK", self.status


@pytest.fixture
def bot(app):
    double = BotDouble(app)
    app.live_url = double.server.url  # the runner's webhooks go to the double
    yield double
    double.server.stop()


def play(app, tmp_path, steps: str, users: str = "hanako: {name: 花子, language: ja}"):
    path = write_scenario(tmp_path, f"title: {TITLE}\nusers:\n  {users}\nsteps:\n"
                 + textwrap.indent(textwrap.dedent(steps), "  "))
    [result] = run_scenario_file(app, path)
    return result


def parse_error(tmp_path, text: str) -> str:
    with pytest.raises(ScenarioError) as error:
        load_scenarios(write_scenario(tmp_path, text))
    return str(error.value)


TEXT = {"type": "text", "text": "ようこそ、花子さん。",
        "quickReply": {"items": [
            {"type": "action", "action": {"type": "message", "label": "はい", "text": "はい!"}},
            {"type": "action", "action": {"type": "location", "label": "現在地"}},
        ]}}
FLEX = {"type": "flex", "altText": "登録の一覧",
        "contents": {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": [
            {"type": "text", "text": "神山町"},
            {"type": "text", "contents": [{"type": "span", "text": "ベーシック"},
                                          {"type": "span", "text": "登録"}]},
            {"type": "button", "action": {"type": "postback", "label": "解除する",
                                          "data": "reg.leave:364029"}},
        ]}}}
TEMPLATE = {"type": "template", "altText": "誕生日",
            "template": {"type": "buttons", "title": "確認", "text": "生年月日を選んでください",
                         "actions": [
                             {"type": "datetimepicker", "label": "選ぶ", "data": "birth",
                              "mode": "date"},
                             {"type": "uri", "label": "説明を読む",
                              "uri": "https://example.org/help"}]}}


# The format ----------------------------------------------------------------------------------

def test_user_ids_are_line_shaped_and_the_same_on_every_run():
    assert HANAKO == "U" + hashlib.md5(b"runnerhanako").hexdigest()
    assert len(HANAKO) == 33
    assert user_id("another title", "hanako") != HANAKO


def test_a_file_holds_one_scenario_a_list_or_several_documents(tmp_path):
    one = "title: one\nsteps: [run: entities show 011002]\n"
    assert [s.title for s in load_scenarios(write_scenario(tmp_path, one))] == ["one"]
    listed = "- " + one.replace("\n", "\n  ").rstrip() + "\n- title: two\n  steps: [run: x]\n"
    assert [s.title for s in load_scenarios(write_scenario(tmp_path, listed))] == ["one", "two"]
    documents = one + "---\n" + one.replace("one", "three")
    assert [s.title for s in load_scenarios(write_scenario(tmp_path, documents))] == ["one", "three"]


def test_steps_are_strings_or_one_pair(tmp_path):
    [scenario] = load_scenarios(write_scenario(tmp_path, """
        title: forms
        users: {hanako: {name: 花子, language: null}}
        steps:
          - hanako follows
          - {"hanako says": 神山}
          - hanako taps menu: 登録状況
          - hanako taps: {label: 選ぶ, date: "2000-01-31"}
          - bot says nothing
        """))
    assert [(s.number, s.subject, s.verb, s.value) for s in scenario.steps] == [
        (1, "hanako", "follows", None),
        (2, "hanako", "says", "神山"),
        (3, "hanako", "taps menu", "登録状況"),
        (4, "hanako", "taps", {"label": "選ぶ", "date": "2000-01-31"}),
        (5, "bot", "says nothing", None),
    ]
    assert scenario.users["hanako"].language is None


def test_an_unknown_actor_is_named_with_the_users_there_are(tmp_path):
    message = parse_error(tmp_path, """
        title: 登録
        users: {hanako: {name: 花子, language: ja}}
        steps:
          - hanako follows
          - taro says: こんにちは
        """)
    assert "「登録」, step 2 (taro says: こんにちは)" in message
    assert "unknown actor 'taro'; the users are hanako" in message


def test_an_unknown_verb_lists_what_the_actor_can_do(tmp_path):
    message = parse_error(tmp_path, """
        title: 登録
        users: {hanako: {name: 花子, language: ja}}
        steps: [hanako dances]
        """)
    assert "step 1 (hanako dances): unknown verb 'dances'" in message
    assert "follows, unfollows, says:, taps:, taps menu:, sends location:, sends image:" in message


@pytest.mark.parametrize("location", ["[33.9672]", "[north, east]", "[95.0, 134.3]", "神山"])
def test_a_bad_location_says_what_a_location_is(tmp_path, location):
    message = parse_error(tmp_path, f"""
        title: 位置
        users: {{hanako: {{name: 花子, language: ja}}}}
        steps:
          - hanako sends location: {location}
        """)
    assert "step 1 (hanako sends location:" in message
    assert "a location is [latitude, longitude], e.g. [33.9672, 134.3506]" in message


@pytest.mark.parametrize(("step", "expected"), [
    ("hanako says: 7790001", "7790001 is not text: put it in quotes"),
    ("hanako follows: now", "takes no value"),
    ("hanako says", "needs a value after a colon"),
    ("hanako sends image: missing.png", "no image file at"),
    ("run: entities show '364029", "No closing quotation"),
    ("bot shouts: hello", "unknown verb 'shouts'; bot can: says:, offers:, does not say:"),
])
def test_other_mistakes_are_explained(tmp_path, step, expected):
    message = parse_error(tmp_path, f"""
        title: mistakes
        users: {{hanako: {{name: 花子, language: ja}}}}
        steps:
          - {step}
        """)
    assert expected in message


@pytest.mark.parametrize(("text", "expected"), [
    ("title: [unclosed\n", "not valid YAML"),
    ("title: t\nsteps: []\n", "`steps` must be a list of steps"),
    ("title: t\nusers: {bot: {name: ボット}}\nsteps: [run: x]\n", "'bot' cannot name a user"),
    ("title: t\nusers: {hanako: {name: 花子, language: 日本}}\nsteps: [run: x]\n",
     "language must be a BCP 47 tag"),
    ("title: t\nstep: [run: x]\n", "unknown key(s) step"),
])
def test_a_malformed_scenario_is_explained(tmp_path, text, expected):
    assert expected in parse_error(tmp_path, text)


# Users act -----------------------------------------------------------------------------------

def test_actions_arrive_as_signed_webhooks_from_a_registered_profile(app, line, bot, tmp_path):
    (tmp_path / "qr.png").write_bytes(richmenu.menu_image())
    result = play(app, tmp_path, """
        - hanako follows
        - hanako says: 神山
        - hanako sends location: [33.9672, 134.3506]
        - hanako sends image: qr.png
        - hanako unfollows
        - hanako follows
        """)

    assert result.passed, result.failure
    assert line.users[HANAKO] == {"userId": HANAKO, "displayName": "花子", "language": "ja"}
    follow, text, location, image, unfollow, refollow = bot.events
    assert {event["source"]["userId"] for event in bot.events} == {HANAKO}
    assert follow["follow"] == {"isUnblocked": False} and "replyToken" in follow
    assert text["message"]["text"] == "神山" and "replyToken" in text
    assert location["message"]["latitude"] == 33.9672
    assert location["message"]["longitude"] == 134.3506
    assert gateway(app).message_content(image["message"]["id"]) == richmenu.menu_image()
    assert unfollow["type"] == "unfollow" and "replyToken" not in unfollow
    assert refollow["follow"] == {"isUnblocked": True}


def test_a_user_without_language_has_none_in_the_profile(app, line, bot, tmp_path):
    result = play(app, tmp_path, "- hanako follows\n", users="hanako: {name: 花子, language: null}")

    assert result.passed, result.failure
    assert "language" not in line.users[HANAKO]


def test_taps_perform_the_most_recent_action_with_that_label(app, bot, tmp_path):
    bot.answer(TEXT, FLEX, TEMPLATE)
    result = play(app, tmp_path, """
        - hanako follows
        - hanako taps: はい
        - hanako taps: 解除する
        - hanako taps: {label: 選ぶ, date: "2000-01-31"}
        """)

    assert result.passed, result.failure
    _, message, postback, picked = bot.events
    assert message["message"]["text"] == "はい!"
    assert postback["postback"] == {"data": "reg.leave:364029"}
    assert picked["postback"] == {"data": "birth", "params": {"date": "2000-01-31"}}


@pytest.mark.parametrize(("label", "expected"), [
    ("現在地", "「現在地」 asks for a location: write `<user> sends location"),
    ("説明を読む", "「説明を読む」 opens https://example.org/help outside the chat"),
    ("選ぶ", "「選ぶ」 opens a date picker"),
    ("ない", "expected: a button, quick reply or template action labelled 「ない」"),
])
def test_taps_that_cannot_be_played_say_why(app, bot, tmp_path, label, expected):
    bot.answer(TEXT, TEMPLATE)
    result = play(app, tmp_path, f"""
        - hanako follows
        - hanako taps: {label}
        """)

    assert not result.passed
    assert f"step 2: hanako taps: {label}\n  {expected}" in result.failure


def test_taps_menu_uses_the_residents_rich_menu(app, bot, tmp_path):
    richmenu.deploy(gateway(app))
    result = play(app, tmp_path, """
        - hanako taps menu: 登録状況
        - hanako taps menu: 名簿
        """)

    assert bot.events[0]["postback"] == {"data": "menu.mine"}
    assert "step 2: hanako taps menu: 名簿\n  expected: an area labelled 「名簿」" in result.failure
    assert ("its areas are 「登録する」, 「登録状況」, 「プレミアム登録」, 「登録証」, 「活動履歴」, "
            "「地域の情報」, 「設定・言語」, 「ヘルプ」") in result.failure


def test_a_refused_webhook_fails_the_step(app, bot, tmp_path):
    bot.status = 500
    result = play(app, tmp_path, "- hanako says: こんにちは\n")

    assert "step 1: hanako says: こんにちは\n  /callback answered 500" in result.failure


# The bot answers -----------------------------------------------------------------------------

def test_expectations_read_texts_templates_and_flex_after_nfkc(app, bot, tmp_path):
    bot.answer(TEXT, FLEX, TEMPLATE)
    result = play(app, tmp_path, """
        - hanako follows
        - bot says: 花子さん
        - bot says: 神山町
        - bot says: ベーシック登録
        - bot says: 登録の一覧
        - bot says: 生年月日を選んで
        - bot says: 確認
        - bot offers: はい
        - bot offers: 解除する
        - bot offers: 選ぶ
        - bot does not say: 削除しました
        - hanako says: ＡＢＣ１２３
        - bot says nothing
        """)

    assert result.passed, result.failure
    assert bot.events[-1]["message"]["text"] == "ＡＢＣ１２３"


def test_a_wrong_expectation_names_the_step_and_shows_what_the_bot_sent(app, bot, tmp_path):
    bot.answer(TEXT, FLEX)
    result = play(app, tmp_path, """
        - hanako follows
        - bot says: 花子さん
        - bot says: さようなら
        - bot says: 花子さん
        """)

    assert not result.passed
    assert result.failure == textwrap.dedent("""\
        step 3: bot says: さようなら
          expected: a message containing 「さようなら」
          the bot sent hanako since step 1 (hanako follows):
            ようこそ、花子さん。
            [はい]
            [現在地]
            登録の一覧
            神山町
            ベーシック登録
            [解除する]""")
    assert result.summary().startswith("✗ runner\n    step 3: bot says: さようなら\n")


@pytest.mark.parametrize(("steps", "expected"), [
    ("- bot says nothing\n", "nobody has acted yet"),
    ("- hanako follows\n- bot says nothing\n", "expected: no message"),
    ("- hanako follows\n- bot does not say: ようこそ\n",
     "expected: no message containing 「ようこそ」"),
    ("- hanako follows\n- bot offers: いいえ\n", "a button or quick reply labelled 「いいえ」"),
])
def test_negative_and_offer_expectations_fail_when_they_should(app, bot, tmp_path, steps, expected):
    bot.answer(TEXT)
    result = play(app, tmp_path, steps)

    assert expected in result.failure


def test_expectations_read_the_user_who_acted_last(app, bot, tmp_path):
    bot.answer(TEXT)
    result = play(app, tmp_path, """
        - hanako follows
        - taro follows
        - bot says nothing
        - bot says: ようこそ
        """, users="{hanako: {name: 花子, language: ja}, taro: {name: 太郎, language: en}}")

    assert "step 4: bot says: ようこそ" in result.failure
    assert "the bot sent taro since step 2 (taro follows):\n    (nothing)" in result.failure


# Operators -----------------------------------------------------------------------------------

def test_setup_and_run_use_the_furusato_commands(app, tmp_path):
    path = write_scenario(tmp_path, """
        title: commands
        setup: [entities join 364029]
        steps:
          - run: entities show 364029
          - output says: "participating: yes"
          - output says: "participating: no"
        """)
    [result] = run_scenario_file(app, path)

    assert result.failure.startswith(
        "step 3: output says: participating: no\n"
        "  expected the last command's output to contain 「participating: no」; it was:\n"
        "    364029 ")
    assert "  participating: yes\n" in result.failure


def test_a_failing_command_fails_with_its_output(app, tmp_path):
    path = write_scenario(tmp_path, "title: commands\nsetup: [entities join 999999]\nsteps: [run: x]\n")
    [result] = run_scenario_file(app, path)

    assert result.failure.startswith("setup 1: entities join 999999\n"
                                     "  `furusato entities join 999999` exited with 1:")
    assert "Unknown entity code(s): 999999" in result.failure


# The command line ----------------------------------------------------------------------------

def test_scenario_run_plays_files_on_a_fresh_bot_and_reports_each(tmp_path):
    good = write_scenario(tmp_path, """
        title: 見学
        users: {hanako: {name: 花子, language: ja}}
        setup: [entities join 364029]
        steps:
          - hanako follows
          - bot does not say: この文は送られない
          - run: entities show 364029
          - output says: "participating: yes"
        """, "good.yaml")
    bad = write_scenario(tmp_path, """
        title: 間違い
        users: {hanako: {name: 花子, language: ja}}
        steps:
          - hanako follows
          - bot says: この文は送られない
        """, "bad.yaml")
    broken = write_scenario(tmp_path, "title: 壊れた\nsteps: [hanako follows]\n", "broken.yaml")

    result = CliRunner().invoke(scenario_cli, ["run", str(good), str(bad), str(broken)])

    assert result.exit_code == 1
    assert "  ✓ 見学\n" in result.output
    assert "  ✗ 間違い\n      step 2: bot says: この文は送られない\n" in result.output
    assert "the bot sent hanako since step 1 (hanako follows):" in result.output
    assert f"✗ {broken}, 「壊れた」, step 1 (hanako follows): unknown actor" in result.output
    assert result.output.endswith("1 passed, 2 failed.\n")
