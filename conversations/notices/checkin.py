"""A check-in made in the LIFF scanner, told in the person's chat too: the scanner's page
closes, the chat keeps the record (web/checkin.py calls this inside the check-in's transaction)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.delivery import outbox
from bot.i18n import use_locale
from bot.services.attendance import Outcome, Result
from bot.services.people import locale_of
from bot.store.models import Person
from conversations.checkin.messages import outcome_text
from conversations.common import text


def tell_checked_in(session: Session, person: Person, result: Result, now: datetime) -> None:
    """The outcome the page shows, pushed to the chat when the person was checked in."""
    if result.outcome is not Outcome.CHECKED_IN or not person.following:
        return
    with use_locale(locale_of(person)):
        outbox.push(session, person.line_user_id, [text(outcome_text(result))], now)
