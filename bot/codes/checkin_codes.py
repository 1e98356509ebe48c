"""Signed check-in codes: what the QR code holds, and the LINE link around it.

A code names the entity, the activity session and its validity window, signed with
SECRET_KEY (itsdangerous), so it cannot be forged or altered. The QR code holds a LINE link
that opens the chat with 「チェックイン <code>」 already typed; a phone camera and LINE's own
QR reader both open it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import unquote

from itsdangerous import BadSignature, URLSafeSerializer

from bot.domain.checkin import Code
from bot.line import chat_link

SALT = "furusato.checkin.v1"
CHECK_IN_WORD = "チェックイン"
#: 「チェックイン <code>」 typed by the link, or by hand in either language.
TEXT_PATTERN = re.compile(r"(?:チェックイン|check-?in)\s*[:：]?\s*([A-Za-z0-9_\-.]{20,400})",
                          re.IGNORECASE)


class InvalidCode(ValueError):
    """Not a code we signed: forged, altered, cut short, or from somewhere else."""


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


def sign(code: Code, secret: str) -> str:
    payload = [code.entity_code, code.session_id, _minutes(code.opens), _minutes(code.closes)]
    if code.step is not None:
        payload.append(code.step)
    return _serializer(secret).dumps(payload)


def read(token: str, secret: str) -> Code:
    try:
        payload = _serializer(secret).loads(token)
    except BadSignature as error:
        raise InvalidCode(str(error)) from None
    if not (isinstance(payload, list) and len(payload) in (4, 5)
            and all(isinstance(v, (str, int)) for v in payload)):
        raise InvalidCode("unexpected payload")  # signed by us, but not a check-in code
    entity_code, session_id, opens, closes, *step = payload
    return Code(str(entity_code), int(session_id), _from_minutes(opens), _from_minutes(closes),
                int(step[0]) if step else None)


def text_for(token: str) -> str:
    return f"{CHECK_IN_WORD} {token}"


def find_token(text: str) -> str | None:
    """The code in a typed or pre-typed message, or in a decoded QR link."""
    match = TEXT_PATTERN.search(unquote(text))
    return match.group(1) if match else None


def line_link(token: str, basic_id: str) -> str:
    """The link in the QR code: opens the chat with the code's text typed in."""
    return chat_link(basic_id, text_for(token))


def _minutes(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


def _from_minutes(minutes: int) -> datetime:
    return datetime.fromtimestamp(int(minutes) * 60, UTC)
