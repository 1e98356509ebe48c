"""LINE events in → which conversation or command gets them.

Each event is handled in its own transaction: the event ID is claimed (a redelivered
duplicate stops here), the person's row is locked, the conversation answers, the state is
written — all committed together. The reply, and any other call to LINE a step asked for,
goes out after the commit (`after_commit`): whatever LINE does then, the change stands and
LINE's webhook gets its 200. What needs LINE before that (a profile, a photo) is fetched first,
so no HTTP call is made while the person's row is locked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask
from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    ImageMessageContent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
    UserSource,
)
from sqlalchemy.orm import Session

from bot import line
from bot.codes import qr
from bot.i18n import use_locale
from bot.line import Profile
from bot.services import people, registry
from bot.store.db import database, set_changed
from bot.store.models import Person, ProcessedEvent
from conversations.engine import Context, Location, Photo, Step, Tapped, Text, Turn, load_state
from conversations.menu import messages as menu_messages
from conversations.postback import unpack
from conversations.router import respond

log = logging.getLogger(__name__)

#: Text is cut to this before we look at it (Bad input, docs/rules.md): above every step's own limit
#: (the longest, a broadcast's, is 2,000), so that a step still sees text too long for it and
#: says so, rather than keeping the first part of it without a word.
MAX_TEXT_READ = 5000


@dataclass(frozen=True)
class Fetched:
    """What was asked of LINE before the transaction."""
    profile: Profile | None = None
    photo: Photo | None = None


def handle(app: Flask, event: Event, now: datetime | None = None) -> None:
    """Handle one event; failures are logged and apologised for, never raised to LINE."""
    source = getattr(event, "source", None)
    if not isinstance(source, UserSource) or not source.user_id:
        log.info("ignored %s event from a %s", event.type, getattr(source, "type", "unknown"))
        return
    if not (_storable(source.user_id, _USER_ID_LENGTH)
            and _storable(event.webhook_event_id, _EVENT_ID_LENGTH)):
        log.warning("ignored %s event: its user or event ID is not one LINE gives", event.type)
        return
    now = now or datetime.now(UTC)
    gateway = line.gateway(app)
    fetched = fetch(gateway, event, source.user_id)
    reply_token = getattr(event, "reply_token", None)
    locale = None
    try:
        with database(app).transaction() as session:
            # The event ID is claimed, the person locked (a new follower inserted with
            # their LINE profile) and their access counted (R8).
            person = people.arrive(session, event.webhook_event_id, source.user_id, now,
                                   fetched.profile)
            if person is None:
                log.info("duplicate event %s skipped", event.webhook_event_id)
                return
            step = _answer(app, session, person, event, fetched, now)
            locale = people.locale_of(person)
    except Exception:
        # The transaction is rolled back, so a redelivery would try again; the person hears
        # that something went wrong instead of silence.
        log.exception("event %s (%s) failed", event.webhook_event_id, event.type)
        with use_locale(locale):
            step = Step(menu_messages.apology())
    calls = list(step.after)
    if reply_token and step.replies:
        replies = step.replies
        calls.insert(0, line.AfterCommit("reply", lambda g: g.reply(reply_token, replies),
                                         "The person, left without an answer, may ask again."))
    after_commit(gateway, calls, event.webhook_event_id)


def after_commit(gateway: line.LineGateway, calls: Iterable[line.AfterCommit],
                 event_id: str) -> None:
    """Make each call in turn, once; a failure is logged with what to do, and goes no further.

    The change they follow is committed: raising would undo nothing, only answer LINE's webhook
    with a 500 (and a redelivery is skipped as a duplicate), and skip the calls after it.
    """
    for call in calls:
        try:
            call.call(gateway)
        except line.FAILURES as error:
            log.warning("after event %s: could not %s: %s; the change is kept. %s",
                        event_id, call.what, line.failure(error), call.remedy)
        except Exception:  # not LINE's doing: the traceback is for us
            log.exception("after event %s: could not %s; the change is kept. %s",
                          event_id, call.what, call.remedy)


_USER_ID_LENGTH = Person.line_user_id.type.length
_EVENT_ID_LENGTH = ProcessedEvent.webhook_event_id.type.length


def _storable(value: object, length: int) -> bool:
    # LINE's IDs are short ASCII; anything else would fail in the database (PostgreSQL refuses
    # NUL and over-long values) after the event had been half handled.
    return isinstance(value, str) and 0 < len(value) <= length and "\x00" not in value


def _readable(text: str) -> str:
    """Typed or tapped text as we read it: cut (Bad input, docs/rules.md), without NUL characters,
    which no LINE client sends and PostgreSQL cannot store."""
    return text[:MAX_TEXT_READ].replace("\x00", "")


def fetch(gateway: line.LineGateway, event: Event, user_id: str) -> Fetched:
    if isinstance(event, FollowEvent):
        return Fetched(profile=gateway.profile(user_id))
    if isinstance(event, MessageEvent) and isinstance(event.message, ImageMessageContent):
        return Fetched(photo=read_photo(gateway, event.message.id))
    return Fetched()


def read_photo(gateway: line.LineGateway, message_id: str) -> Photo:
    """The QR codes in a photo the person sent (R12: check-in by a photo of the poster)."""
    try:
        content = gateway.message_content(message_id)
    except line.FAILURES as error:
        log.warning("photo %s unavailable: %s", message_id, line.failure(error))
        return Photo(None)
    try:
        return Photo(tuple(qr.decode_qr(content)), content)
    except qr.UnreadableImage:
        return Photo(None)


def _answer(app: Flask, session: Session, person: Person, event: Event, fetched: Fetched,
            now: datetime) -> Step:
    handler = HANDLERS.get(type(event))
    if handler is None:
        return Step([])  # an event type we do not act on: acknowledged, counted as access
    return handler(Context(session, person, now, app.config), event, fetched)


def on_follow(ctx: Context, event: FollowEvent, fetched: Fetched) -> Step:
    person = ctx.person
    returning = person.created_at < ctx.now or not person.following
    now_known = {"following": True}
    if fetched.profile is not None:
        now_known |= people.named(fetched.profile)
    set_changed(person, now_known)  # a new follower's row already says all this (`arrive`)
    registered = returning and bool(registry.active(ctx.session, person))
    with use_locale(people.locale_of(person)):
        return Step(menu_messages.greeting(person.display_name, returning=returning,
                                           registered=registered))


def on_unfollow(ctx: Context, event: UnfollowEvent, fetched: Fetched) -> Step:
    ctx.person.following = False  # R14: nothing is sent to them any more; data stays
    return Step([])


def on_message(ctx: Context, event: MessageEvent, fetched: Fetched) -> Step:
    content = event.message
    turn: Turn | None = fetched.photo
    if isinstance(content, TextMessageContent):
        turn = Text(_readable(content.text))
    elif isinstance(content, LocationMessageContent):
        address = content.address and _readable(content.address)
        turn = Location(content.latitude, content.longitude, address)
    return _converse(ctx, turn)


def on_postback(ctx: Context, event: PostbackEvent, fetched: Fetched) -> Step:
    postback = unpack(event.postback.data or "")  # refuses what we never packed, NUL included
    if postback is None:
        with use_locale(people.locale_of(ctx.person)):
            return Step(menu_messages.unknown_button())
    params = {k: _readable(v) for k, v in (event.postback.params or {}).items()
              if isinstance(v, str)}
    return _converse(ctx, Tapped(postback, params))


def _converse(ctx: Context, turn: Turn | None) -> Step:
    ctx.state = load_state(ctx.person)
    with use_locale(people.locale_of(ctx.person)):
        return respond(ctx, turn)


HANDLERS: dict[type, Callable[[Context, Event, Fetched], Step]] = {
    FollowEvent: on_follow,
    UnfollowEvent: on_unfollow,
    MessageEvent: on_message,
    PostbackEvent: on_postback,
}
