"""R8 over time: when basic registrations are prompted and lapse, when premium reminders go
out, and what happens at a premium registration's expiry. Plain data in, decisions out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from bot.domain.premium import MAX_PREMIUM_PLACES

#: Days before a premium registration's expiry when the person is reminded (R8).
REMINDER_DAYS = (30, 7)


@dataclass(frozen=True)
class InactivityPolicy:
    """R8 for basic registrations: they lapse after `lapse_after` without any access, and the
    person is asked "keep your registration?" `prompt_before` earlier."""

    lapse_after: timedelta = timedelta(days=730)
    prompt_before: timedelta = timedelta(days=30)

    def __post_init__(self):
        if not timedelta(0) < self.prompt_before < self.lapse_after:
            raise ValueError("the prompt must come after the last access and before the lapse")

    def prompt_from(self, last_access: datetime) -> datetime:
        return last_access + self.lapse_after - self.prompt_before


def prompt_due(last_access: datetime, now: datetime, policy: InactivityPolicy) -> bool:
    return now >= policy.prompt_from(last_access)


def lapse_at(last_access: datetime, prompted_at: datetime | None,
             policy: InactivityPolicy) -> datetime:
    """When the registrations lapse: never sooner than `prompt_before` after the prompt, so
    nobody is surprised — even when the clock was down and the prompt went out late."""
    due = last_access + policy.lapse_after
    return due if prompted_at is None else max(due, prompted_at + policy.prompt_before)


def lapse_due(last_access: datetime, prompted_at: datetime | None, reachable: bool,
              now: datetime, policy: InactivityPolicy) -> bool:
    """Someone we can still write to lapses only after a prompt about this very inactivity;
    someone who blocked the account (or cannot be reached) lapses on time without one."""
    if prompted_at is None and reachable:
        return False
    return now >= lapse_at(last_access, prompted_at, policy)


def reminder_due(premium_until: datetime, now: datetime,
                 days: tuple[int, ...] = REMINDER_DAYS) -> int | None:
    """Which reminder is due now: the closest threshold already reached, or None.

    After an outage only the nearer reminder goes out (7 days left: not the 30-day one too).
    """
    if now >= premium_until:
        return None
    reached = [d for d in days if now >= premium_until - timedelta(days=d)]
    return min(reached) if reached else None


def days_left(premium_until: datetime, now: datetime) -> int:
    """Whole days until expiry, rounded up (a reminder sent at 10:00 for 09:00 says 30)."""
    seconds = (premium_until - now).total_seconds()
    return max(0, -int(-seconds // 86400))


class ExpiryOutcome(StrEnum):
    RENEWED = "renewed"        # auto mode, every rule holds
    REVERTED = "reverted"      # auto mode, some rule does not: back to basic, with the reason
    QUEUED = "queued"          # manual mode: staff decide; premium until they do


def expiry_outcome(renewal_mode: str, rules_hold: bool) -> ExpiryOutcome:
    if renewal_mode == "manual":
        return ExpiryOutcome.QUEUED
    return ExpiryOutcome.RENEWED if rules_hold else ExpiryOutcome.REVERTED


class RenewalFacts(NamedTuple):
    """What the renewal of one premium registration is decided on, as the expiry job reads it
    (one row, jobs/judging.py); `done` counts R4 over the 12 months before the expiry."""

    required: int
    participating: bool     # R1
    home: bool              # R5/R9: the person's residence municipality
    verified: bool          # R5
    minor: bool             # R10 (from the verified birth date)
    consented: bool         # R10: a guardian's consent
    done: int               # R4
    #: R7: premium registrations counted now (the renewed one included); the expiry job reads
    #: the exact count only where it could exceed the cap, else an upper bound of it.
    counted: int


def renewal_holds(facts: RenewalFacts) -> bool:
    """Whether a renewal meets every rule bot.domain.premium.judge checks for a registration
    that is premium already (so R7's count stays as it is: over the cap only if it already
    was). A few comparisons: the expiry job calls this for a million rows."""
    return (facts.participating and facts.done >= facts.required and facts.verified
            and not (facts.minor and not facts.consented) and not facts.home
            and facts.counted <= MAX_PREMIUM_PLACES)
