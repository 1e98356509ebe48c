"""Reading dates and times staff type: 2026-12-05, 12/5, 12月5日; 10:00, 10時, 9:30."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, time, timedelta

_FULL = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_SHORT = re.compile(r"^(\d{1,2})[-/.月](\d{1,2})日?$")
_TIME = re.compile(r"^(\d{1,2})(?:[:時](\d{1,2})?分?)?$")


_RELATIVE = {"今日": 0, "きょう": 0, "today": 0, "明日": 1, "あした": 1, "tomorrow": 1}


def parse_date(text: str, today: date) -> date | None:
    """A date; without a year, the next such day from today on; 今日, 明日."""
    typed = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    if typed.casefold() in _RELATIVE:
        return today + timedelta(days=_RELATIVE[typed.casefold()])
    try:
        if match := _FULL.match(typed):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _SHORT.match(typed):
            month, day = int(match[1]), int(match[2])
            candidate = date(today.year, month, day)
            return candidate if candidate >= today else date(today.year + 1, month, day)
    except ValueError:
        return None  # 2月30日
    return None


def parse_time(text: str) -> time | None:
    typed = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    match = _TIME.match(typed)
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2] or 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)
