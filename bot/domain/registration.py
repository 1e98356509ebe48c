"""Registration rules R1, R2 and R9 as decisions over plain data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

BASIC, PREMIUM = "basic", "premium"
DIRECT, CO_REGISTRATION = "direct", "co_registration"


@dataclass(frozen=True)
class Target:
    code: str
    prefecture_code: str
    is_prefecture: bool
    participating: bool


@dataclass(frozen=True)
class Held:
    """An active registration the person holds."""
    code: str
    prefecture_code: str
    is_prefecture: bool
    kind: str
    origin: str


class Refusal(StrEnum):
    NOT_PARTICIPATING = "not_participating"     # R1
    ALREADY_REGISTERED = "already_registered"


def basic_refusal(target: Target, held: list[Held]) -> Refusal | None:
    """Why a basic registration at `target` cannot be made, or None when it can (R1, R3)."""
    if not target.participating:
        return Refusal.NOT_PARTICIPATING
    if any(h.code == target.code and h.origin == DIRECT for h in held):
        return Refusal.ALREADY_REGISTERED
    return None


def needs_co_registration(target: Target, prefecture_participating: bool, kind: str,
                          held: list[Held]) -> bool:
    """R2: a municipality registration also registers at its participating prefecture.

    One registration per entity: a prefecture registration the person already holds, of
    either kind, stands for this one too (premium there covers a basic town as well).
    """
    if target.is_prefecture or not prefecture_participating:
        return False
    return not any(h.code == target.prefecture_code for h in held)


def co_registration_to_end(prefecture_code: str, held_after: list[Held]) -> bool:
    """R2: the prefecture's co-registration ends with the last municipality one there.

    `held_after` is what the person holds once the registration has ended. A person holds
    one registration per entity, of either kind, so any town left in the prefecture keeps
    the co-registration. A registration the person made directly at the prefecture is
    theirs to keep.
    """
    at_prefecture = [h for h in held_after if h.code == prefecture_code]
    if not at_prefecture or any(h.origin == DIRECT for h in at_prefecture):
        return False
    return not any(h.prefecture_code == prefecture_code and not h.is_prefecture
                   for h in held_after)


def at_residence(code: str, residence_code: str | None) -> bool:
    """R9: the entity `code` is where the person lives (`residence_code`, always a
    municipality: never a prefecture). No residence known: nowhere.

    Its SQL twin, for queries over many people, is bot.services.registry.at_residence_sql.
    """
    return residence_code is not None and code == residence_code


def counts_in_statistics(code: str, residence_code: str | None) -> bool:
    """R9: a registration at one's own residence municipality is not related population."""
    return not at_residence(code, residence_code)
