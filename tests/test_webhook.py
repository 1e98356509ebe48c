"""The webhook bars of SPEC §5: signature, empty events, duplicates, unknown and malformed."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from bot.models import Person, ProcessedEvent
from tests.factories import Chat, follow_event, post, signature, text_event, user_id, webhook_body


def count(db, model) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_bad_signature_is_refused_and_nothing_is_stored(app, client, db, line):
    body = webhook_body(follow_event(user_id("a")))
    response = client.post("/callback", data=body, headers={
        "X-Line-Signature": signature(body, "not-the-channel-secret"),
        "Content-Type": "application/json"})
    assert response.status_code == 400
    assert count(db, Person) == 0 and count(db, ProcessedEvent) == 0
    assert line.deliveries() == []


def test_missing_signature_is_refused(app, client, db):
    response = post(client, app, follow_event(user_id("a")), sign=False)
    assert response.status_code == 400
    assert count(db, Person) == 0


def test_empty_events_is_ok(app, client):
    assert post(client, app).status_code == 200  # LINE's "verify" button sends this


def test_malformed_body_with_a_good_signature_is_a_400(app, client, db):
    for body in (b"not json", b'{"destination": "x"}', b'{"events": [{"no": "type"}]}'):
        assert post(client, app, body=body).status_code == 400, body
    assert count(db, Person) == 0


def test_duplicate_event_id_is_acknowledged_and_skipped(app, client, db, line):
    chat = Chat(app, client, line)
    event = text_event("ヘルプ", chat.user_id, reply_token=chat.token())
    assert post(client, app, event).status_code == 200
    redelivered = dict(event, deliveryContext={"isRedelivery": True})
    assert post(client, app, redelivered).status_code == 200
    assert len(line.deliveries(chat.user_id)) == 1
    assert count(db, ProcessedEvent) == 1


def test_unknown_event_types_are_acknowledged_and_ignored(app, client, line):
    chat = Chat(app, client, line)
    unknown = {"type": "somethingNew", "mode": "active", "timestamp": 1,
               "source": {"type": "user", "userId": chat.user_id},
               "webhookEventId": "01UNKNOWNEVENT000000000000",
               "deliveryContext": {"isRedelivery": False}}
    assert post(client, app, unknown).status_code == 200
    assert line.deliveries(chat.user_id) == []


def test_one_bad_event_does_not_lose_the_others(app, client, line):
    first, third = Chat(app, client, line, "一"), Chat(app, client, line, "三")
    broken = text_event("x", user_id("二"))
    del broken["message"]  # a message event without its message
    response = post(client, app, follow_event(first.user_id, reply_token=first.token()),
                    broken, text_event("ヘルプ", third.user_id, reply_token=third.token()))
    assert response.status_code == 200
    assert "ふるさと住民登録" in " ".join(
        m["text"] for d in line.deliveries(first.user_id) for m in d.messages)
    assert line.deliveries(third.user_id)


def test_group_events_are_ignored(app, client, line):
    event = text_event("登録", user_id("g"))
    event["source"] = {"type": "group", "groupId": "C" + "0" * 32, "userId": user_id("g")}
    assert post(client, app, event).status_code == 200
    assert line.deliveries() == []


def test_every_event_counts_as_access_r8(app, client, db, line):
    chat = Chat(app, client, line)
    chat.follow()
    with db.transaction() as session:
        first = session.scalar(select(Person.last_access_at))
    chat.say("ヘルプ")
    with db.transaction() as session:
        assert session.scalar(select(Person.last_access_at)) > first


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.data) == {"status": "ok", "database": "ok"}


def test_huge_text_and_emoji_get_a_polite_answer(app, client, line):
    chat = Chat(app, client, line)
    chat.say("🏯" * 6000)
    assert "すみません" in chat.text()
    chat.say("👋")
    assert chat.last, "never silence"


def test_a_sticker_gets_a_polite_answer(app, client, line):
    from tests.factories import sticker_event
    chat = Chat(app, client, line)
    chat._send(sticker_event(chat.user_id, reply_token=chat.token()))
    assert "このメッセージには対応していません" in chat.text()
