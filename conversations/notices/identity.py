"""A verification finished in the browser, told in the person's chat through the outbox
(bot/identity/flow.py hands it over inside the transaction that records it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.delivery import outbox
from bot.i18n import use_locale
from bot.identity.flow import Finished
from bot.identity.records import Outcome
from bot.services.people import locale_of
from bot.store.models import VerificationPurpose
from conversations.identity import messages


def tell_result(session: Session, finished: Finished, now: datetime) -> None:
    """The result in the person's chat (for a guardian's visit: only the consent itself)."""
    person = finished.person
    if not person.following or not person.line_user_id:
        return
    if finished.purpose == VerificationPurpose.GUARDIAN \
            and finished.outcome != Outcome.GUARDIAN_CONSENTED:
        return  # the guardian sees the page; the minor hears only of a consent
    with use_locale(locale_of(person)):
        chat = messages.result(finished.outcome, finished.residence, finished.guardian_url,
                               finished.premium_at_home)
    if chat:
        outbox.push(session, person.line_user_id, chat, now)
