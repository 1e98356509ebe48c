"""The calendar the rules count by: Japan time, whole years, age and minority (R4, R8, R10)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TypeVar
from zoneinfo import ZoneInfo

#: Municipalities count by the Japanese calendar: a day or a month starts at midnight here.
JST = ZoneInfo("Asia/Tokyo")
#: The age of majority since 2022-04-01 (R10).
ADULT_AGE = 18

Moment = TypeVar("Moment", date, datetime)


def today_in_japan(now: datetime) -> date:
    return now.astimezone(JST).date()


def japan_time(day: date, at: time) -> datetime:
    """A day and a time of day in Japan, as staff type them."""
    return datetime.combine(day, at, JST)


def years_later(moment: Moment, years: int) -> Moment:
    """The same day and time `years` later (earlier if negative); 29 February → 28 February
    in a year without one."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def age_on(birth_date: date, today: date) -> int:
    """Whole years lived: born on 29 February, one is a year older on 1 March in other years."""
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def is_minor(birth_date: date | None, today: date) -> bool:
    return birth_date is not None and age_on(birth_date, today) < ADULT_AGE


def adult_born_by(today: date) -> date:
    """The latest birth date of someone of age on `today`: born later is `is_minor` (for a
    query over many people, which compares birth dates to this one date)."""
    return years_later(today, -ADULT_AGE)
