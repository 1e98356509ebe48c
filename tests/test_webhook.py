"""Webhook events and bad input (docs/rules.md): signature, empty events, duplicates, unknown, malformed."""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from bot.store.models import Person, ProcessedEvent, SurveyAnswer
from tests.factories import (
    Chat,
    count,
    follow_event,
    post,
    postback_event,
    signature,
    text_event,
    user_id,
    webhook_body,
)


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


def test_json_nested_deeper_than_the_decoder_goes_is_a_400(app, client, db):
    deep = b'{"destination": "x", "events": [' + b"[" * 50_000 + b"]" * 50_000 + b"]}"
    assert post(client, app, body=deep).status_code == 400
    assert count(db, Person) == 0


@pytest.mark.parametrize("source, event_id", [
    ("U" + "0" * 100, None), ("U1\x00", None), ("U" + "0" * 32, "01" + "X" * 100),
    ("U" + "0" * 32, "01X\x00"),
], ids=["long user ID", "NUL in user ID", "long event ID", "NUL in event ID"])
def test_an_event_with_ids_line_never_gives_is_ignored(app, client, db, line, caplog, source,
                                                      event_id):
    event = follow_event(source, reply_token=line.issue_reply_token(user_id("x")))
    if event_id is not None:
        event["webhookEventId"] = event_id
    assert post(client, app, event).status_code == 200
    assert count(db, Person) == 0 and count(db, ProcessedEvent) == 0
    assert "not one LINE gives" in caplog.text
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.mark.parametrize("name, language, stored", [
    ("花\x00子", "ja", ("花子", "ja")),
    ("名" * 150, "ja", ("名" * 100, "ja")),
    ("花子", "x" * 40, ("花子", None)),
    ("花子", "ja\x00", ("花子", None)),
], ids=["NUL in the name", "a name longer than its column", "a long language", "NUL in language"])
def test_a_line_profile_is_stored_as_it_can_be(app, client, db, line, caplog, name, language,
                                               stored):
    chat = Chat(app, client, line, name, language)
    for _ in range(2):  # and again, as someone who comes back
        chat.follow()
        assert f"{stored[0]}さん" in chat.text()
    with db.transaction() as session:
        person = session.scalars(select(Person)).one()
        assert (person.display_name, person.profile_language) == stored
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_nul_characters_in_what_a_person_types_are_dropped(app, client, db, line, caplog):
    chat = Chat(app, client, line)
    chat.follow()
    chat.say("登録\x00する")
    chat.say("神\x00山")
    assert "神山町" in chat.text()  # found by the name without the NUL
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


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
    assert json.loads(response.data) == {"status": "ok", "database": "ok", "outbox": "sending"}


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


def test_replies_are_the_json_the_sdk_would_send(app, client, db, line, join):
    """The reply is serialised without the SDK's models; LINE must get exactly what they give."""
    from linebot.v3.messaging.models import Message

    from bot.line import as_json
    from tests.factories import register_by_name

    join("363421", "360007")
    chat = Chat(app, client, line)
    chat.follow()
    register_by_name(chat, "神山")
    chat.tap("出身地")
    for step in ("次へ", "スキップ", "スキップ", "スキップ"):
        chat.tap(step)
    for word in ("登録状況", "地域の情報", "設定", "ヘルプ"):
        chat.say(word)
    sent = [m for d in line.deliveries(chat.user_id) for m in d.messages]
    assert {m["type"] for m in sent} >= {"text", "template", "flex"}
    for message in sent:
        model = Message.from_dict(message)
        assert as_json(model) == model.to_dict() == message


def test_the_json_of_built_messages_equals_the_sdks(db):
    from bot.line import as_json
    from bot.services import entities
    from conversations.menu import messages as menu
    from conversations.registration import messages as registration

    with db.transaction() as session:
        town, prefecture = entities.by_code(session, "363421"), entities.by_code(session, "360007")
        built = [*menu.greeting("花子", returning=False), *menu.help_text(None),
                 *registration.confirm_registration(town, prefecture, "t0"),
                 *registration.ask_question("relationship", town, ["birthplace"], "t0")]
    for message in built:
        assert as_json(message) == message.to_dict()


def test_a_reply_that_gets_no_answer_does_not_cost_the_other_events(app, client, db):
    app.config["LINE_API_HOST"] = "http://127.0.0.1:9"  # nothing listens: no answer at all
    first, second = user_id("一"), user_id("二")
    response = post(client, app, text_event("ヘルプ", first, reply_token="r1"),
                    text_event("ヘルプ", second, reply_token="r2"))
    assert response.status_code == 200
    assert count(db, ProcessedEvent) == 2 and count(db, Person) == 2


def test_a_database_connection_the_server_closed_is_replaced_unnoticed(app, client, db, line):
    """Without pool_pre_ping's SELECT 1 per event, a dead pooled connection must still not
    turn into an apology (PostgreSQL: the server ends idle connections on restart)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to close connections")
    from sqlalchemy import text
    chat = Chat(app, client, line)
    chat.say("ヘルプ")
    assert db.engine.pool.checkedin() == 1
    with db.engine.connect() as connection:  # the connection the webhook used, back in the pool
        pooled = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    admin = create_engine(db.engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                " WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        for _ in range(100):  # the backends take a moment to go
            if not connection.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid = :pid"), {"pid": pooled}).scalar():
                break
            time.sleep(0.05)
    admin.dispose()
    chat.say("ヘルプ")
    assert "できること" in chat.text() and "申し訳ありません" not in chat.text()
    assert client.get("/healthz").status_code == 200


def _at_once(app, events: list[dict]) -> list[int]:
    """POST each event in its own thread, all released together (LINE delivers in parallel)."""
    barrier = threading.Barrier(len(events))

    def deliver(event):
        client = app.test_client()
        barrier.wait()
        return post(client, app, event).status_code

    with ThreadPoolExecutor(len(events)) as pool:
        return list(pool.map(deliver, events))


def test_one_persons_events_at_the_same_moment_are_handled_one_after_the_other(
        app, client, db, line, join):
    """Six survey choices tapped at once: each toggle reads the state the previous one wrote
    (the person's row lock), so none is lost."""
    from tests.factories import actions_of, register_by_name

    join("363421", "360007")
    chat = Chat(app, client, line)
    chat.follow()
    register_by_name(chat, "神山")
    labels = ["出身地", "以前住んでいた", "家族・親族がいる", "仕事・学校で通った", "ふるさと納税をした",
              "何度も訪れている"]
    taps = [action["data"] for m in chat.last for action in actions_of(m)
            if action["label"] in labels]
    assert len(taps) == len(labels)
    events = [postback_event(data, chat.user_id, reply_token=chat.token()) for data in taps]
    assert _at_once(app, events) == [200] * len(events)
    last = line.deliveries(chat.user_id)[-1].messages
    assert sorted(a["label"] for m in last for a in actions_of(m) if a["label"].startswith("✓ ")) \
        == sorted("✓ " + label for label in labels)
    chat.tap("次へ", last)
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(SurveyAnswer)
                              .where(SurveyAnswer.question == "relationship")) == len(labels)


def test_a_new_persons_first_events_at_once_make_one_person(app, db, line):
    someone = user_id("新人")
    line.add_user(someone, "新人", "ja")
    events = [text_event(word, someone, reply_token=line.issue_reply_token(someone))
              for word in ("ヘルプ", "設定", "ヘルプ")]
    assert _at_once(app, events) == [200] * 3
    assert count(db, Person) == 1
    assert len(line.deliveries(someone)) == 3


def test_a_duplicate_delivered_at_the_same_moment_is_acted_on_once(app, client, db, line):
    chat = Chat(app, client, line)
    event = text_event("ヘルプ", chat.user_id, reply_token=chat.token())
    assert _at_once(app, [event] * 4) == [200] * 4
    assert len(line.deliveries(chat.user_id)) == 1
    assert count(db, ProcessedEvent) == 1


def _profile(db, line_user_id: str) -> tuple:
    with db.transaction() as session:
        person = session.scalar(select(Person).where(Person.line_user_id == line_user_id))
        return person.display_name, person.profile_language, person.following


def test_a_follow_stores_the_line_profile_of_new_and_known_people(app, client, db, line):
    chat = Chat(app, client, line, "Alice", "en")
    chat.follow()  # a new person: inserted with the profile
    assert _profile(db, chat.user_id) == ("Alice", "en", True)
    chat.unfollow()
    line.add_user(chat.user_id, "Alice B.", "ja")
    chat.follow()  # known: the profile as it is now
    assert _profile(db, chat.user_id) == ("Alice B.", "ja", True)
    first_words = Chat(app, client, line, "先に話した人")
    first_words.say("ヘルプ")  # known before following: no profile yet
    assert _profile(db, first_words.user_id) == (None, None, True)
    first_words.follow()
    assert _profile(db, first_words.user_id) == ("先に話した人", "ja", True)
