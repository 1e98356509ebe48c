"""Statistics (R15) as plain data: Japan-time calendar months and people's standing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.domain.calendar import JST


@dataclass(frozen=True)
class Month:
    key: str             # "2026-11"
    starts_at: datetime  # the 1st, 00:00 Japan time


def last_months(now: datetime, count: int = 12) -> list[Month]:
    """The `count` calendar months up to and including the one of `now`, oldest first."""
    local = now.astimezone(JST)
    current = local.year * 12 + local.month - 1
    return [Month(f"{start:%Y-%m}", start)
            for start in map(_start, range(current - count + 1, current + 1))]


def _start(index: int) -> datetime:
    """The first moment of a month numbered as year × 12 + (month − 1)."""
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=JST)


def standing(people_by_done: Mapping[int, int]) -> dict[str, int]:
    """People at 1, 2 and 3 or more designated activities, from people per number done."""
    return {"1": people_by_done.get(1, 0), "2": people_by_done.get(2, 0),
            "3+": sum(people for done, people in people_by_done.items() if done >= 3)}
