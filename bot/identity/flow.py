"""One verification from the consent click to the chat message, in short transactions.

start: the person consents → a `VerificationAttempt` (state, nonce, PKCE verifier) and the
provider's URL. complete: the callback claims the attempt (its verifier is cleared in that
same commit, so a second callback finds nothing to exchange), the code is exchanged outside
any transaction, then the result is recorded and handed to the caller's `tell` in that same
transaction, which pushes it to the chat (conversations/notices/identity.py).
One's own card is recorded at the callback only when LINE vouched for the account that
started (the LIFF page's ID token) and the callback is in that same browser. Otherwise — a
signed link, which anyone it is forwarded to can open, or another browser — the result waits
until the page's code is sent in the account's own chat (bot/identity/confirmation.py,
confirm_from_chat).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.codes import url_tokens
from bot.identity import binding, confirmation, handoff, oidc, records
from bot.identity.provider import Provider, ProviderUnavailable, configured
from bot.identity.records import Outcome, Recorded, Relationship, Verified
from bot.services.people import locale_of
from bot.store.db import database
from bot.store.models import Entity, Person, VerificationAttempt, VerificationPurpose

log = logging.getLogger(__name__)
ATTEMPT_LIFETIME = timedelta(minutes=30)
#: After a cancel or a failure the result page offers to try again, for this long, once.
RETRY_WINDOW = timedelta(minutes=30)
_STATE_LENGTH = VerificationAttempt.state.type.length
CANCELLED, PROVIDER_ERROR, EXPIRED, RETRIED = "cancelled", "provider_error", "expired", "retried"
AWAITING_CHAT = confirmation.AWAITING
RETRYABLE = {CANCELLED, PROVIDER_ERROR, Outcome.INCOMPLETE, Outcome.GUARDIAN_IS_MINOR,
             Outcome.GUARDIAN_IS_SELF}


@dataclass(frozen=True)
class Result:
    """What the result page says: the outcome and what goes with it."""
    outcome: str
    purpose: str
    locale: str
    residence: Entity | None = None
    guardian_url: str | None = None
    retry_state: str | None = None   # the finished attempt a "try again" button names
    replayed: bool = False           # the callback of an attempt already finished
    premium_at_home: Entity | None = None  # the new home, where the person holds premium (R5)
    code: str | None = None          # AWAITING_CHAT: what the person sends in their chat
    line_name: str | None = None     # AWAITING_CHAT: whose chat that is


@dataclass(frozen=True)
class Finished:
    """A verification's end, for the person's chat: what became of it and what goes with it."""
    person: Person
    outcome: str
    purpose: str
    residence: Entity | None = None
    guardian_url: str | None = None
    premium_at_home: Entity | None = None


#: Given each finished verification inside the transaction that records it, so the result
#: and the message that tells of it commit together.
Tell = Callable[[Session, Finished, datetime], None]


class AttemptRefused(Exception):
    def __init__(self, reason: str, status: int):
        super().__init__(reason)
        self.reason, self.status = reason, status


def start(session: Session, person: Person, purpose: VerificationPurpose, provider: Provider,
          now: datetime, browser: str, relationship: Relationship | None = None,
          vouched: bool = False) -> str:
    """A new attempt for the person, bound to the browser; returns the provider's URL.

    `vouched`: LINE said this browser is the person's account (the LIFF page's ID token), so
    a callback here may record one's own card at once. `provider` is built by the caller
    before its transaction opens: loading the key and fetching discovery must not hold the
    ticket's row lock (SQLite: every writer waits).
    """
    request = oidc.begin(provider)
    session.add(VerificationAttempt(
        state=request.state, nonce=request.nonce, code_verifier=request.code_verifier,
        person_id=person.id, purpose=purpose.value, created_at=now,
        expires_at=now + ATTEMPT_LIFETIME, browser_binding=binding.digest(browser, vouched),
        relationship_to_minor=relationship.value if relationship else None))
    return request.url


def retry(session: Session, state: str, provider: Provider, now: datetime,
          browser: str | None) -> str:
    """Try again after a cancel or a failure, from the result page: once per attempt."""
    attempt = _attempt(session, state)
    if attempt is not None and not binding.matches(browser, attempt.browser_binding):
        raise AttemptRefused(_unbound(attempt), 403)
    if (attempt is None or attempt.outcome not in RETRYABLE or attempt.finished_at is None
            or attempt.finished_at + RETRY_WINDOW <= now):
        raise AttemptRefused("expired", 410)
    attempt.outcome = RETRIED
    person = session.get(Person, attempt.person_id)
    relationship = Relationship(attempt.relationship_to_minor) if attempt.relationship_to_minor else None
    return start(session, person, VerificationPurpose(attempt.purpose), provider, now, browser,
                 relationship, vouched=binding.vouched_for(browser, attempt.browser_binding))


def _unbound(attempt: VerificationAttempt) -> str:
    """The refusal for another browser: a guardian cannot ask the bot for a new link."""
    return "unbound_guardian" if attempt.purpose == VerificationPurpose.GUARDIAN else "unbound"


def _attempt(session: Session, state: str) -> VerificationAttempt | None:
    if not url_tokens.could_be_ours(state, _STATE_LENGTH):
        return None
    return session.scalar(select(VerificationAttempt).where(VerificationAttempt.state == state)
                          .with_for_update())


def complete(app: Flask, params: Mapping[str, str], now: datetime, browser: str | None,
             tell: Tell) -> Result:
    """The provider's redirect back: `code` and `state`, or `error` and `state`.

    The browser that started the attempt finishes it; one's own card, though, is recorded
    here only for an attempt LINE vouched for (LIFF). Any other callback of one's own
    verification — a signed link's, which whoever it was forwarded to may have opened, or one
    in another browser — finishes through the chat: the result waits for the code the page
    shows, sent in the account's own chat. Anything else from another browser changes
    nothing, so the right browser can still come back.
    """
    db = database(app)
    with db.transaction() as session:
        attempt = _attempt(session, params.get("state", ""))
        if attempt is None or not (params.get("code") or params.get("error")):
            raise AttemptRefused("invalid", 400)
        bound = binding.matches(browser, attempt.browser_binding)
        # Only LINE's word (the LIFF page's ID token) says the card holder is the account's.
        in_chat = attempt.purpose == VerificationPurpose.SELF and not binding.vouched_for(
            browser, attempt.browser_binding)
        own_code = attempt.purpose == VerificationPurpose.SELF and bool(params.get("code"))
        if not bound and not own_code:
            raise AttemptRefused(_unbound(attempt), 403)
        person = session.get(Person, attempt.person_id)
        locale = locale_of(person)
        if attempt.finished_at is not None:
            # Reloaded (a phone reloads a tab one comes back to): what became of it. A result
            # waiting for its code is finished in the chat; the code was shown once.
            return Result(attempt.outcome or PROVIDER_ERROR, attempt.purpose, locale, replayed=True)
        purpose, nonce, verifier = attempt.purpose, attempt.nonce, attempt.code_verifier
        relationship, consented_at = attempt.relationship_to_minor, attempt.created_at
        attempt.code_verifier, attempt.finished_at = None, now  # the verifier is used once
        if attempt.expires_at <= now:
            attempt.outcome = EXPIRED
            return Result(EXPIRED, purpose, locale)
        if params.get("error"):
            attempt.outcome = CANCELLED if params["error"] == "access_denied" else PROVIDER_ERROR
            tell(session, Finished(person, attempt.outcome, purpose), now)
            return Result(attempt.outcome, purpose, locale, retry_state=attempt.state)
        state, person_id = attempt.state, person.id

    try:
        provider = configured(app.config)
        identity = oidc.finish(provider, params["code"], verifier, nonce, now)
    except (oidc.ProviderError, ProviderUnavailable) as error:
        log.warning("identity verification failed at the provider: %s", error)
        failed = _record_failure(db, state, person_id, purpose, locale, now, tell)
        return failed if bound else replace(failed, retry_state=None)  # retrying needs binding

    with db.transaction() as session:
        person = session.scalars(select(Person).where(Person.id == person_id)
                                 .with_for_update().execution_options(populate_existing=True)).one()
        attempt = _attempt(session, state)
        if attempt is None or person.deleted_at is not None:
            raise AttemptRefused("expired", 410)  # the person deleted their data meanwhile
        if in_chat:
            _release_waiting(session, person)  # the newest page's code counts
            code = confirmation.hold(attempt, Verified.of(session, provider.name, identity), now,
                                     app.config["SECRET_KEY"])
            log.info("identity verification %s: waiting for the code in the chat", attempt.id)
            return Result(AWAITING_CHAT, purpose, locale_of(person), code=code,
                          line_name=person.display_name)
        if purpose == VerificationPurpose.GUARDIAN:
            recorded = records.save_guardian_consent(session, person, provider.name, identity,
                                                     Relationship(relationship), now)
            guardian_url = None
        else:
            _release_waiting(session, person)  # an older page's code: too late
            recorded, guardian_url = _record_own(
                session, person, Verified.of(session, provider.name, identity), consented_at, now,
                app.config)
        attempt.outcome = recorded.outcome.value
        tell(session, Finished(person, recorded.outcome, purpose, recorded.residence, guardian_url,
                               recorded.premium_at_home), now)
        log.info("identity verification %s: %s", attempt.id, recorded.outcome.value)
        return Result(recorded.outcome.value, purpose, locale_of(person), recorded.residence,
                      guardian_url, retry_state=state if recorded.outcome in RETRYABLE else None,
                      premium_at_home=recorded.premium_at_home)


def _record_own(session: Session, person: Person, verified: Verified, consented_at: datetime,
                now: datetime, config: Mapping[str, Any]) -> tuple[Recorded, str | None]:
    """One's own card recorded; with the guardian's link when a consent is needed."""
    recorded = records.save_verification(session, person, verified, consented_at, now)
    guardian_url = (handoff.guardian_link(session, person, now, config)
                    if recorded.outcome is Outcome.NEEDS_GUARDIAN else None)
    return recorded, guardian_url


@dataclass(frozen=True)
class Confirmed:
    """What the chat hears after sending a code: a records.Outcome, or why nothing was
    recorded (confirmation.NOTHING_WAITING; WRONG_CODE with tries left, or for the last;
    EXPIRED)."""
    outcome: str
    residence: Entity | None = None
    guardian_url: str | None = None
    premium_at_home: Entity | None = None
    tries_left: int = 0


def _waiting(session: Session, person: Person) -> list[VerificationAttempt]:
    """The person's results waiting for a code, locked: at most one, as holding a result
    releases the others under the person's row lock."""
    return list(session.scalars(
        select(VerificationAttempt)
        .where(VerificationAttempt.person_id == person.id,
               VerificationAttempt.outcome == AWAITING_CHAT)
        .order_by(VerificationAttempt.id).with_for_update()))


def _release_waiting(session: Session, person: Person) -> None:
    for attempt in _waiting(session, person):
        confirmation.release(attempt, confirmation.SUPERSEDED)


def confirm_from_chat(session: Session, person: Person, code: str, now: datetime,
                      config: Mapping[str, Any]) -> Confirmed:
    """The code from a verification page, sent in the person's own chat (the person's row
    is locked by the webhook): the held result is recorded, once. The code is on the page of
    whoever verified their card, the chat is the account's: both must be the same person, or
    the card holder must hand the code over, which the page warns against."""
    waiting = _waiting(session, person)
    if not waiting:
        return Confirmed(confirmation.NOTHING_WAITING)
    attempt = waiting[-1]
    if attempt.confirm_by <= now:
        confirmation.release(attempt, EXPIRED)
        return Confirmed(EXPIRED)
    if not confirmation.matches(attempt, code, config["SECRET_KEY"]):
        attempt.confirmation_tries += 1
        left = confirmation.MAX_TRIES - attempt.confirmation_tries
        if left <= 0:
            confirmation.release(attempt, confirmation.WRONG_CODE)
        log.info("identity verification %s: a wrong code in the chat", attempt.id)
        return Confirmed(confirmation.WRONG_CODE, tries_left=max(left, 0))
    verified = confirmation.release(attempt)
    recorded, guardian_url = _record_own(session, person, verified, attempt.created_at, now, config)
    attempt.outcome = recorded.outcome.value
    log.info("identity verification %s: %s (confirmed in the chat)", attempt.id,
             recorded.outcome.value)
    return Confirmed(recorded.outcome.value, recorded.residence, guardian_url,
                     recorded.premium_at_home)


def _record_failure(db, state: str, person_id: int, purpose: str, locale: str,
                    now: datetime, tell: Tell) -> Result:
    with db.transaction() as session:
        attempt = _attempt(session, state)
        attempt.outcome = PROVIDER_ERROR
        tell(session, Finished(session.get(Person, person_id), PROVIDER_ERROR, purpose), now)
    return Result(PROVIDER_ERROR, purpose, locale, retry_state=state)

