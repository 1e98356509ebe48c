"""Dates and times as people read them, in Japan time and their language."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_datetime

from bot.domain.calendar import JST
from bot.i18n import current_locale

_DAY = {"ja": "M月d日（E）", "en": "EEE d MMM"}
_DAY_WITH_YEAR = {"ja": "y年M月d日（E）", "en": "EEE d MMM y"}
_DATE_WITH_YEAR = {"ja": "y年M月d日", "en": "d MMM y"}


def day(moment: datetime, *, with_year: bool = False) -> str:
    patterns = _DAY_WITH_YEAR if with_year else _DAY
    return format_datetime(moment.astimezone(JST), patterns[current_locale()],
                           locale=current_locale())


def date_with_year(moment: datetime) -> str:
    """2027年5月1日 / 1 May 2027, without the weekday: how a validity's end date is written."""
    return format_datetime(moment.astimezone(JST), _DATE_WITH_YEAR[current_locale()],
                           locale=current_locale())


def clock(moment: datetime) -> str:
    return moment.astimezone(JST).strftime("%H:%M")


def span(starts_at: datetime, ends_at: datetime) -> str:
    """12月5日（土）10:00〜12:00 / Sat 5 Dec 10:00–12:00"""
    dash = "〜" if current_locale() == "ja" else "–"
    end = clock(ends_at)
    if starts_at.astimezone(JST).date() != ends_at.astimezone(JST).date():
        end = f"{day(ends_at)} {end}"
    return f"{day(starts_at)} {clock(starts_at)}{dash}{end}"


def moment(at: datetime) -> str:
    return f"{day(at)} {clock(at)}"


def moment_seen_from(at: datetime, now: datetime) -> str:
    """`moment`, with the year when it is not `now`'s: a date a year ahead would otherwise read
    as this year's."""
    other_year = at.astimezone(JST).year != now.astimezone(JST).year
    return f"{day(at, with_year=other_year)} {clock(at)}"
