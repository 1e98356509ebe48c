"""From the chat to the verification page: who the person is, without a login.

Two ways. Without LIFF, a link holding a signed ticket: random, single-use (a
`VerificationTicket` row), short-lived — 30 minutes for one's own verification, 72 hours for
the guardian's link, which a minor passes on. With IDENTITY_LIFF_ID, the LIFF page sends its
ID token and LINE's verify endpoint tells us the user (bot/line/__init__.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.identity.provider import base_url
from bot.store.models import Person, VerificationPurpose, VerificationTicket

TICKET_SALT = "furusato.identity.ticket.v1"
LIFETIME = {VerificationPurpose.SELF: timedelta(minutes=30),
            VerificationPurpose.GUARDIAN: timedelta(hours=72)}


class TicketRefused(Exception):
    """Why a link cannot be used: `reason` is invalid, expired or used."""

    def __init__(self, reason: str, status: int):
        super().__init__(reason)
        self.reason, self.status = reason, status


Config = Mapping[str, Any]


def _serializer(config: Config) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(config["SECRET_KEY"], salt=TICKET_SALT)


def issue(session: Session, person: Person, purpose: VerificationPurpose, now: datetime,
          config: Config) -> str:
    """A new ticket for this person, signed for a link."""
    ticket = VerificationTicket(id=secrets.token_urlsafe(24), person_id=person.id,
                                purpose=purpose.value, created_at=now,
                                expires_at=now + LIFETIME[purpose])
    session.add(ticket)
    return _serializer(config).dumps(ticket.id)


#: The path tells the two kinds of link apart for people and tests; the ticket decides.
PATHS = {VerificationPurpose.SELF: "/identity/start/", VerificationPurpose.GUARDIAN: "/identity/guardian/"}


#: LINE opens a link that carries this in the phone's default browser rather than its own
#: in-app one. The デジタル認証アプリ returns to the default browser, so the browser that
#: consents is then the one that comes back (bot/identity/binding.py); for the LIFF page,
#: which must run inside LINE, bot/identity/confirmation.py finishes in the chat instead.
OPEN_OUTSIDE_LINE = "openExternalBrowser=1"


def ticket_url(config: Config, signed: str,
               purpose: VerificationPurpose = VerificationPurpose.SELF) -> str:
    return f"{base_url(config)}{PATHS[purpose]}{signed}?{OPEN_OUTSIDE_LINE}"


def verification_link(session: Session, person: Person, now: datetime, config: Config) -> str:
    """The https URL of the person's verification page, for a URI button in the chat."""
    liff_id = config.get("IDENTITY_LIFF_ID")
    if liff_id:
        return f"https://liff.line.me/{liff_id}"
    return ticket_url(config, issue(session, person, VerificationPurpose.SELF, now, config))


def guardian_link(session: Session, minor: Person, now: datetime, config: Config) -> str:
    """A link the minor passes on to a guardian, who may be on another device."""
    return ticket_url(config, issue(session, minor, VerificationPurpose.GUARDIAN, now, config),
                      VerificationPurpose.GUARDIAN)


def open_ticket(session: Session, signed: str, now: datetime, config: Config,
                lock: bool = False) -> VerificationTicket:
    """The ticket behind a link if it is ours, unused and in time; else TicketRefused."""
    longest = max(LIFETIME.values())
    try:
        ticket_id = _serializer(config).loads(signed, max_age=int(longest.total_seconds()))
    except BadSignature:  # SignatureExpired is one
        raise TicketRefused("invalid", 404) from None
    query = select(VerificationTicket).where(VerificationTicket.id == str(ticket_id))
    ticket = session.scalar(query.with_for_update() if lock else query)
    if ticket is None:
        raise TicketRefused("invalid", 404)
    if ticket.used_at is not None:
        raise TicketRefused("used", 410)
    if ticket.expires_at <= now:
        raise TicketRefused("expired", 410)
    return ticket
