"""The rotating-code screen's pass: a cookie that binds the page to the browser that opened it.

The chat gives a staff member a link to the page that is good for ten minutes
(bot/codes/links.py). Opening it — a button on the link's page, so that a link preview or a
crawler opens nothing — gives that browser this pass, and the screen and its QR images are
then served only to a browser that holds it, for twelve hours. The screen's own address
carries nothing: copied from the address bar and passed on, it shows nothing.

The pass is signed (SECRET_KEY) and names the session and the staff member, who must still be
staff when each image is served. The cookie is HttpOnly, Secure over https, SameSite=Lax, and
its path is the one session's screen, so a browser holds one pass per screen it shows and
sends it nowhere else. It is one of the service's few cookies, each for one purpose and one
path (web/cookieless.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.codes.links import ROTATING_SCREEN_SECONDS, served_over_https

COOKIE = "furusato_screen"
SALT = "furusato.rotating.screen.v1"


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=SALT)


def give(response: Response, path: str, session_id: int, person_id: int,
         config: Mapping[str, Any]) -> Response:
    """Set the pass of this session's screen, held at `path`, on the response."""
    value = _serializer(config["SECRET_KEY"]).dumps({"s": session_id, "p": person_id})
    response.set_cookie(COOKIE, value, max_age=ROTATING_SCREEN_SECONDS, path=path,
                        secure=served_over_https(config), httponly=True, samesite="Lax")
    return response


def holder(request: Request, session_id: int, secret: str) -> int | None:
    """The staff member whose pass for this session's screen the browser holds, if any."""
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    try:
        payload = _serializer(secret).loads(value, max_age=ROTATING_SCREEN_SECONDS)
    except BadSignature:  # SignatureExpired is one
        return None
    if not (isinstance(payload, dict) and payload.get("s") == session_id
            and isinstance(payload.get("p"), int)):
        return None
    return payload["p"]
