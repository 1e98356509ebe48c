"""The chat simulator at /_dev/chat, driven over real HTTP as the page drives it.

The simulator POSTs each event to the app's own /callback at the address it was reached on,
so these tests call it at `app.live_url`, not through the Flask test client.
"""

from __future__ import annotations

import re
import uuid

import pytest
import urllib3
from linebot.v3.messaging.models import (
    MessageAction,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
)

from bot.line import gateway
from tests.factories import png

LINE_USER_ID = re.compile(r"^U[0-9a-f]{32}$")


def api(app, method, path, **kw):
    response = urllib3.request(method, f"{app.live_url}/_dev/chat/api{path}",
                               timeout=15, retries=False, **kw)
    assert response.headers["Content-Type"] == "application/json", response.data[:300]
    return response.status, response.json()


def create_user(app, name="山田花子", language="ja") -> str:
    status, body = api(app, "POST", "/users", json={"displayName": name, "language": language})
    assert status == 201, body
    return body["user"]["userId"]


def send(app, user_id, **event):
    status, body = api(app, "POST", f"/users/{user_id}/events", json=event)
    assert status == 200, body
    return body["entry"]


def history(app, user_id):
    status, body = api(app, "GET", f"/users/{user_id}/history")
    assert status == 200, body
    return body


def test_the_page_loads_with_its_script_and_style(client):
    page = client.get("/_dev/chat/")
    assert page.status_code == 200
    assert b"/_dev/chat/static/simulator.js" in page.data
    assert b"/_dev/chat/static/simulator.css" in page.data
    assert client.get("/_dev/chat/static/simulator.js").status_code == 200
    assert client.get("/_dev/chat/static/simulator.css").status_code == 200


@pytest.mark.parametrize("language", ["ja", "en", None])
def test_creating_a_user_registers_the_profile_and_follows(app, line, language):
    status, body = api(app, "POST", "/users",
                       json={"displayName": "テスト太郎", "language": language})
    assert status == 201, body
    user_id = body["user"]["userId"]
    assert LINE_USER_ID.match(user_id)
    assert body["user"] == {"userId": user_id, "displayName": "テスト太郎",
                            "language": language, "blocked": False}
    assert line.users[user_id]["displayName"] == "テスト太郎"
    assert line.users[user_id].get("language") == language
    # /callback answers 200 only to a body signed with the channel secret.
    assert body["entry"]["type"] == "follow"
    assert body["entry"]["callback"] == {"status": 200}
    _, listed = api(app, "GET", "/users")
    assert body["user"] in listed["users"]


@pytest.mark.parametrize("event, recorded", [
    ({"type": "text", "text": "こんにちは\n二行目"}, {"text": "こんにちは\n二行目"}),
    ({"type": "postback", "data": "reg:start", "displayText": "登録する"},
     {"data": "reg:start", "displayText": "登録する", "params": None}),
    ({"type": "postback", "data": "birthday", "params": {"date": "2000-01-31"}},
     {"data": "birthday", "displayText": None, "params": {"date": "2000-01-31"}}),
    ({"type": "location", "latitude": 33.9672, "longitude": 134.3506, "title": "徳島県神山町"},
     {"latitude": 33.9672, "longitude": 134.3506, "title": "徳島県神山町"}),
])
def test_each_kind_of_event_reaches_the_webhook(app, event, recorded):
    user_id = create_user(app)
    entry = send(app, user_id, **event)
    assert entry["type"] == event["type"]
    assert {key: entry[key] for key in recorded} == recorded
    assert entry["callback"] == {"status": 200}


def test_history_merges_actions_and_deliveries_in_time_order(app, line):
    user_id = create_user(app)
    gateway(app).send("push", {"to": user_id, "messages": [{"type": "text", "text": "お知らせ"}]},
                      retry_key=str(uuid.uuid4()))
    send(app, user_id, type="text", text="こんにちは")

    entries = history(app, user_id)["entries"]
    times = [entry["at"] for entry in entries]
    assert times == sorted(times)
    assert len([e for e in entries if e["from"] == "bot"]) == len(line.deliveries(user_id))
    follow = next(i for i, e in enumerate(entries) if e["from"] == "user" and e["type"] == "follow")
    push = next(i for i, e in enumerate(entries)
                if e["from"] == "bot" and e["via"] == "push" and e["messages"][0]["text"] == "お知らせ")
    text = next(i for i, e in enumerate(entries) if e["from"] == "user" and e["type"] == "text")
    assert follow < push < text


def test_an_uploaded_image_is_registered_as_message_content(app):
    user_id = create_user(app)
    picture = png(color="red")
    status, body = api(app, "POST", f"/users/{user_id}/images",
                       fields={"file": ("qr.png", picture, "image/png")})
    assert status == 200, body
    entry = body["entry"]
    assert entry["type"] == "image"
    assert entry["callback"] == {"status": 200}
    assert gateway(app).message_content(entry["messageId"]) == picture
    shown = urllib3.request("GET", f"{app.live_url}/_dev/chat/api/images/{entry['messageId']}")
    assert (shown.status, shown.data) == (200, picture)


def test_blocking_and_unblocking(app):
    user_id = create_user(app)
    assert send(app, user_id, type="unfollow")["callback"] == {"status": 200}
    assert history(app, user_id)["blocked"] is True
    status, body = api(app, "POST", f"/users/{user_id}/events", json={"type": "text", "text": "hi"})
    assert status == 409 and "error" in body

    entry = send(app, user_id, type="follow")
    assert entry["unblocked"] is True and entry["callback"] == {"status": 200}
    assert history(app, user_id)["blocked"] is False


def test_the_rich_menu_of_the_user_is_shown_with_its_image(app):
    user_id = create_user(app)
    assert history(app, user_id)["richMenu"] is None
    menu = RichMenuRequest(
        size=RichMenuSize(width=2500, height=843), selected=True, name="main", chat_bar_text="メニュー",
        areas=[RichMenuArea(bounds=RichMenuBounds(x=0, y=0, width=1250, height=843),
                            action=MessageAction(label="登録", text="登録"))])
    picture = png(2500, 843, color="red")
    menu_id = gateway(app).create_rich_menu(menu, picture)
    gateway(app).set_default_rich_menu(menu_id)

    shown = history(app, user_id)["richMenu"]
    assert shown["richMenuId"] == menu_id and shown["hasImage"] is True
    assert shown["menu"]["areas"][0]["action"] == {"type": "message", "label": "登録", "text": "登録"}
    image = urllib3.request("GET", f"{app.live_url}/_dev/chat/api/richmenus/{menu_id}/image")
    assert (image.status, image.data) == (200, picture)


def test_an_unreachable_callback_is_reported_not_raised(app, client):
    # Reached on an address where nothing listens, the simulator cannot POST to /callback.
    response = client.post("/_dev/chat/api/users", json={"displayName": "A", "language": None},
                           base_url="http://127.0.0.1:1")
    assert response.status_code == 201
    callback = response.json["entry"]["callback"]
    assert callback["status"] is None and callback["error"]


@pytest.mark.parametrize("path, kw, status", [
    ("/users", {"json": {}}, 400),
    ("/users", {"json": {"displayName": "  "}}, 400),
    ("/users", {"json": {"displayName": "A", "language": "fr"}}, 400),
    ("/users", {"body": b"not json", "headers": {"Content-Type": "application/json"}}, 400),
    ("/users", {"body": b"[" * 50_000 + b"]" * 50_000,
                "headers": {"Content-Type": "application/json"}}, 400),
    ("/users/U00000000000000000000000000000000/events", {"json": {"type": "text", "text": "x"}}, 404),
    ("/users/U00000000000000000000000000000000/images",
     {"fields": {"file": ("a.png", b"x", "image/png")}}, 404),
    ("/users/{user}/events", {"json": {"type": "text"}}, 400),
    ("/users/{user}/events", {"json": {"type": "sticker"}}, 400),
    ("/users/{user}/events", {"json": ["text"]}, 400),
    ("/users/{user}/events", {"json": {"type": "postback"}}, 400),
    ("/users/{user}/events", {"json": {"type": "postback", "data": "x", "params": "date"}}, 400),
    ("/users/{user}/events", {"json": {"type": "location", "latitude": 91, "longitude": 0}}, 400),
    ("/users/{user}/events", {"json": {"type": "location", "latitude": "33", "longitude": 134}}, 400),
    ("/users/{user}/images", {"fields": {"other": "x"}}, 400),
    ("/users/{user}/images", {"fields": {"file": ("a.txt", b"hello", "text/plain")}}, 400),
])
def test_bad_requests_get_a_json_error(app, path, kw, status):
    path = path.format(user=create_user(app)) if "{user}" in path else path
    answered, body = api(app, "POST", path, **kw)
    assert answered == status
    assert body["error"]


@pytest.mark.parametrize("path", ["/users/U00000000000000000000000000000000/history",
                                  "/images/123", "/richmenus/richmenu-unknown/image"])
def test_unknown_things_are_a_json_404(app, path):
    status, body = api(app, "GET", path)
    assert status == 404 and body["error"]
