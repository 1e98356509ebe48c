"""The addresses of our own pages that the bot hands out, under PUBLIC_BASE_URL.

Built from the configuration alone (no request, no app), so a conversation step, a job or a
web view can make them; the views that answer them are in `web/`.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from itsdangerous import URLSafeTimedSerializer

Config = Mapping[str, Any]

ROTATING_SALT = "furusato.rotating.v3"
#: The chat's link to a rotating-code screen is opened within this time (web/checkin.py)…
ROTATING_LINK_SECONDS = 10 * 60
#: …and the browser that opened it shows the screen for this long (web/screen_pass.py).
ROTATING_SCREEN_SECONDS = 12 * 3600


def base(config: Config) -> str:
    return str(config["PUBLIC_BASE_URL"]).rstrip("/")


def served_over_https(config: Config) -> bool:
    """Whether our pages are on https (production): then our cookies are Secure."""
    return str(config.get("PUBLIC_BASE_URL", "")).startswith("https://")


def qr_url(config: Config, token: str) -> str:
    """A check-in code's QR image (`web/checkin.py`)."""
    return f"{base(config)}/qr/{token}.png"


def poster_url(config: Config, token: str, fmt: str = "pdf") -> str:
    return f"{base(config)}/qr/{token}/poster.{fmt}"


def rotating_link(session_id: int, person_id: int, secret: str) -> str:
    """The signed part of the chat's link to a rotating-code screen: one session, one staff
    member, one browser (its nonce is recorded when used), for ROTATING_LINK_SECONDS."""
    return URLSafeTimedSerializer(secret, salt=ROTATING_SALT).dumps(
        {"s": session_id, "p": person_id, "n": secrets.token_hex(16)})


def rotating_url(config: Config, session_id: int, person_id: int) -> str:
    return f"{base(config)}/staff/rotating/{rotating_link(session_id, person_id, config['SECRET_KEY'])}"


def card_qr_url(config: Config, token: str) -> str:
    """A registration card's QR image (`web/card.py`)."""
    return f"{base(config)}/card/{token}.png"


def media_urls(config: Config, media_id: str) -> tuple[str, str]:
    """A staff-attached image and its preview (`web/media.py`)."""
    return f"{base(config)}/media/{media_id}.jpg", f"{base(config)}/media/{media_id}/preview.jpg"
