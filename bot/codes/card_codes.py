"""Signed, short-lived registration-card codes: what the card's QR code holds (R6).

Built like the check-in codes (`bot/codes/checkin_codes.py`): the code names the person and the
moment it expires, signed with SECRET_KEY (itsdangerous), so it needs no lookup table and
cannot be forged or altered. The QR code holds a LINE link that opens the chat with
「登録証確認 <code>」 typed, so staff scanning it with LINE's camera send it to the bot.
It expires after a few minutes: a screenshot passed on stops working, and the card command
makes a fresh one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

from itsdangerous import BadSignature, URLSafeSerializer

from bot.line import chat_link

SALT = "furusato.card.v1"
CARD_CHECK_WORD = "登録証確認"
VALID_FOR = timedelta(minutes=10)
#: 「登録証確認 <code>」 typed by the link, or by hand ("card check <code>").
TEXT_PATTERN = re.compile(r"(?:登録証確認|card[\s_-]*check)\s*[:：]?\s*([A-Za-z0-9_\-.]{20,200})",
                          re.IGNORECASE)


@dataclass(frozen=True)
class CardCode:
    person_id: int
    expires_at: datetime


class InvalidCardCode(ValueError):
    """Not a card code we signed: forged, altered, cut short, or something else entirely."""


class ExpiredCardCode(ValueError):
    """A genuine card code whose few minutes are over."""

    def __init__(self, code: CardCode):
        super().__init__("card code expired")
        self.code = code


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


def issue(person_id: int, now: datetime, secret: str) -> tuple[str, CardCode]:
    """A fresh code for this person, valid for VALID_FOR from `now`."""
    expires_at = now.astimezone(UTC).replace(microsecond=0) + VALID_FOR
    token = _serializer(secret).dumps([person_id, int(expires_at.timestamp())])
    return token, CardCode(person_id, expires_at)


def read(token: str, secret: str, now: datetime) -> CardCode:
    """The card code if it is ours and still valid at `now`."""
    try:
        payload = _serializer(secret).loads(token)
    except BadSignature as error:
        raise InvalidCardCode(str(error)) from None
    if not (isinstance(payload, list) and len(payload) == 2
            and all(isinstance(value, int) and not isinstance(value, bool) for value in payload)):
        raise InvalidCardCode("unexpected payload")
    person_id, expires = payload
    code = CardCode(person_id, datetime.fromtimestamp(expires, UTC))
    if now >= code.expires_at:
        raise ExpiredCardCode(code)
    return code


def text_for(token: str) -> str:
    return f"{CARD_CHECK_WORD} {token}"


def find_token(text: str) -> str | None:
    """The code in a typed or pre-typed message, or in a decoded QR link."""
    match = TEXT_PATTERN.search(unquote(text))
    return match.group(1) if match else None


def line_link(token: str, basic_id: str) -> str:
    """The link in the QR code: opens the chat with the code's text typed in."""
    return chat_link(basic_id, text_for(token))
