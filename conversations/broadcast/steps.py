"""Broadcast steps: staff compose, choose the audience, preview and send (or schedule)."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from linebot.v3.messaging.models import ImageMessage, Message, TextMessage

from bot.codes import links
from bot.delivery import broadcasts, outbox
from bot.domain.audience import KINDS
from bot.domain.audience import Audience as Who
from bot.domain.relationship_survey import RELATIONSHIP, toggle
from bot.i18n import SOURCE_LOCALE, _, use_locale
from bot.i18n.names import place
from bot.services import audience, media, staff
from bot.services.activities import JST
from bot.services.entities import prefecture_rows
from bot.store.models import Entity, Staff
from conversations.broadcast import messages
from conversations.broadcast.states import (
    Audience,
    CancelScheduled,
    News,
    NewsFor,
    NoExtra,
    PickedWhen,
    Rechoose,
    SendLater,
    SendNow,
    Tie,
    TiesDone,
)
from conversations.common import tap, text
from conversations.engine import Context, Photo, Step, Text, Turn
from conversations.staff import messages as staff_messages
from conversations.staff.parse import parse_date, parse_time
from conversations.staff.roles import acting


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
    return Step(messages.ask_text(role.entity), next=News.TEXT, data={"entity": role.entity.code})


def status(ctx: Context, code: str | None = None) -> Step:
    role = acting(ctx, code, _choose("status"))
    if not isinstance(role, Staff):
        return role
    items = [(b, outbox.counts(ctx.session, b.id))
             for b in broadcasts.recent(ctx.session, role.entity)]
    return Step(messages.delivery_status(role.entity, items, ctx.now))


def on_for(ctx: Context, postback: NewsFor) -> Step:
    return (status if postback.a == "status" else start)(ctx, postback.code)


def _entity(ctx: Context) -> Entity | None:
    role = acting(ctx, ctx.data.get("entity", ""), _choose("new"))
    return role.entity if isinstance(role, Staff) else None


def on_text(ctx: Context, turn: Turn) -> Step | None:
    if not isinstance(turn, Text):
        return None
    body = turn.text.strip()
    if not body:
        return None
    if len(body) > messages.MAX_TEXT:
        return Step.staying(messages.text_too_long(len(body)))
    return Step(messages.ask_extra(ctx.token), next=News.EXTRA, data={**ctx.data, "text": body})


def on_extra(ctx: Context, turn: Turn) -> Step | None:
    data = dict(ctx.data)
    if isinstance(turn, Photo) and turn.content:
        entity = _entity(ctx)
        if entity is None:
            return Step(staff_messages.staff_only())
        try:
            stored = media.store(ctx.session, entity, turn.content, ctx.now)
        except media.NotAnImage:
            return Step.staying(messages.extra_problem(ctx.token))
        data["image"] = stored.id
    elif isinstance(turn, Text) and turn.text.strip().startswith("https://") \
            and " " not in turn.text.strip():
        data["link"] = turn.text.strip()[:1000]
    else:
        return Step.staying(messages.extra_problem(ctx.token))
    return Step(messages.ask_audience(ctx.token), next=News.AUDIENCE, data=data)


def on_no_extra(ctx: Context, postback: NoExtra) -> Step:
    if ctx.state_name != News.EXTRA:
        return Step.staying(prompt(ctx))
    return Step(messages.ask_audience(ctx.token), next=News.AUDIENCE, data=ctx.data)


def on_audience(ctx: Context, postback: Audience) -> Step:
    if ctx.state_name != News.AUDIENCE:
        return Step.staying(prompt(ctx))
    if postback.kind == "ties":
        return Step(messages.ask_ties([], ctx.token), next=News.RELATIONSHIPS,
                    data={**ctx.data, "ties": []})
    if postback.kind == "home":
        return Step(messages.ask_prefectures(), next=News.PREFECTURES, data=ctx.data)
    kinds = {"all": list(KINDS), "basic": ["basic"], "premium": ["premium"]}.get(postback.kind)
    if kinds is None:
        return Step.staying(prompt(ctx))
    return _preview(ctx, {**ctx.data, "who": Who(tuple(kinds)).to_json()})


def on_rechoose(ctx: Context, postback: Rechoose) -> Step:
    if ctx.state_name != News.PREVIEW:
        return Step.staying(prompt(ctx))
    data = {key: value for key, value in ctx.data.items() if key not in ("who", "ties")}
    ctx.restart()  # the preview left behind must not send to the audience chosen next
    return Step(messages.ask_audience(ctx.token), next=News.AUDIENCE, data=data)


def on_tie(ctx: Context, postback: Tie) -> Step:
    if ctx.state_name != News.RELATIONSHIPS:
        return Step.staying(prompt(ctx))
    chosen = toggle(ctx.data.get("ties", []), RELATIONSHIP, postback.v)
    return Step(messages.ask_ties(chosen, ctx.token), next=News.RELATIONSHIPS,
                data={**ctx.data, "ties": chosen})


def on_ties_done(ctx: Context, postback: TiesDone) -> Step:
    if ctx.state_name != News.RELATIONSHIPS:
        return Step.staying(prompt(ctx))
    ties = ctx.data.get("ties", [])
    if not ties:
        return Step.staying(messages.ask_ties([], ctx.token))
    return _preview(ctx, {**ctx.data, "who": Who(relationships=tuple(ties)).to_json()})


def find_prefectures(typed: str) -> list[str]:
    """Prefecture codes named in the text: 東京都, 東京, Tokyo."""
    folded = unicodedata.normalize("NFKC", typed).casefold()
    found = []
    for row in prefecture_rows():
        short = row.name[:-1] if row.name[-1] in "都府県" and row.name != "北海道" else row.name
        if row.name in folded or short in folded or (row.name_en or "").casefold() in folded:
            found.append(row.code)
    return found


def on_prefectures(ctx: Context, turn: Turn) -> Step | None:
    if not isinstance(turn, Text):
        return None
    codes = find_prefectures(turn.text)
    if not codes:
        return Step.staying(messages.no_prefecture_found())
    return _preview(ctx, {**ctx.data, "who": Who(prefectures=tuple(codes)).to_json()})


def content(ctx: Context, data: dict, entity: Entity) -> list[Message]:
    """What recipients will see: who it is from, the text, a link, a picture.

    The sender is named as everywhere in the chat, the prefecture telling 府中市 from 府中市,
    and in Japanese whatever the staff's language: one message goes to every recipient."""
    with use_locale(SOURCE_LOCALE):
        body = f"【{place(entity)}】\n{data['text']}"
    if data.get("link"):
        body += "\n" + data["link"]
    built: list[Message] = [TextMessage(text=body[:5000])]
    if data.get("image"):
        original, preview = links.media_urls(ctx.config, data["image"])
        built.append(ImageMessage(originalContentUrl=original, previewImageUrl=preview))
    return built


def _preview(ctx: Context, data: dict) -> Step:
    entity = _entity(ctx)
    if entity is None:
        return Step(staff_messages.staff_only())
    who = Who.from_json(data["who"])
    count = audience.count(ctx.session, entity, who)
    return Step(messages.preview(content(ctx, data, entity), who, count, ctx.token),
                next=News.PREVIEW, data=data)


def _send(ctx: Context, send_at: datetime, scheduled: bool) -> Step:
    entity = _entity(ctx)
    if entity is None:
        return Step(staff_messages.staff_only())
    data = ctx.data
    built = [m.to_dict() for m in content(ctx, data, entity)]
    broadcast = broadcasts.create(ctx.session, entity, built, data["text"][:60],
                                  Who.from_json(data["who"]), send_at, ctx.now, by=ctx.person)
    return Step(messages.accepted(broadcast, scheduled, ctx.now))


def on_send_now(ctx: Context, postback: SendNow) -> Step:
    if ctx.state_name != News.PREVIEW:
        return Step.staying(prompt(ctx))
    return _send(ctx, ctx.now, scheduled=False)


def on_send_later(ctx: Context, postback: SendLater) -> Step:
    if ctx.state_name != News.PREVIEW:
        return Step.staying(prompt(ctx))
    return Step(messages.ask_when(ctx.now.astimezone(JST), ctx.token), next=News.WHEN,
                data=ctx.data)


def _when(ctx: Context, typed: str) -> Step:
    chosen = parse_when(typed, ctx.now)
    if chosen is None or chosen <= ctx.now:
        return Step.staying(messages.when_problem(ctx.now.astimezone(JST), ctx.token))
    return _send(ctx, chosen, scheduled=True)


def parse_when(typed: str, now: datetime) -> datetime | None:
    """「12/24 10:00」, 「明日 9:00」, or a picker's 2026-12-24T10:00 (Japan time)."""
    cleaned = unicodedata.normalize("NFKC", typed).strip().replace("T", " ")
    day_part, _, time_part = cleaned.rpartition(" ")
    today = now.astimezone(JST).date()
    day = parse_date(day_part, today) if day_part else None
    at = parse_time(time_part)
    if day is None or at is None:
        return None
    return datetime.combine(day, at, JST)


def on_when_typed(ctx: Context, turn: Turn) -> Step | None:
    return _when(ctx, turn.text) if isinstance(turn, Text) else None


def on_when_picked(ctx: Context, postback: PickedWhen) -> Step:
    if ctx.state_name != News.WHEN:
        return Step.staying(prompt(ctx))
    return _when(ctx, ctx.params.get("datetime", ""))


def on_cancel_scheduled(ctx: Context, postback: CancelScheduled) -> Step:
    for role in staff.roles_of(ctx.session, ctx.person):
        found = broadcasts.find(ctx.session, role.entity, postback.id)
        if found is not None and broadcasts.cancel(found):
            return Step(messages.cancelled_scheduled(found))
    return Step(messages.cannot_cancel())


def buttons_only(ctx: Context, turn: Turn) -> Step | None:
    return None


def prompt(ctx: Context) -> list:
    name = ctx.state_name
    entity = _entity(ctx)
    if entity is None:
        return staff_messages.staff_only()
    if name == News.TEXT:
        return messages.ask_text(entity)
    if name == News.EXTRA:
        return messages.ask_extra(ctx.token)
    if name == News.AUDIENCE:
        return messages.ask_audience(ctx.token)
    if name == News.RELATIONSHIPS:
        return messages.ask_ties(ctx.data.get("ties", []), ctx.token)
    if name == News.PREFECTURES:
        return messages.ask_prefectures()
    if name == News.WHEN:
        return messages.ask_when(ctx.now.astimezone(JST), ctx.token)
    return _preview(ctx, ctx.data).replies

