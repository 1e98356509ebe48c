"""Broadcast steps: staff compose, choose the audience, preview and send (or schedule)."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import datetime

from linebot.v3.messaging.models import ImageMessage, Message, TextMessage

from bot.codes import links
from bot.delivery import fanout, outbox
from bot.domain.audience import Audience
from bot.domain.calendar import JST, japan_time, today_in_japan
from bot.domain.relationship_survey import RELATIONSHIP, toggle
from bot.i18n import SOURCE_LOCALE, _, use_locale
from bot.i18n.names import place
from bot.services import audience, media, staff
from bot.store.models import Broadcast, Entity, OutboxFailure, Staff
from conversations import audience_choice
from conversations.broadcast import messages
from conversations.broadcast.draft import BroadcastDraft
from conversations.broadcast.states import (
    BroadcastState,
    CancelScheduled,
    NewsFor,
    NoExtra,
    PickAudience,
    PickedWhen,
    Rechoose,
    ResendRefused,
    SendLater,
    SendNow,
    Tie,
    TiesDone,
)
from conversations.common import tap, text
from conversations.engine import Context, Location, Photo, Step, Text
from conversations.staff import messages as staff_messages
from conversations.staff.parse import parse_date, parse_time
from conversations.staff.roles import acting, asked_of_staff

# From anywhere: starting, the delivery status, cancelling a scheduled one ------------------------


def _choose(action: str):
    def choose(roles):
        return [text(_("どの団体として操作しますか？"),
                     [tap(place(r.entity), NewsFor(r.entity.code, action)) for r in roles[:12]])]
    return choose


def start(ctx: Context, code: str | None = None) -> Step:
    role = acting(ctx, code, _choose("new"))
    if not isinstance(role, Staff):
        return role
    ctx.restart()
    return Step(messages.ask_text(role.entity), next=BroadcastState.TEXT,
                data=BroadcastDraft(role.entity.code))


def status(ctx: Context, code: str | None = None) -> Step:
    role = acting(ctx, code, _choose("status"))
    if not isinstance(role, Staff):
        return role
    deliveries = [_delivery(ctx, b) for b in fanout.recent(ctx.session, role.entity)]
    return Step(messages.delivery_status(role.entity, deliveries,
                                         outbox.current_pause(ctx.session), ctx.now))


def _delivery(ctx: Context, broadcast: Broadcast) -> messages.Delivery:
    failures = outbox.failures(ctx.session, broadcast.id)
    refused = failures.get(OutboxFailure.REFUSED)
    return messages.Delivery(
        broadcast, outbox.counts(ctx.session, broadcast.id), failures,
        outbox.refusal(ctx.session, broadcast.id) if refused else None,
        outbox.resendable(ctx.session, broadcast.id) if refused else 0)


def on_for(ctx: Context, postback: NewsFor) -> Step:
    return (status if postback.a == "status" else start)(ctx, postback.code)


def on_cancel_scheduled(ctx: Context, postback: CancelScheduled) -> Step:
    for role in staff.roles_of(ctx.session, ctx.person):
        found = fanout.find(ctx.session, role.entity, postback.id)
        if found is not None and fanout.cancel(found):
            return Step(messages.cancelled_scheduled(found))
    return Step(messages.cannot_cancel())


def on_resend_refused(ctx: Context, postback: ResendRefused) -> Step:
    """Queue again those LINE refused, once the broadcast is done: a second tap, or one
    after another staff member's, finds nothing refused left and says so."""
    for role in staff.roles_of(ctx.session, ctx.person):
        found = fanout.find(ctx.session, role.entity, postback.id)
        if found is None:
            continue
        delivery = _delivery(ctx, found)
        if not delivery.resendable_people:
            return Step(messages.already_resent(found) if delivery.resent and not delivery.refused
                        else messages.nobody_to_resend(found))
        if not delivery.finished:
            return Step(messages.resend_after_sending(found))
        queued = outbox.resend_refused(ctx.session, found.id, ctx.now)
        return Step(messages.resent(found, queued) if queued else messages.nobody_to_resend(found))
    return Step(messages.cannot_resend())


def _entity(ctx: Context, draft: BroadcastDraft) -> Entity | None:
    """The entity the news is sent from, while the person is still its staff."""
    role = acting(ctx, draft.entity, _choose("new"))
    return role.entity if isinstance(role, Staff) else None


# The questions, each state's own, asked again only to its entity's staff ----------------------

@asked_of_staff(BroadcastDraft)
def ask_text(ctx: Context, draft: BroadcastDraft, entity: Entity) -> list[Message]:
    return messages.ask_text(entity)


@asked_of_staff(BroadcastDraft)
def ask_extra(ctx: Context, draft: BroadcastDraft, entity: Entity) -> list[Message]:
    return messages.ask_extra(ctx.token)


@asked_of_staff(BroadcastDraft)
def ask_audience(ctx: Context, draft: BroadcastDraft, entity: Entity) -> list[Message]:
    return messages.ask_audience(ctx.token)


@asked_of_staff(BroadcastDraft)
def ask_ties(ctx: Context, draft: BroadcastDraft, entity: Entity) -> list[Message]:
    return messages.ask_ties(draft.ties, ctx.token)


@asked_of_staff(BroadcastDraft)
def ask_prefectures(ctx: Context, draft: BroadcastDraft, entity: Entity) -> list[Message]:
    return messages.ask_prefectures()


def show_preview(ctx: Context) -> list[Message]:
    return _preview(ctx, ctx.draft(BroadcastDraft)).replies


@asked_of_staff(BroadcastDraft)
def ask_when(ctx: Context, draft: BroadcastDraft, entity: Entity) -> list[Message]:
    return messages.ask_when(ctx.now.astimezone(JST), ctx.token)


# The text, then a picture or a link --------------------------------------------------------------

def on_text(ctx: Context, turn: Text) -> Step | None:
    body = turn.text.strip()
    if not body:
        return None
    if len(body) > messages.MAX_TEXT:
        return Step.staying(messages.text_too_long(len(body)))
    return Step(messages.ask_extra(ctx.token), next=BroadcastState.EXTRA,
                data=replace(ctx.draft(BroadcastDraft), text=body))


def on_extra_photo(ctx: Context, turn: Photo) -> Step:
    draft = ctx.draft(BroadcastDraft)
    if not turn.content:
        return Step.staying(messages.extra_problem(ctx.token))
    entity = _entity(ctx, draft)
    if entity is None:
        return Step(staff_messages.staff_only())
    try:
        stored = media.store(ctx.session, entity, turn.content, ctx.now)
    except media.NotAnImage:
        return Step.staying(messages.extra_problem(ctx.token))
    return _to_audience(ctx, replace(draft, image=stored.id))


def on_extra_link(ctx: Context, turn: Text) -> Step:
    typed = turn.text.strip()
    if not typed.startswith("https://") or " " in typed:
        return Step.staying(messages.extra_problem(ctx.token))
    return _to_audience(ctx, replace(ctx.draft(BroadcastDraft), link=typed[:1000]))


def on_extra_location(ctx: Context, turn: Location) -> Step:
    """A place is neither a picture nor a link: the same question, with 「なし」."""
    return Step.staying(messages.extra_problem(ctx.token))


def on_no_extra(ctx: Context, postback: NoExtra) -> Step:
    return _to_audience(ctx, ctx.draft(BroadcastDraft))


def _to_audience(ctx: Context, draft: BroadcastDraft) -> Step:
    return Step(messages.ask_audience(ctx.token), next=BroadcastState.AUDIENCE, data=draft)


# Who receives it ---------------------------------------------------------------------------------

def on_audience(ctx: Context, postback: PickAudience) -> Step:
    draft = ctx.draft(BroadcastDraft)
    if postback.kind == "ties":
        return Step(messages.ask_ties([], ctx.token), next=BroadcastState.RELATIONSHIPS,
                    data=replace(draft, ties=[]))
    if postback.kind == "home":
        return Step(messages.ask_prefectures(), next=BroadcastState.PREFECTURES, data=draft)
    who = audience_choice.by_kind(postback.kind)
    if who is None:
        return Step.staying(ask_audience(ctx))
    return _preview(ctx, draft, who)


def on_tie(ctx: Context, postback: Tie) -> Step:
    draft = ctx.draft(BroadcastDraft)
    chosen = toggle(draft.ties, RELATIONSHIP, postback.v)
    return Step(messages.ask_ties(chosen, ctx.token), next=BroadcastState.RELATIONSHIPS,
                data=replace(draft, ties=chosen))


def on_ties_done(ctx: Context, postback: TiesDone) -> Step:
    draft = ctx.draft(BroadcastDraft)
    if not draft.ties:
        return Step.staying(messages.ask_ties([], ctx.token))
    return _preview(ctx, draft, Audience(relationships=tuple(draft.ties)))


def on_prefectures(ctx: Context, turn: Text) -> Step:
    codes = audience_choice.find_prefectures(turn.text)
    if not codes:
        return Step.staying(messages.no_prefecture_found())
    return _preview(ctx, ctx.draft(BroadcastDraft), Audience(prefectures=tuple(codes)))


def on_rechoose(ctx: Context, postback: Rechoose) -> Step:
    ctx.restart()  # the preview left behind must not send to the audience chosen next
    return _to_audience(ctx, replace(ctx.draft(BroadcastDraft), ties=[], who=None))


# The preview, then sending -----------------------------------------------------------------------

def content(ctx: Context, draft: BroadcastDraft, entity: Entity) -> list[Message]:
    """What recipients will see: who it is from, the text, a link, a picture.

    The sender is named as everywhere in the chat, the prefecture telling 府中市 from 府中市,
    and in Japanese whatever the staff's language: one message goes to every recipient."""
    with use_locale(SOURCE_LOCALE):
        body = f"【{place(entity)}】\n{draft.text}"
    if draft.link:
        body += "\n" + draft.link
    built: list[Message] = [TextMessage(text=body[:5000])]
    if draft.image:
        original, preview = links.media_urls(ctx.config, draft.image)
        built.append(ImageMessage(originalContentUrl=original, previewImageUrl=preview))
    return built


def _preview(ctx: Context, draft: BroadcastDraft, who: Audience | None = None) -> Step:
    """The preview of the news to `who` (by default, the audience already chosen)."""
    if who is not None:
        draft = replace(draft, who=who.to_json())
    entity = _entity(ctx, draft)
    if entity is None:
        return Step(staff_messages.staff_only())
    count = audience.count(ctx.session, entity, draft.audience)
    return Step(messages.preview(content(ctx, draft, entity), draft.audience, count, ctx.token),
                next=BroadcastState.PREVIEW, data=draft)


def _send(ctx: Context, send_at: datetime, scheduled: bool) -> Step:
    draft = ctx.draft(BroadcastDraft)
    entity = _entity(ctx, draft)
    if entity is None:
        return Step(staff_messages.staff_only())
    built = [m.to_dict() for m in content(ctx, draft, entity)]
    broadcast = fanout.create(ctx.session, entity, built, draft.text[:60], draft.audience,
                                  send_at, ctx.now, by=ctx.person)
    return Step(messages.accepted(broadcast, scheduled, ctx.now))


def on_send_now(ctx: Context, postback: SendNow) -> Step:
    return _send(ctx, ctx.now, scheduled=False)


def on_send_later(ctx: Context, postback: SendLater) -> Step:
    return Step(messages.ask_when(ctx.now.astimezone(JST), ctx.token), next=BroadcastState.WHEN,
                data=ctx.draft(BroadcastDraft))


def parse_when(typed: str, now: datetime) -> datetime | None:
    """「12/24 10:00」, 「明日 9:00」, or a picker's 2026-12-24T10:00 (Japan time)."""
    cleaned = unicodedata.normalize("NFKC", typed).strip().replace("T", " ")
    day_part, _, time_part = cleaned.rpartition(" ")
    today = today_in_japan(now)
    day = parse_date(day_part, today) if day_part else None
    at = parse_time(time_part)
    if day is None or at is None:
        return None
    return japan_time(day, at)


def _when(ctx: Context, typed: str) -> Step:
    chosen = parse_when(typed, ctx.now)
    if chosen is None or chosen <= ctx.now:
        return Step.staying(messages.when_problem(ctx.now.astimezone(JST), ctx.token))
    return _send(ctx, chosen, scheduled=True)


def on_when_typed(ctx: Context, turn: Text) -> Step:
    return _when(ctx, turn.text)


def on_when_picked(ctx: Context, postback: PickedWhen) -> Step:
    return _when(ctx, ctx.params.get("datetime", ""))
