"""Event builders and a chat driver for tests (STYLE: event builders in one place)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from bot.devtools.events import (  # noqa: F401
    follow_event,
    image_event,
    location_event,
    postback_event,
    signature,
    sticker_event,
    text_event,
    unfollow_event,
    webhook_body,
)
from bot.store.models import Entity, Person, Registration
from cli.scenario import message_actions, message_texts

KAMIYAMA, TOKUSHIMA = "363421", "360007"
FUCHU_TOKYO, FUCHU_HIROSHIMA, TOKYO = "132063", "342084", "130001"
SAPPORO, HOKKAIDO = "011002", "010006"
TOKYO_CHIYODA = "131016"


def user_id(name: str) -> str:
    return "U" + hashlib.md5(name.encode()).hexdigest()


def post(client, app, *events, body: bytes | None = None, sign: bool = True):
    """POST a webhook to /callback, signed with the channel secret as LINE signs it."""
    body = webhook_body(*events) if body is None else body
    headers = {"Content-Type": "application/json"}
    if sign:
        headers["X-Line-Signature"] = signature(body, app.config["LINE_CHANNEL_SECRET"])
    return client.post("/callback", data=body, headers=headers)


def texts_of(message: dict) -> list[str]:
    return message_texts(message)


def actions_of(message: dict) -> list[dict]:
    return message_actions(message)


class Chat:
    """One LINE user talking to the bot through real signed webhooks and the local platform."""

    def __init__(self, app, client, line, name: str = "花子", language: str | None = "ja"):
        self.app, self.client, self.line = app, client, line
        self.user_id = user_id(name + str(language))
        line.add_user(self.user_id, name, language)
        self.seen = 0
        self.last: list[dict] = []

    def _send(self, event: dict) -> list[dict]:
        response = post(self.client, self.app, event)
        assert response.status_code == 200, response.data
        deliveries = self.line.deliveries(self.user_id)
        new = deliveries[self.seen:]
        self.seen = len(deliveries)
        self.last = [message for delivery in new for message in delivery.messages]
        return self.last

    def token(self):
        return self.line.issue_reply_token(self.user_id)

    def follow(self):
        return self._send(follow_event(self.user_id, reply_token=self.token()))

    def unfollow(self):
        return self._send(unfollow_event(self.user_id))

    def say(self, text: str):
        return self._send(text_event(text, self.user_id, reply_token=self.token()))

    def location(self, latitude: float, longitude: float):
        return self._send(location_event(latitude, longitude, self.user_id,
                                         reply_token=self.token()))

    def postback(self, data: str):
        return self._send(postback_event(data, self.user_id, reply_token=self.token()))

    def postback_with(self, messages: list[dict], label: str, params: dict):
        """Pick a date or time in a datetimepicker button, as the LINE app sends it."""
        for message in reversed(messages):
            for action in actions_of(message):
                if action["label"] == label and action["type"] == "datetimepicker":
                    return self._send(postback_event(action["data"], self.user_id, params=params,
                                                     reply_token=self.token()))
        raise AssertionError(f"no picker {label!r} in: {self.labels()}")

    def tap(self, label: str, messages: list[dict] | None = None):
        """Tap the most recent button with this label, as the LINE app would."""
        for message in reversed(messages if messages is not None else self.last):
            for action in actions_of(message):
                if action["label"] == label:
                    if action["type"] == "postback":
                        return self.postback(action["data"])
                    if action["type"] == "message":
                        return self.say(action["text"])
                    raise AssertionError(f"cannot tap a {action['type']} action in a test")
        raise AssertionError(f"no button {label!r} in: {self.labels()}")

    def text(self) -> str:
        return "\n".join(t for m in self.last for t in texts_of(m))

    def labels(self) -> list[str]:
        return [a["label"] for m in self.last for a in actions_of(m)]


def held(db, chat) -> dict[str, tuple[str, str, str]]:
    """code → (kind, origin, status) of every registration of this chat's person."""
    with db.transaction() as session:
        rows = session.execute(
            select(Entity.code, Registration.kind, Registration.origin, Registration.status)
            .join(Registration.entity).join(Registration.person)
            .where(Person.line_user_id == chat.user_id)).all()
    return {code: (kind, origin, status) for code, kind, origin, status in rows}


def register_by_name(chat, name, pick=None):
    chat.tap("登録する") if "登録する" in chat.labels() else chat.say("登録する")
    chat.say(name)
    if pick:
        chat.tap(pick)
    chat.tap("登録する")


def make_staff(runner, chat, code: str, role: str = "staff") -> None:
    """An operator invites, the person sends the invitation to the bot (issue #3)."""
    result = runner.invoke(args=["staff", "invite", code, "--role", role])
    assert result.exit_code == 0, result.output
    invitation = result.output.strip().splitlines()[-1].strip()
    chat.say(invitation)
    assert "として登録しました" in chat.text() or "registered as" in chat.text().lower(), chat.text()


def open_activity(app, code: str, title: str = "棚田の草刈り", designated: bool = True,
                  rotate_seconds: int | None = None, starts_in_minutes: int = -30,
                  hours: int = 2) -> tuple[int, int, str]:
    """An activity of `code` whose session is open now; returns (activity, session, token)."""
    from datetime import UTC, datetime, timedelta

    from bot.services import activities, entities

    now = datetime.now(UTC)
    starts_at = now + timedelta(minutes=starts_in_minutes)
    with app.extensions["db"].transaction() as session:
        entity = entities.by_code(session, code)
        activity = activities.create(
            session, entity, title=title, category="volunteer", designated=designated,
            place="役場前", windows=[(starts_at, starts_at + timedelta(hours=hours))], now=now,
            rotate_seconds=rotate_seconds)
        first = activity.sessions[0]
        token = activities.token(first, app.config["SECRET_KEY"], now) if rotate_seconds \
            else activities.token(first, app.config["SECRET_KEY"])
        return activity.id, first.id, token
