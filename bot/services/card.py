"""The registration card (登録証, R6): the person's entities, kinds and validity, and a QR code.

The QR code is short-lived and signed (`bot/codes/card_codes.py`): staff at a counter scan it with
LINE's camera and the bot tells them whether the holder is registered at their entity, so
resident rates and other support can really be granted. Each call makes a fresh code.

Called while answering a LINE event (and by the premium grant): it needs the app context for
SECRET_KEY and PUBLIC_BASE_URL.
"""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_datetime
from flask import current_app
from linebot.v3.messaging.models import FlexMessage, MessageAction
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.codes import card_codes
from bot.codes.links import card_qr_url
from bot.i18n import _, current_locale
from bot.i18n.dates import clock
from bot.i18n.names import place
from bot.services import registrations
from bot.services.activities import JST
from bot.store.models import IdentityVerification, Person, Registration, RegistrationKind
from conversations.common import MAX_ALT_TEXT, clip, label, listing

GREEN = "#06C755"
GOLD = "#B8860B"
#: A bubble has room for this many entities; more are named in one line below.
MAX_LINES = 12
_DATE_PATTERNS = {"ja": "y年M月d日", "en": "d MMM y"}


def verified_name(session: Session, person: Person) -> str | None:
    """The name read from the My Number Card, if the person has verified (R13 keeps only this)."""
    return session.scalar(select(IdentityVerification.name)
                          .where(IdentityVerification.person_id == person.id))


def holder_line(session: Session, person: Person) -> str:
    """Who holds the card: the verified name, else the LINE name marked as unverified."""
    name = verified_name(session, person)
    if name:
        return _("{name}（本人確認済み）").format(name=name)
    return _("{name}（LINEの表示名・本人確認前）").format(name=person.display_name or _("名前なし"))


def valid_until(moment: datetime) -> str:
    """2027年5月1日 / 1 May 2027, in Japan time."""
    return format_datetime(moment.astimezone(JST), _DATE_PATTERNS[current_locale()],
                           locale=current_locale())


def kind_and_validity(registration: Registration) -> str:
    if registration.kind == RegistrationKind.PREMIUM:
        if registration.premium_until is None:
            return _("プレミアム登録")
        return _("プレミアム登録（{date}まで有効）").format(
            date=valid_until(registration.premium_until))
    return _("ベーシック登録")


def _entity_line(registration: Registration) -> dict:
    premium = registration.kind == RegistrationKind.PREMIUM
    return {"type": "box", "layout": "vertical", "margin": "md", "contents": [
        {"type": "text", "text": place(registration.entity), "weight": "bold", "wrap": True},
        {"type": "text", "size": "sm", "wrap": True, "color": GOLD if premium else "#555555",
         "text": kind_and_validity(registration)},
    ]}


def registration_card(session: Session, person: Person, now: datetime, *,
                      with_qr: bool = True) -> FlexMessage:
    """The card as a Flex bubble, with a QR code valid for `card_codes.VALID_FOR` from `now`.

    `with_qr=False` for a card pushed through the outbox: it may be read long after the QR
    code expired, so it says how to get a fresh one instead.
    """
    current = registrations.active(session, person)
    # Premium first: those are the ones a counter asks about.
    current.sort(key=lambda r: r.kind != RegistrationKind.PREMIUM)
    body: list[dict] = [
        {"type": "text", "text": _("ふるさと住民登録証"), "weight": "bold", "size": "lg",
         "color": GREEN, "wrap": True},
        {"type": "text", "text": holder_line(session, person), "size": "sm", "wrap": True,
         "margin": "sm"},
        {"type": "separator", "margin": "md"},
    ]
    body += [_entity_line(r) for r in current[:MAX_LINES]]
    if len(current) > MAX_LINES:
        body.append({"type": "text", "size": "xs", "color": "#888888", "wrap": True,
                     "margin": "md", "text": _("ほか{n}件").format(n=len(current) - MAX_LINES)})
    if not current:
        body.append({"type": "text", "wrap": True, "margin": "md",
                     "text": _("登録はまだありません。「登録する」から登録できます。")})
        register = MessageAction(label=label(_("登録する")), text=_("登録する"))
        return _bubble(body, _("ふるさと住民登録証：登録はありません"), register)

    alt = _("ふるさと住民登録証：{entries}").format(
        entries=listing(f"{place(r.entity)} {kind_and_validity(r)}" for r in current))
    fresh = MessageAction(label=label(_("QRコードを表示")), text=_("登録証"))
    if not with_qr:
        body += [
            {"type": "separator", "margin": "md"},
            {"type": "text", "size": "xs", "color": "#555555", "wrap": True, "margin": "md",
             "text": _("窓口では、その場で「登録証」と送ってください。"
                       "職員が確認するQRコード付きの登録証が届きます。")},
        ]
        return _bubble(body, alt, fresh)
    token, code = card_codes.issue(person.id, now, current_app.config["SECRET_KEY"])
    body += [
        {"type": "separator", "margin": "md"},
        {"type": "image", "url": card_qr_url(current_app.config, token), "size": "full",
         "aspectRatio": "1:1", "aspectMode": "fit", "margin": "md"},
        {"type": "text", "size": "xs", "color": "#555555", "wrap": True, "margin": "md",
         "text": _("窓口でこのQRコードを職員に見せてください。{time}まで有効です"
                   "（期限が過ぎたら「登録証」と送ると新しいQRコードが届きます）。").format(
                       time=clock(code.expires_at))},
    ]
    return _bubble(body, alt, MessageAction(label=label(_("QRコードを更新")), text=_("登録証")))


def _bubble(body: list[dict], alt: str, action: MessageAction) -> FlexMessage:
    bubble = {"type": "bubble",
              "body": {"type": "box", "layout": "vertical", "contents": body},
              "footer": {"type": "box", "layout": "vertical", "contents": [
                  {"type": "button", "style": "link", "height": "sm", "action": action.to_dict()}]}}
    return FlexMessage.from_dict({"type": "flex", "altText": clip(alt, MAX_ALT_TEXT),
                                  "contents": bubble})
