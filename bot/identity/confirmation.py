"""Finishing a verification whose callback reached another browser, by a code sent in the chat.

On a phone the デジタル認証アプリ hands the callback to the default browser, not to LINE's
in-app browser where the person consented, so the browser binding (bot/identity/binding.py)
is missing. Recording the card then would let anyone who sends a victim the provider's page
have the victim's card recorded on their own LINE account (login CSRF). Instead the card's
answer is held, reduced to what R13 keeps, and the page shows a code: it is recorded only
when that code arrives in the chat of the LINE account that started, within ten minutes and
in a few tries. A victim would have to hand the code over to someone else's chat themselves.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from datetime import datetime, timedelta
from functools import cache

from bot.i18n import N_, _, in_every_locale
from bot.identity.records import Verified
from bot.store.models import VerificationAttempt

#: The attempt's outcome while its result waits for the code, and when it was dropped: the
#: code was wrong MAX_TRIES times, or a newer result or verification came first.
AWAITING, WRONG_CODE, SUPERSEDED = "awaiting_chat", "wrong_code", "superseded"
#: What the chat hears when no result waits for a code.
NOTHING_WAITING = "nothing_waiting"
LIFETIME = timedelta(minutes=10)
MAX_TRIES = 5
DIGITS = 6
WORD = N_("本人確認コード")


def hold(attempt: VerificationAttempt, verified: Verified, now: datetime, secret: str) -> str:
    """Keep the result on the attempt until the code comes; returns the code to show."""
    code = f"{secrets.randbelow(10 ** DIGITS):0{DIGITS}d}"
    attempt.outcome = AWAITING
    attempt.pending_result = verified.as_json()
    attempt.confirmation_digest = _digest(secret, attempt.state, code)
    attempt.confirm_by = now + LIFETIME
    attempt.confirmation_tries = 0
    return code


def matches(attempt: VerificationAttempt, code: str, secret: str) -> bool:
    return bool(attempt.confirmation_digest) and hmac.compare_digest(
        _digest(secret, attempt.state, code), attempt.confirmation_digest)


def release(attempt: VerificationAttempt, outcome: str | None = None) -> Verified | None:
    """Take the held result off the attempt (nothing of the card stays on it)."""
    held = Verified.from_json(attempt.pending_result) if attempt.pending_result else None
    attempt.pending_result = attempt.confirmation_digest = None
    if outcome is not None:
        attempt.outcome = outcome
    return held


def find_code(text: str) -> str | None:
    """The code in 「本人確認コード 123 456」 (full-width digits too), as the page pre-types it."""
    match = _pattern().fullmatch(unicodedata.normalize("NFKC", text))
    return match.group(1) + match.group(2) if match else None


@cache
def _pattern() -> re.Pattern:
    """The whole message, as the page's button types it in any language (a code inside other
    text is not one); built once the catalogues are loaded."""
    words = "|".join(r"\s+".join(map(re.escape, word.split())) for word in in_every_locale(WORD))
    return re.compile(rf"\s*(?:{words})\s*:?\s*(\d{{3}})[\s-]?(\d{{3}})\s*", re.IGNORECASE)


def chat_text(code: str) -> str:
    """What the page's button types in the chat, in the person's language."""
    return f"{_(WORD)} {code}"


def shown(code: str) -> str:
    return f"{code[:3]} {code[3:]}"


def _digest(secret: str, state: str, code: str) -> str:
    """Keyed, so that a copy of the database does not give the six digits away."""
    return hmac.new(secret.encode(), f"{state}:{code}".encode(), hashlib.sha256).hexdigest()
