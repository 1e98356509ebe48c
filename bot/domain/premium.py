"""Premium rules R4, R5, R7, R8 and R10 as one judgement over plain data.

A judgement keeps the person's own figures (activities done, the places that count toward
the cap) so that the chat can explain every rule with them, and staff see the same figures.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.domain.calendar import years_later
from bot.domain.checkin import Progress
from bot.domain.registration import PREMIUM, Held, Target, at_residence

#: R7: premium registrations a person may hold, counted as `counted` says.
MAX_PREMIUM_PLACES = 3


class Unmet(StrEnum):
    """A rule that does not hold, in the order the chat explains them."""
    NOT_PARTICIPATING = "not_participating"  # R1: the entity no longer takes registrations
    NOT_REGISTERED = "not_registered"        # premium upgrades a basic registration
    ACTIVITIES = "activities"                # R4
    IDENTITY = "identity"                    # R5: My Number Card verification
    GUARDIAN = "guardian"                    # R5/R10: a minor needs a guardian's consent
    HOME = "home"                            # R5/R9: not at one's own residence municipality
    TOO_MANY_PLACES = "cap"                  # R7: more than MAX_PREMIUM_PLACES


#: R4 says "confirmed by a QR check-in (or by staff)": staff may accept activities the system
#: did not see; every other rule holds whatever staff decide.
WAIVABLE = frozenset({Unmet.ACTIVITIES})


def unwaivable(unmet: Iterable[Unmet]) -> tuple[Unmet, ...]:
    """The rules that fail even when staff confirm the activities themselves."""
    return tuple(u for u in unmet if u not in WAIVABLE)


@dataclass(frozen=True)
class Identity:
    verified: bool
    minor: bool = False
    guardian_consented: bool = False


@dataclass(frozen=True)
class Judgement:
    entity_code: str
    progress: Progress
    identity: Identity
    home: bool
    #: Codes of the premium registrations that count toward R7 now, and after a grant here.
    counted_now: tuple[str, ...]
    counted_after: tuple[str, ...]
    unmet: tuple[Unmet, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.unmet

    @property
    def replaced(self) -> tuple[str, ...]:
        """Prefectures that stop counting once this municipality is premium (R7's exception)."""
        return tuple(code for code in self.counted_now if code not in self.counted_after)

    def to_json(self) -> dict:
        return {"entity": self.entity_code, "done": self.progress.done,
                "required": self.progress.required, "verified": self.identity.verified,
                "minor": self.identity.minor,
                "guardian_consented": self.identity.guardian_consented, "home": self.home,
                "counted_now": list(self.counted_now), "counted_after": list(self.counted_after),
                "unmet": [u.value for u in self.unmet]}

    @classmethod
    def from_json(cls, data: dict) -> Judgement:
        return cls(data["entity"], Progress(data["done"], data["required"]),
                   Identity(data["verified"], data["minor"], data["guardian_consented"]),
                   data["home"], tuple(data["counted_now"]), tuple(data["counted_after"]),
                   tuple(Unmet(u) for u in data["unmet"] if u in set(Unmet)))


def counted(premium: Iterable[Held]) -> tuple[str, ...]:
    """R7: premium municipalities, plus premium prefectures without a premium municipality.

    So a prefecture co-registration never adds to the count, and 神山町 premium together
    with 徳島県 applied for directly counts once. Its SQL twin: jobs/judging.py `_counted`.
    """
    premium = [h for h in premium if h.kind == PREMIUM]
    with_municipality = {h.prefecture_code for h in premium if not h.is_prefecture}
    codes = [h.code for h in premium
             if not h.is_prefecture or h.code not in with_municipality]
    return tuple(dict.fromkeys(codes))


def judge(target: Target, held: Sequence[Held], progress: Progress, identity: Identity,
          residence_code: str | None) -> Judgement:
    """Every rule premium at `target` needs, with the figures that decide it.

    `held` is what the person holds now (basic and premium). A premium registration at
    `target` itself is judged as a renewal: it already counts, so R7 stays as it is.

    The expiry job takes the same decision for a page of registrations at once: the figures
    from one query (jobs/judging.py `judged_query`), the rules in bot.domain.validity
    `renewal_holds`; tests/test_jobs.py proves they agree with this.
    """
    registered = any(h.code == target.code for h in held)
    as_premium = Held(target.code, target.prefecture_code, target.is_prefecture, PREMIUM, "direct")
    now_counted = counted(held)
    after = counted([as_premium if h.code == target.code else h for h in held]
                    + ([] if registered else [as_premium]))
    home = at_residence(target.code, residence_code)
    unmet = []
    if not target.participating:
        unmet.append(Unmet.NOT_PARTICIPATING)
    if not registered:
        unmet.append(Unmet.NOT_REGISTERED)
    if not progress.reached:
        unmet.append(Unmet.ACTIVITIES)
    if not identity.verified:
        unmet.append(Unmet.IDENTITY)
    elif identity.minor and not identity.guardian_consented:
        unmet.append(Unmet.GUARDIAN)
    if home:
        unmet.append(Unmet.HOME)
    if len(after) > MAX_PREMIUM_PLACES:
        unmet.append(Unmet.TOO_MANY_PLACES)
    return Judgement(target.code, progress, identity, home, now_counted, after, tuple(unmet))


def one_year_after(moment: datetime) -> datetime:
    """R8: premium is valid one year; 29 Feb → 28 Feb of the next year."""
    return years_later(moment, 1)


def prefecture_falls_back(prefecture_code: str, held_after: Sequence[Held],
                          premium_applied_directly: bool) -> bool:
    """R2: the prefecture's premium co-registration ends with its last premium municipality.

    `held_after` is what the person holds once a municipality stopped being premium; a
    premium the person applied for at the prefecture itself is theirs to keep.
    """
    if premium_applied_directly:
        return False
    return not any(h.prefecture_code == prefecture_code and not h.is_prefecture
                   and h.kind == PREMIUM for h in held_after)
