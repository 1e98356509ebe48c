"""The registration card (登録証, R6): the person's entities, kinds and validity, and a QR code.

The QR code is short-lived and signed (`bot/codes/card_codes.py`): staff at a counter scan it with
LINE's camera and the bot tells them whether the holder is registered at their entity, so
resident rates and other support can really be granted. Each card shown makes a fresh code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from linebot.v3.messaging.models import FlexMessage, MessageAction
from sqlalchemy.orm import Session

from bot.codes import card_codes
from bot.codes.links import card_qr_url
from bot.i18n import _
from bot.i18n.dates import clock, date_with_year
from bot.i18n.names import place
from bot.services import card
from bot.store.models import Person, Registration, RegistrationKind
from conversations.common import FAINT_TEXT, LINE_GREEN, MAX_ALT_TEXT, MUTED_TEXT, clip, label, listing

GOLD = "#B8860B"
#: A bubble has room for this many entities; more are named in one line below.
MAX_LINES = 12


@dataclass(frozen=True)
class Qr:
    """The card's QR code: where LINE fetches its image, and until when it is valid."""
    url: str
    expires_at: datetime


def holder_line(name: str | None, display_name: str | None) -> str:
    """Who holds the card: the verified name, else the LINE name marked as unverified."""
    if name:
        return _("{name}（本人確認済み）").format(name=name)
    return _("{name}（LINEの表示名・本人確認前）").format(name=display_name or _("名前なし"))


def kind_and_validity(registration: Registration) -> str:
    if registration.kind == RegistrationKind.PREMIUM:
        if registration.premium_until is None:
            return _("プレミアム登録")
        return _("プレミアム登録（{date}まで有効）").format(
            date=date_with_year(registration.premium_until))
    return _("ベーシック登録")


def registration_card(session: Session, person: Person, now: datetime,
                      config: Mapping[str, Any]) -> FlexMessage:
    """The card shown in reply, with a QR code valid for `card_codes.VALID_FOR` from `now`
    (signed with `config`'s SECRET_KEY, its image at PUBLIC_BASE_URL)."""
    held = card.held(session, person)
    qr = None
    if held:
        token, code = card_codes.issue(person.id, now, config["SECRET_KEY"])
        qr = Qr(card_qr_url(config, token), code.expires_at)
    return card_message(card.verified_name(session, person), person.display_name, held, qr)


def card_without_qr(session: Session, person: Person) -> FlexMessage:
    """The card pushed through the outbox: it may be read long after a QR code would have
    expired, so it says how to get a fresh one instead."""
    return card_message(card.verified_name(session, person), person.display_name,
                        card.held(session, person), None)


def _entity_line(registration: Registration) -> dict:
    premium = registration.kind == RegistrationKind.PREMIUM
    return {"type": "box", "layout": "vertical", "margin": "md", "contents": [
        {"type": "text", "text": place(registration.entity), "weight": "bold", "wrap": True},
        {"type": "text", "size": "sm", "wrap": True, "color": GOLD if premium else MUTED_TEXT,
         "text": kind_and_validity(registration)},
    ]}


def card_message(name: str | None, display_name: str | None, held: Sequence[Registration],
                 qr: Qr | None) -> FlexMessage:
    """The card as a Flex bubble: `held` premium first, with `qr` or how to get one."""
    body: list[dict] = [
        {"type": "text", "text": _("ふるさと住民登録証"), "weight": "bold", "size": "lg",
         "color": LINE_GREEN, "wrap": True},
        {"type": "text", "text": holder_line(name, display_name), "size": "sm", "wrap": True,
         "margin": "sm"},
        {"type": "separator", "margin": "md"},
    ]
    body += [_entity_line(r) for r in held[:MAX_LINES]]
    if len(held) > MAX_LINES:
        body.append({"type": "text", "size": "xs", "color": FAINT_TEXT, "wrap": True,
                     "margin": "md", "text": _("ほか{n}件").format(n=len(held) - MAX_LINES)})
    if not held:
        body.append({"type": "text", "wrap": True, "margin": "md",
                     "text": _("登録はまだありません。「登録する」から登録できます。")})
        register = MessageAction(label=label(_("登録する")), text=_("登録する"))
        return _bubble(body, _("ふるさと住民登録証：登録はありません"), register)

    alt = _("ふるさと住民登録証：{entries}").format(
        entries=listing(f"{place(r.entity)} {kind_and_validity(r)}" for r in held))
    fresh = MessageAction(label=label(_("QRコードを表示")), text=_("登録証"))
    if qr is None:
        body += [
            {"type": "separator", "margin": "md"},
            {"type": "text", "size": "xs", "color": MUTED_TEXT, "wrap": True, "margin": "md",
             "text": _("窓口では、その場で「登録証」と送ってください。"
                       "職員が確認するQRコード付きの登録証が届きます。")},
        ]
        return _bubble(body, alt, fresh)
    body += [
        {"type": "separator", "margin": "md"},
        {"type": "image", "url": qr.url, "size": "full",
         "aspectRatio": "1:1", "aspectMode": "fit", "margin": "md"},
        {"type": "text", "size": "xs", "color": MUTED_TEXT, "wrap": True, "margin": "md",
         "text": _("窓口でこのQRコードを職員に見せてください。{time}まで有効です"
                   "（期限が過ぎたら「登録証」と送ると新しいQRコードが届きます）。").format(
                       time=clock(qr.expires_at))},
    ]
    return _bubble(body, alt, MessageAction(label=label(_("QRコードを更新")), text=_("登録証")))


def _bubble(body: list[dict], alt: str, action: MessageAction) -> FlexMessage:
    bubble = {"type": "bubble",
              "body": {"type": "box", "layout": "vertical", "contents": body},
              "footer": {"type": "box", "layout": "vertical", "contents": [
                  {"type": "button", "style": "link", "height": "sm", "action": action.to_dict()}]}}
    return FlexMessage.from_dict({"type": "flex", "altText": clip(alt, MAX_ALT_TEXT),
                                  "contents": bubble})
