"""Everything tests share, in one place: event builders, a chat driver, and the set-ups
several test modules make. No test module imports another: what two of them need lives here.
"""

from __future__ import annotations

import hashlib
import io
import textwrap
from datetime import UTC, date, datetime, timedelta
from urllib.parse import unquote, urlsplit

from PIL import Image
from sqlalchemy import func, select

from bot.codes.checkin_codes import text_for
from bot.delivery.worker import Worker
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
from bot.identity import records
from bot.services import activities, entities, people
from bot.store.models import (
    Entity,
    GuardianConsent,
    IdentityVerification,
    Person,
    Registration,
    RegistrationKind,
)
from cli import walkthrough
from cli.delivered import message_actions, message_texts

KAMIYAMA, TOKUSHIMA = "363421", "360007"
KAMIKATSU = "363022"  # 上勝町, another town of 徳島県
FUCHU_TOKYO, FUCHU_HIROSHIMA, TOKYO = "132063", "342084", "130001"
SAPPORO, HOKKAIDO = "011002", "010006"
HIROSHIMA = "340006"
TOKYO_CHIYODA = "131016"
#: The sandbox provider's PIN for every test persona's card.
PIN = walkthrough.SANDBOX_PIN
PREMIUM_UNTIL = datetime(2099, 4, 30, 15, 0, tzinfo=UTC)  # 2099年5月1日 0:00 in Japan


def now() -> datetime:
    return datetime.now(UTC)


def url_path(url: str) -> str:
    """The path of one of our absolute URLs, for the test client."""
    return urlsplit(url).path


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


def staff_invitation(runner, code: str = KAMIYAMA, role: str = "staff", hours: int = 72) -> str:
    """An operator's invitation (`furusato staff invite`), as the text to send the bot."""
    result = runner.invoke(args=["staff", "invite", code, "--role", role, "--valid-hours", str(hours)])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1].strip()


def make_staff(runner, chat, code: str, role: str = "staff") -> None:
    """An operator invites, the person sends the invitation to the bot (issue #3)."""
    chat.say(staff_invitation(runner, code, role))
    assert "として登録しました" in chat.text() or "registered as" in chat.text().lower(), chat.text()


def staff_member(app, client, line, runner, name: str = "職員", code: str = KAMIYAMA,
                 role: str = "staff") -> Chat:
    """A new person who follows the account and is made staff of `code`."""
    chat = Chat(app, client, line, name)
    chat.follow()
    make_staff(runner, chat, code, role)
    return chat


def open_activity(app, code: str, title: str = "棚田の草刈り", designated: bool = True,
                  rotate_seconds: int | None = None, starts_in_minutes: int = -30,
                  hours: int = 2) -> tuple[int, int, str]:
    """An activity of `code` whose session is open now; returns (activity, session, token)."""
    at = now()
    starts_at = at + timedelta(minutes=starts_in_minutes)
    with app.extensions["db"].transaction() as session:
        entity = entities.by_code(session, code)
        activity = activities.create(
            session, entity, title=title, category="volunteer", designated=designated,
            place="役場前", windows=[(starts_at, starts_at + timedelta(hours=hours))], now=at,
            rotate_seconds=rotate_seconds)
        first = activity.sessions[0]
        token = activities.token(first, app.config["SECRET_KEY"], at) if rotate_seconds \
            else activities.token(first, app.config["SECRET_KEY"])
        return activity.id, first.id, token


# People in the chat ---------------------------------------------------------------------------

def registered(chat, name: str, pick: str | None = None) -> None:
    """Registered at the place typed as `name`; the relationship survey left (it is optional)."""
    register_by_name(chat, name, pick)
    chat.say("キャンセル")  # leaves the relationship survey; the registration stays


def resident(app, client, line, name: str, town: str | None = "神山") -> Chat:
    """A new person who follows the account, registered at `town` (None: nowhere)."""
    chat = Chat(app, client, line, name)
    chat.follow()
    if town:
        registered(chat, town)
    return chat


def kamiyama_resident(app, client, line, join, name: str = "花子") -> Chat:
    """A new person registered at 神山町 (and so at 徳島県, R2), 札幌市 taking part too; the
    registration started by typing the town's name."""
    join(KAMIYAMA, TOKUSHIMA, SAPPORO)
    chat = Chat(app, client, line, name=name)
    chat.follow()
    chat.say("神山")
    chat.tap("登録する")
    chat.say("キャンセル")  # the survey is optional
    return chat


def take_part(app, chat, code: str, times: int = 1) -> None:
    """Check in at `times` designated activities of `code`, by the pre-typed QR text."""
    for number in range(times):
        _activity, _session, token = open_activity(app, code, title=f"草刈り{number + 1}")
        chat.say(text_for(token))
        assert "参加を受け付けました" in chat.text(), chat.text()


def photo(chat, line, data: bytes, content_type: str = "image/jpeg"):
    """Send a photo in the chat, as LINE does: its content waits on the platform."""
    message_id = str(900000000000000000 + len(line.deliveries()) + len(data) % 1000)
    line.add_content(message_id, data, content_type)
    return chat._send(image_event(chat.user_id, message_id=message_id, reply_token=chat.token()))


def png(width: int = 8, height: int = 8, kind: str = "PNG", color: str = "white") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, kind)
    return out.getvalue()


# What the worker process delivers --------------------------------------------------------------

def deliver(app, now: datetime | None = None) -> None:
    """What the worker process does: fan out due broadcasts, send the outbox."""
    worker = Worker(app)
    for _ in range(5):
        worker.run_once(now)


def heard(app, chat, now: datetime | None = None) -> str:
    """Send the outbox (as if at `now`), then what this chat received since it last looked."""
    Worker(app, threads=1).run_once(now)
    deliveries = chat.line.deliveries(chat.user_id)
    chat.last = [m for d in deliveries[chat.seen:] for m in d.messages]
    chat.seen = len(deliveries)
    return chat.text()


# Identity verification -------------------------------------------------------------------------

def verification_uri(chat) -> str:
    """The link of the chat's 本人確認 button."""
    chat.say("本人確認")
    uris = [a["uri"] for m in chat.last for a in actions_of(m) if a["type"] == "uri"]
    assert uris, chat.text()
    return uris[0]


def typed_text(page: walkthrough.Page) -> str:
    """What the page's button types in the chat (https://line.me/R/oaMessage/{id}/?{text})."""
    [link] = [link for link in page.links if "/oaMessage/" in link]
    return unquote(urlsplit(link).query)


def verify_in_chat(chat, persona: str, link: str | None = None,
                   language: str = "ja") -> walkthrough.Page:
    """One's own verification from the chat's signed link, as its owner finishes it: the
    pages, then the code they show sent in the owner's chat (its answer: `chat.text()`).
    Returns the code page."""
    page = walkthrough.verify(link or verification_uri(chat), persona, language)
    assert page.outcome == "confirm_in_chat", f"{page.status} {page.outcome}: {page.text[:300]}"
    chat.say(typed_text(page))
    return page


def verify(db, chat, born: date = date(1990, 4, 1), guardian: bool = False) -> None:
    """What a finished My Number Card verification leaves in the database (R13)."""
    at = now()
    with db.transaction() as session:
        person = people.find(session, chat.user_id)
        session.add(IdentityVerification(
            person_id=person.id, provider="sandbox", subject="sub-" + chat.user_id,
            verified_at=at, birth_date=born, name="山田花子", consent_version="2026-12",
            consented_at=at))
        if guardian:
            session.add(GuardianConsent(person_id=person.id, provider="sandbox",
                                        subject="guardian-" + chat.user_id,
                                        relationship_to_minor="parent", consented_at=at))


def identity_rows(db, chat):
    """(declared residence code, verification, guardian consent) of the chat's person."""
    with db.transaction() as session:
        person = people.find(session, chat.user_id)
        residence = person.residence.code if person.residence else None
        return residence, records.verification_of(session, person), records.consent_of(session, person)


# Rows in the database ---------------------------------------------------------------------------

def person_of(session, chat) -> Person:
    return session.scalars(select(Person).where(Person.line_user_id == chat.user_id)).one()


def count(db, model) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def premium_row(db, chat, code: str) -> Registration:
    """The person's active registration at `code`."""
    with db.transaction() as session:
        return session.scalar(
            select(Registration).join(Registration.entity).join(Registration.person)
            .where(Registration.status == "active", Entity.code == code,
                   Person.line_user_id == chat.user_id))


def make_premium(db, chat, code: str, until: datetime = PREMIUM_UNTIL) -> None:
    """Premium at `code` until `until`, as the premium flow's grant leaves it, written straight
    into the database (no verification, no prefecture co-registration)."""
    with db.transaction() as session:
        person = person_of(session, chat)
        registration = session.scalars(
            select(Registration).join(Registration.entity)
            .where(Registration.person_id == person.id, Registration.status == "active")
            .where(Registration.entity.has(code=code))).one()
        registration.kind = RegistrationKind.PREMIUM
        registration.premium_since = until - timedelta(days=365)
        registration.premium_until = until


# Operators' commands ----------------------------------------------------------------------------

def require(runner, code: str, activities: int = 1, mode: str | None = None) -> None:
    """The entity asks for `activities` designated activities before premium (R4)."""
    args = ["entities", "set", code, "--required-activities", str(activities)]
    result = runner.invoke(args=args + (["--renewal-mode", mode] if mode else []))
    assert result.exit_code == 0, result.output


def write_scenario(tmp_path, text: str, name: str = "scenario.yaml"):
    """A scenario file (`furusato scenario`) written from an indented block."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path
