"""Tie a verification to the browser that started it (login CSRF).

Without it, someone could send a victim the provider's page of their own attempt, or make the
victim's browser post its consent form, and the victim's card would be recorded on that
someone's LINE account. So the consent page sets a cookie holding a random value; its form
carries a token derived from that value and the ticket; the attempt keeps a hash of the value,
and the provider's callback is accepted only from a browser that still holds it. SameSite=Lax
keeps the cookie out of cross-site POSTs but lets it ride the provider's top-level redirect
back. Only a page served for a GET sets the cookie: a refused request never replaces it.

The binding says which browser started, not whose LINE account that browser belongs to:
anyone who opens a forwarded start link holds a binding of their own. Only the LIFF page
knows the account (LINE vouches for its ID token), and an attempt begun there keeps its hash
under another prefix (`vouched`), so the callback can tell the two apart; every other
verification of one's own card ends in the account's chat (bot/identity/confirmation.py).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping

from flask import Request, Response

COOKIE = "furusato_identity"
#: The cookie outlives an attempt (30 minutes) and the retry window after it.
COOKIE_SECONDS = 2 * 3600
COOKIE_PATH = "/identity/"
_VALUE_LENGTH = 43  # secrets.token_urlsafe(32)


def of(request: Request) -> str | None:
    """The browser's binding value, if it holds a well-formed one."""
    value = request.cookies.get(COOKIE, "")
    return value if len(value) == _VALUE_LENGTH and value.isascii() else None


def new_value() -> str:
    return secrets.token_urlsafe(32)


def keep(response: Response, value: str, config: Mapping) -> Response:
    """Set (or refresh) the cookie on the response."""
    secure = str(config.get("PUBLIC_BASE_URL", "")).startswith("https://")
    response.set_cookie(COOKIE, value, max_age=COOKIE_SECONDS, path=COOKIE_PATH, secure=secure,
                        httponly=True, samesite="Lax")
    return response


#: Before the hash of an attempt begun with an ID token LINE vouched for (the LIFF page).
_VOUCHED = "line-id-token:"


def digest(value: str, vouched: bool = False) -> str:
    """What the attempt stores: the cookie itself never reaches the database. `vouched`: LINE
    said whose account this browser is (the LIFF page's ID token)."""
    return hashlib.sha256(((_VOUCHED if vouched else "") + value).encode()).hexdigest()


def matches(value: str | None, stored: str | None) -> bool:
    """The browser that started the attempt, however it started."""
    return vouched_for(value, stored) or (
        bool(value and stored) and hmac.compare_digest(digest(value), stored))


def vouched_for(value: str | None, stored: str | None) -> bool:
    """The browser that started the attempt, from the LIFF page of the attempt's account."""
    return bool(value and stored) and hmac.compare_digest(digest(value, vouched=True), stored)


def form_token(secret: str, value: str, ticket_id: str) -> str:
    """The consent form's hidden field: only a page served to this browser can carry it."""
    message = f"identity-consent:{ticket_id}:{value}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def form_token_ok(secret: str, value: str | None, ticket_id: str, token: str) -> bool:
    return bool(value) and hmac.compare_digest(form_token(secret, value, ticket_id), token)
