"""LINE events in → which conversation or command gets them.

Each event is handled in its own transaction: the event ID is claimed (a redelivered
duplicate stops here), the person's row is locked, the conversation answers, the state is
written — all committed together. The reply goes out after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask
from linebot.v3.messaging.models import Message
from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
    UserSource,
)
from sqlalchemy.orm import Session

from bot import event_log, line, people
from bot.db import database
from bot.i18n import use_locale
from bot.line import Profile
from bot.models import ConversationState, Person
from conversations.engine import Context, Location, Tapped, Text, Turn
from conversations.menu import messages as menu_messages
from conversations.postback import unpack
from conversations.router import respond

log = logging.getLogger(__name__)

#: Longer text is not a name or a command; it is cut before we look at it (SPEC §5, huge text).
MAX_TEXT_READ = 500


def handle(app: Flask, event: Event, now: datetime | None = None) -> None:
    """Handle one event; failures are logged and apologised for, never raised to LINE."""
    source = getattr(event, "source", None)
    if not isinstance(source, UserSource) or not source.user_id:
        log.info("ignored %s event from a %s", event.type, getattr(source, "type", "unknown"))
        return
    now = now or datetime.now(UTC)
    profile = line.gateway(app).profile(source.user_id) if isinstance(event, FollowEvent) else None
    reply_token = getattr(event, "reply_token", None)
    locale = None
    try:
        with database(app).transaction() as session:
            if not event_log.claim(session, event.webhook_event_id, now):
                log.info("duplicate event %s skipped", event.webhook_event_id)
                return
            person = people.lock(session, source.user_id, now)
            person.last_access_at = now  # R8: every event counts as access
            replies = _answer(app, session, person, event, profile, now)
            locale = people.locale_of(person)
    except Exception:
        # The transaction is rolled back, so a redelivery would try again; the person hears
        # that something went wrong instead of silence.
        log.exception("event %s (%s) failed", event.webhook_event_id, event.type)
        with use_locale(locale):
            replies = menu_messages.apology()
    if reply_token and replies:
        line.gateway(app).reply(reply_token, replies)


def _answer(app: Flask, session: Session, person: Person, event: Event,
            profile: Profile | None, now: datetime) -> list[Message]:
    handler = HANDLERS.get(type(event))
    if handler is None:
        return []  # an event type we do not act on: acknowledged, counted as access
    return handler(Context(session, person, now, app.config), event, profile)


def on_follow(ctx: Context, event: FollowEvent, profile: Profile | None) -> list[Message]:
    person = ctx.person
    returning = person.created_at < ctx.now or not person.following
    person.following = True
    if profile is not None:
        person.display_name = profile.display_name
        person.profile_language = profile.language
    with use_locale(people.locale_of(person)):
        return menu_messages.greeting(person.display_name, returning=returning)


def on_unfollow(ctx: Context, event: UnfollowEvent, profile: Profile | None) -> list[Message]:
    ctx.person.following = False  # R14: nothing is sent to them any more; data stays
    return []


def on_message(ctx: Context, event: MessageEvent, profile: Profile | None) -> list[Message]:
    content = event.message
    turn: Turn | None = None
    if isinstance(content, TextMessageContent):
        turn = Text(content.text[:MAX_TEXT_READ])
    elif isinstance(content, LocationMessageContent):
        turn = Location(content.latitude, content.longitude, content.address)
    return _converse(ctx, turn)


def on_postback(ctx: Context, event: PostbackEvent, profile: Profile | None) -> list[Message]:
    postback = unpack(event.postback.data or "")
    if postback is None:
        with use_locale(people.locale_of(ctx.person)):
            return menu_messages.unknown_button()
    return _converse(ctx, Tapped(postback))


def _converse(ctx: Context, turn: Turn | None) -> list[Message]:
    ctx.state = ctx.session.get(ConversationState, ctx.person.id)
    with use_locale(people.locale_of(ctx.person)):
        return respond(ctx, turn)


HANDLERS: dict[type, Callable[[Context, Event, Profile | None], list[Message]]] = {
    FollowEvent: on_follow,
    UnfollowEvent: on_unfollow,
    MessageEvent: on_message,
    PostbackEvent: on_postback,
}
