"""The local LINE platform, exercised through line-bot-sdk as the bot uses it."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
import requests
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    BroadcastRequest,
    ButtonsTemplate,
    Configuration,
    FlexBubble,
    FlexCarousel,
    FlexMessage,
    ImageMessage,
    MessageAction,
    MessagingApi,
    MessagingApiBlob,
    MulticastRequest,
    PostbackAction,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
    TemplateMessage,
    TextMessage,
)

from tests.factories import png

ALICE = "U" + "a" * 32
BOB = "U" + "b" * 32
STRANGER = "U" + "c" * 32


@pytest.fixture
def client(app):
    configuration = Configuration(host=app.config["LINE_API_HOST"],
                                  access_token=app.config["LINE_CHANNEL_ACCESS_TOKEN"])
    with ApiClient(configuration) as api_client:
        yield api_client


@pytest.fixture
def api(client):
    return MessagingApi(client)


@pytest.fixture
def blob(client):
    return MessagingApiBlob(client)


@pytest.fixture
def users(line):
    line.add_user(ALICE, "Alice", "ja")
    line.add_user(BOB, "Bob")


def raw(app, method, path, token=None, **kwargs):
    """Plain HTTP, for bodies the SDK's models would refuse to build."""
    token = token or app.config["LINE_CHANNEL_ACCESS_TOKEN"]
    return requests.request(method, app.config["LINE_API_HOST"] + path,
                            headers={"Authorization": f"Bearer {token}",
                                     **kwargs.pop("headers", {})},
                            timeout=5, **kwargs)


def push(api, *messages, to=ALICE, retry_key=None):
    return api.push_message(PushMessageRequest(to=to, messages=list(messages)),
                            x_line_retry_key=retry_key)


def details(error: ApiException) -> list[dict]:
    return json.loads(error.body)["details"]


# Replies --------------------------------------------------------------------------------------

def test_reply_is_delivered_to_the_user_the_token_was_issued_for(api, line, users):
    token = line.issue_reply_token(BOB)

    response = api.reply_message(ReplyMessageRequest(
        reply_token=token, messages=[TextMessage(text="こんにちは")]))

    [delivery] = line.deliveries()
    assert (delivery.to, delivery.via, delivery.retry_key) == (BOB, "reply", None)
    assert delivery.messages == [{"type": "text", "text": "こんにちは"}]
    assert response.sent_messages[0].quote_token
    assert line.deliveries(ALICE) == []


@pytest.mark.parametrize("token", ["used", "unknown", "expired"])
def test_reply_token_must_be_issued_unused_and_fresh(api, line, users, token):
    request = ReplyMessageRequest(reply_token=line.issue_reply_token(ALICE),
                                  messages=[TextMessage(text="hi")])
    if token == "used":
        api.reply_message(request)
    elif token == "unknown":
        request.reply_token = "0" * 32
    else:
        started = time.time()
        line.clock = lambda: started + 61

    with pytest.raises(ApiException) as raised:
        api.reply_message(request)

    assert raised.value.status == 400
    assert '"Invalid reply token"' in raised.value.body
    assert len(line.deliveries()) == (1 if token == "used" else 0)


def test_rejected_reply_leaves_its_token_usable(api, line, users):
    token = line.issue_reply_token(ALICE)
    with pytest.raises(ApiException):
        api.reply_message(ReplyMessageRequest(reply_token=token,
                                              messages=[TextMessage(text="x" * 5001)]))
    api.reply_message(ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="ok")]))
    assert len(line.deliveries(ALICE)) == 1


def test_reply_refuses_a_retry_key(app, line, users):
    answer = raw(app, "POST", "/v2/bot/message/reply",
                 headers={"X-Line-Retry-Key": str(uuid.uuid4())},
                 json={"replyToken": line.issue_reply_token(ALICE),
                       "messages": [{"type": "text", "text": "hi"}]})
    assert answer.status_code == 400


# Message limits -------------------------------------------------------------------------------

def test_six_messages_are_refused(app, line, users):
    answer = raw(app, "POST", "/v2/bot/message/reply",
                 json={"replyToken": line.issue_reply_token(ALICE),
                       "messages": [{"type": "text", "text": str(n)} for n in range(6)]})
    assert answer.status_code == 400
    assert answer.json()["details"] == [
        {"message": "Size must be between 1 and 5", "property": "messages"}]
    assert line.deliveries() == []


def test_text_is_counted_in_utf16_units(api, line, users):
    # 5,000 Python characters, but the emoji outside the BMP is two UTF-16 units.
    too_long = "😀" + "a" * 4999
    with pytest.raises(ApiException) as raised:
        push(api, TextMessage(text=too_long))
    assert raised.value.status == 400
    assert details(raised.value) == [{"message": "Length must be between 0 and 5000",
                                      "property": "messages[0].text"}]

    push(api, TextMessage(text="😀" + "a" * 4998))
    assert len(line.deliveries(ALICE)) == 1


def test_quick_reply_takes_at_most_13_items(app, users):
    item = {"type": "action", "action": {"type": "message", "label": "はい", "text": "はい"}}
    message = {"type": "text", "text": "?", "quickReply": {"items": [item] * 14}}
    answer = raw(app, "POST", "/v2/bot/message/push", json={"to": ALICE, "messages": [message]})
    assert answer.status_code == 400


def test_action_labels_are_at_most_20_characters(api, line, users):
    quick = TextMessage(text="?", quick_reply=QuickReply(items=[
        QuickReplyItem(action=MessageAction(label="a" * 21, text="a"))]))
    buttons = TemplateMessage(alt_text="menu", template=ButtonsTemplate(
        text="choose", actions=[PostbackAction(label="b" * 21, data="x")]))

    with pytest.raises(ApiException) as raised:
        push(api, quick, buttons)

    assert raised.value.status == 400
    assert [d["property"] for d in details(raised.value)] == [
        "messages[0].quickReply.items[0].action.label",
        "messages[1].template.actions[0].label"]
    push(api, TextMessage(text="?", quick_reply=QuickReply(items=[
        QuickReplyItem(action=MessageAction(label="a" * 20, text="a"))])))
    assert len(line.deliveries()) == 1


def test_postback_data_is_at_most_300_characters(app, users):
    # line-bot-sdk's model already refuses to build this, so it goes over plain HTTP.
    action = {"type": "postback", "label": "ok", "data": "d" * 301}
    message = {"type": "text", "text": "?",
               "quickReply": {"items": [{"type": "action", "action": action}]}}
    answer = raw(app, "POST", "/v2/bot/message/push", json={"to": ALICE, "messages": [message]})
    assert answer.status_code == 400
    [detail] = answer.json()["details"]
    assert detail["property"] == "messages[0]"
    assert detail["message"].startswith("PostbackAction.data:")


def test_template_limits(api, users):
    actions = [PostbackAction(label=str(n), data=str(n)) for n in range(5)]
    too_many = TemplateMessage(alt_text="a", template=ButtonsTemplate(text="t", actions=actions))
    # A title leaves room for 60 characters of text, not 160.
    titled = TemplateMessage(alt_text="a", template=ButtonsTemplate(
        title="title", text="t" * 61, actions=actions[:1]))
    with pytest.raises(ApiException) as raised:
        push(api, too_many, titled)
    assert [d["property"] for d in details(raised.value)] == [
        "messages[0].template.actions", "messages[1].template.text"]


def test_flex_carousel_takes_at_most_12_bubbles(api, users):
    carousel = FlexCarousel(contents=[FlexBubble() for _ in range(13)])
    with pytest.raises(ApiException) as raised:
        push(api, FlexMessage(alt_text="cards", contents=carousel))
    assert details(raised.value)[0]["property"] == "messages[0].contents.contents"


def test_media_urls_must_be_https_except_on_this_machine(api, line, users):
    with pytest.raises(ApiException) as raised:
        push(api, ImageMessage(original_content_url="http://example.com/a.jpg",
                               preview_image_url="https://example.com/a.jpg"))
    assert details(raised.value) == [{"message": "Must be an HTTPS URL",
                                      "property": "messages[0].originalContentUrl"}]

    push(api, ImageMessage(original_content_url="http://127.0.0.1:8000/a.jpg",
                           preview_image_url="http://localhost:8000/a.jpg"))
    assert len(line.deliveries()) == 1


def test_malformed_json_and_oversized_bodies(app, users):
    assert raw(app, "POST", "/v2/bot/message/push", data=b"{not json",
               headers={"Content-Type": "application/json"}).status_code == 400
    big = {"to": ALICE, "messages": [{"type": "text", "text": "x" * (2 * 1024 * 1024)}]}
    assert raw(app, "POST", "/v2/bot/message/push", json=big).status_code == 413


def test_bad_bearer_token_is_401(app, users):
    configuration = Configuration(host=app.config["LINE_API_HOST"], access_token="wrong")
    with ApiClient(configuration) as client, pytest.raises(ApiException) as raised:
        push(MessagingApi(client), TextMessage(text="hi"))
    assert raised.value.status == 401
    assert "Authentication failed" in raised.value.body


# Push, multicast, broadcast and retry keys ---------------------------------------------------

def test_retry_key_replay_is_409_and_delivers_once(api, line, users):
    key = str(uuid.uuid4())
    request = PushMessageRequest(to=ALICE, messages=[TextMessage(text="hi")])
    first = api.push_message_with_http_info(request, x_line_retry_key=key)

    with pytest.raises(ApiException) as raised:
        api.push_message(request, x_line_retry_key=key)

    assert raised.value.status == 409
    assert raised.value.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]
    assert '"The retry key is already accepted"' in raised.value.body
    assert first.data.sent_messages[0].id in raised.value.body
    [delivery] = line.deliveries()
    assert delivery.retry_key == key


def test_failed_request_does_not_consume_its_retry_key(api, line, users):
    key = str(uuid.uuid4())
    line.inject("push", status=500)

    with pytest.raises(ApiException) as raised:
        push(api, TextMessage(text="hi"), retry_key=key)
    assert raised.value.status == 500
    push(api, TextMessage(text="hi"), retry_key=key)

    assert len(line.deliveries()) == 1
    assert [r.status for r in line.requests] == [500, 200]


def test_concurrent_retries_deliver_once(app, line, users):
    key = str(uuid.uuid4())
    body = {"to": ALICE, "messages": [{"type": "text", "text": "hi"}]}
    statuses = []
    threads = [threading.Thread(target=lambda: statuses.append(raw(
        app, "POST", "/v2/bot/message/push", json=body,
        headers={"X-Line-Retry-Key": key}).status_code)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409, 409, 409]
    assert len(line.deliveries()) == 1


def test_retry_key_must_be_a_uuid(api, users):
    with pytest.raises(ApiException) as raised:
        push(api, TextMessage(text="hi"), retry_key="not-a-uuid")
    assert raised.value.status == 400


def test_injected_delay_answers_slowly_but_successfully(api, line, users):
    line.inject("push", status=None, delay=0.3)
    started = time.monotonic()
    push(api, TextMessage(text="hi"))
    assert time.monotonic() - started >= 0.3
    assert len(line.deliveries()) == 1


def test_injected_fault_applies_the_given_number_of_times(api, line, users):
    line.inject("*", status=429, times=2, body={"message": "Too many requests"})
    for _ in range(2):
        with pytest.raises(ApiException) as raised:
            api.get_profile(ALICE)
        assert raised.value.status == 429
    assert api.get_profile(ALICE).display_name == "Alice"


def test_an_injected_fault_can_answer_200_with_a_body_line_would_never_send(app, line, users):
    line.inject("richmenu", status=200, body={"richmenus": "x"})
    line.inject("richmenu", status=200, body="<html>maintenance</html>")
    first = raw(app, "GET", "/v2/bot/richmenu/list")
    second = raw(app, "GET", "/v2/bot/richmenu/list")
    assert (first.status_code, first.json()) == (200, {"richmenus": "x"})
    assert (second.status_code, second.text) == (200, "<html>maintenance</html>")
    assert second.headers["Content-Type"].startswith("text/plain")
    assert raw(app, "GET", "/v2/bot/richmenu/list").json() == {"richmenus": []}  # used up


def test_push_to_a_malformed_user_id_is_400(api, line):
    with pytest.raises(ApiException) as raised:
        push(api, TextMessage(text="hi"), to="U1")
    assert raised.value.status == 400
    push(api, TextMessage(text="hi"), to=STRANGER)  # well-formed but unknown: delivered
    assert [d.to for d in line.deliveries()] == [STRANGER]


def test_multicast(api, app, line, users):
    api.multicast(MulticastRequest(to=[ALICE, BOB], messages=[TextMessage(text="hi")]))
    assert [(d.to, d.via) for d in line.deliveries()] == [(ALICE, "multicast"), (BOB, "multicast")]

    too_many = {"to": [ALICE] * 501, "messages": [{"type": "text", "text": "hi"}]}
    assert raw(app, "POST", "/v2/bot/message/multicast", json=too_many).status_code == 400


@pytest.mark.parametrize("body, where", [
    ({"to": [], "messages": [{"type": "text", "text": "hi"}]}, "to"),
    ({"to": ALICE, "messages": [{"type": "text", "text": "hi"}]}, "to"),
    ({"to": [ALICE, 7], "messages": [{"type": "text", "text": "hi"}]}, "to[1]"),
    ({"to": [ALICE, "U1"], "messages": [{"type": "text", "text": "hi"}]}, None),
    ({"to": [ALICE], "messages": [{"type": "text"}]}, "messages[0].text"),
    ({"to": [ALICE], "messages": [{"type": "text", "text": "hi"}],
      "notificationDisabled": "yes"}, None),
])
def test_a_multicast_lists_one_to_500_user_ids_and_the_rest_is_checked_too(app, line, users,
                                                                           body, where):
    answer = raw(app, "POST", "/v2/bot/message/multicast", json=body)
    assert answer.status_code == 400
    if where:
        assert where in [d["property"] for d in answer.json()["details"]]
    assert line.deliveries() == []


def test_broadcast_and_narrowcast_reach_every_user(api, app, line, users):
    api.broadcast(BroadcastRequest(messages=[TextMessage(text="all")]))
    answer = raw(app, "POST", "/v2/bot/message/narrowcast",
                 json={"messages": [{"type": "text", "text": "some"}]})
    assert answer.status_code == 202
    assert answer.headers["x-line-request-id"]
    assert sorted((d.via, d.to) for d in line.deliveries()) == [
        ("broadcast", ALICE), ("broadcast", BOB), ("narrowcast", ALICE), ("narrowcast", BOB)]


# Profiles and content -------------------------------------------------------------------------

def test_profile(api, users):
    alice, bob = api.get_profile(ALICE), api.get_profile(BOB)
    assert (alice.display_name, alice.language) == ("Alice", "ja")
    assert bob.language is None
    with pytest.raises(ApiException) as raised:
        api.get_profile(STRANGER)
    assert raised.value.status == 404


def test_message_content(blob, line):
    line.add_content("100001", b"\xff\xd8jpeg")
    assert bytes(blob.get_message_content("100001")) == b"\xff\xd8jpeg"
    with pytest.raises(ApiException) as raised:
        blob.get_message_content("100002")
    assert raised.value.status == 404


# Rich menus -----------------------------------------------------------------------------------

def rich_menu(width=2500, height=843):
    return RichMenuRequest(
        size=RichMenuSize(width=width, height=height), selected=True, name="main",
        chat_bar_text="メニュー",
        areas=[RichMenuArea(bounds=RichMenuBounds(x=0, y=0, width=width, height=height),
                            action=PostbackAction(label="登録", data="reg:start"))])


def test_rich_menu_lifecycle(api, blob, line, users):
    api.validate_rich_menu_object(rich_menu())
    menu_id = api.create_rich_menu(rich_menu()).rich_menu_id
    assert menu_id.startswith("richmenu-")
    with pytest.raises(ApiException) as raised:
        api.set_default_rich_menu(menu_id)  # LINE wants the image first
    assert raised.value.status == 400

    image = png(2500, 843)
    blob.set_rich_menu_image(menu_id, body=image, _headers={"Content-Type": "image/png"})
    api.set_default_rich_menu(menu_id)
    other_id = api.create_rich_menu(rich_menu()).rich_menu_id
    blob.set_rich_menu_image(other_id, body=png(2500, 843, "JPEG"),
                             _headers={"Content-Type": "image/jpeg"})
    api.link_rich_menu_id_to_user(ALICE, other_id)

    assert api.get_rich_menu(menu_id).chat_bar_text == "メニュー"
    assert {m.rich_menu_id for m in api.get_rich_menu_list().richmenus} == {menu_id, other_id}
    assert api.get_default_rich_menu_id().rich_menu_id == menu_id
    assert api.get_rich_menu_id_of_user(ALICE).rich_menu_id == other_id
    assert bytes(blob.get_rich_menu_image(menu_id)) == image
    assert (line.rich_menu_for(ALICE), line.rich_menu_for(BOB)) == (other_id, menu_id)

    api.delete_rich_menu(other_id)
    assert line.rich_menu_for(ALICE) == menu_id
    api.unlink_rich_menu_id_from_user(ALICE)
    api.cancel_default_rich_menu()
    assert line.rich_menu_for(ALICE) is None
    assert list(line.rich_menus) == [menu_id]


def test_rich_menu_image_must_match_the_menu_size(api, blob, line):
    menu_id = api.create_rich_menu(rich_menu()).rich_menu_id
    with pytest.raises(ApiException) as raised:
        blob.set_rich_menu_image(menu_id, body=png(2500, 1686),
                                 _headers={"Content-Type": "image/png"})
    assert raised.value.status == 400
    assert line.rich_menus[menu_id]["image"] is None


def test_rich_menu_request_is_validated(api):
    with pytest.raises(ApiException) as raised:
        api.create_rich_menu(rich_menu(width=2500, height=2500))  # taller than LINE allows
    assert raised.value.status == 400
    with pytest.raises(ApiException) as raised:
        api.create_rich_menu(RichMenuRequest(name="no size"))
    assert raised.value.status == 400


# LIFF -----------------------------------------------------------------------------------------

def test_verify_id_token(app, line, users):
    verify = app.config["LINE_API_HOST"] + "/oauth2/v2.1/verify"
    token = line.issue_id_token(ALICE, "1650000000")

    accepted = requests.post(verify, data={"id_token": token, "client_id": "1650000000"},
                             timeout=5)
    wrong_client = requests.post(verify, data={"id_token": token, "client_id": "1"}, timeout=5)
    expired = requests.post(verify, timeout=5, data={
        "id_token": line.issue_id_token(ALICE, "1650000000", ttl=-1), "client_id": "1650000000"})

    assert accepted.status_code == 200
    assert accepted.json()["sub"] == ALICE
    assert accepted.json()["name"] == "Alice"
    assert accepted.json()["aud"] == "1650000000"
    assert wrong_client.status_code == expired.status_code == 400
    assert wrong_client.json()["error"] == "invalid_request"
    assert expired.json()["error_description"] == "IdToken expired."


def test_requests_are_logged(api, line, users):
    api.get_profile(ALICE)
    [record] = line.requests
    assert (record.method, record.path, record.endpoint, record.status) == (
        "GET", f"/v2/bot/profile/{ALICE}", "profile", 200)
