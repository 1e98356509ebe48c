"""The calendar the rules count by (bot/domain/calendar.py): Japan time, whole years, minority."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from bot.domain.calendar import (
    JST,
    adult_born_by,
    age_on,
    is_minor,
    japan_time,
    today_in_japan,
    years_later,
)


def test_the_day_is_japans():
    assert today_in_japan(datetime(2026, 12, 31, 14, 59, tzinfo=UTC)) == date(2026, 12, 31)
    assert today_in_japan(datetime(2026, 12, 31, 15, 0, tzinfo=UTC)) == date(2027, 1, 1)
    assert japan_time(date(2027, 1, 1), time(0, 0)) == datetime(2026, 12, 31, 15, 0, tzinfo=UTC)
    assert japan_time(date(2027, 1, 1), time(0, 0)).tzinfo is JST


def test_a_year_later_or_earlier_keeps_the_day_and_time():
    moment = datetime(2027, 4, 1, 3, 30, tzinfo=UTC)
    assert years_later(moment, 1) == datetime(2028, 4, 1, 3, 30, tzinfo=UTC)
    assert years_later(moment, -1) == datetime(2026, 4, 1, 3, 30, tzinfo=UTC)
    assert years_later(date(2026, 6, 1), -18) == date(2008, 6, 1)


def test_29_february_becomes_28_february_in_a_year_without_one():
    assert years_later(datetime(2028, 2, 29, 15, tzinfo=UTC), 1) == datetime(2029, 2, 28, 15, tzinfo=UTC)
    assert years_later(datetime(2028, 2, 29, tzinfo=UTC), -1) == datetime(2027, 2, 28, tzinfo=UTC)
    assert years_later(date(2028, 2, 29), 4) == date(2032, 2, 29)
    assert years_later(date(2028, 2, 29), -18) == date(2010, 2, 28)


def test_birth_dates_make_minors_under_18():
    assert is_minor(date(2008, 6, 2), date(2026, 6, 1))
    assert not is_minor(date(2008, 6, 1), date(2026, 6, 1))
    assert not is_minor(None, date(2026, 6, 1))


def test_a_person_turns_18_on_their_birthday():
    assert age_on(date(2008, 6, 1), date(2026, 5, 31)) == 17
    assert age_on(date(2008, 6, 1), date(2026, 6, 1)) == 18
    assert is_minor(date(2008, 6, 1), date(2026, 5, 31))
    assert not is_minor(date(2008, 6, 1), date(2026, 6, 1))


def test_born_on_29_february_one_is_a_year_older_on_1_march_in_other_years():
    born = date(2008, 2, 29)
    assert age_on(born, date(2026, 2, 28)) == 17 and is_minor(born, date(2026, 2, 28))
    assert age_on(born, date(2026, 3, 1)) == 18 and not is_minor(born, date(2026, 3, 1))
    assert age_on(date(2012, 2, 29), date(2028, 2, 29)) == 16


def test_r10_the_cutoff_for_a_query_is_the_minority_rule():
    """jobs/judging.py compares birth dates to `adult_born_by` in SQL, for a million people."""
    for today in (date(2026, 6, 1), date(2027, 2, 28), date(2028, 2, 29), date(2027, 3, 1)):
        for born in (date(2008, 2, 28), date(2008, 2, 29), date(2008, 3, 1),
                     date(2009, 2, 28), date(2009, 3, 1), date(2010, 2, 28),
                     date(2008, 6, 1), date(2008, 6, 2), date(2009, 6, 1)):
            assert (born > adult_born_by(today)) == is_minor(born, today), (today, born)
