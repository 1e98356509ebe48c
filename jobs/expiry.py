"""Premium expiry (R8): judge every premium registration whose year is over.

Renewal mode `auto`: renewed for a year when every rule holds, else back to basic with the
reason. Mode `manual`: a renewal request with the system's judgement goes to the entity's
staff, who are notified; the registration stays premium until they decide.

R4 is counted over the 12 months before the registration's expiry, whenever the job runs, so a
late or resumed run decides as an on-time one would. Each page of due registrations is judged
with one query (jobs/judging.py) and a few comparisons per row; only the registrations
acted on are loaded as objects. A dry run judges without locking anything or writing,
two pages at a time.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.delivery import outbox
from bot.domain import validity
from bot.domain.premium import Judgement
from bot.i18n import use_locale
from bot.services import people, premium
from bot.store.models import PremiumRequestPurpose, Registration
from conversations.notices import premium as notices
from jobs import judging
from jobs.framework import JobRun, claim, marked, pages_read_ahead
from jobs.judging import Judged
from jobs.reminders import own_premium

JOB = "premium-expiry"
NOT_RENEWED = "not_renewed"
#: Due registrations per page of a dry run: one query each and no locks, so larger pages.
DRY_BATCH = 20_000


def due_rows(job: JobRun):
    return (*own_premium(), Registration.premium_until <= job.now,
            ~marked(JOB, Registration.id, Registration.premium_until))


def count_outcomes(job: JobRun) -> None:
    """A dry run: what a real run would decide now, counted; nothing locked, marked or
    changed. Pages are judged two at a time (jobs.framework.pages_read_ahead)."""
    where = due_rows(job)

    def fetch(session: Session, after, limit: int) -> list[int]:
        ids = select(Registration.id).where(*where).order_by(*judging.ORDER).limit(limit)
        return session.scalars(ids if after is None else ids.where(Registration.id > after)).all()

    def judge(session: Session, after, ids: list[int]) -> Counter:
        page = judging.page(where, after, len(ids)).where(Registration.id <= ids[-1])
        return Counter(_outcome(row).value for row in judging.judge_rows(session, page, job.now))

    pages_read_ahead(job, fetch, judge, job.summary.counts.update, cursor=lambda id_: id_,
                     start=None)


def _outcome(row: Judged) -> validity.ExpiryOutcome:
    return validity.expiry_outcome(row.renewal_mode, validity.renewal_holds(row.facts))


def run(job: JobRun) -> None:
    if job.dry_run:
        job.batch = job.batch or DRY_BATCH
        count_outcomes(job)
        return

    def act(session: Session, row: Judged) -> None:
        outcome = _outcome(row)
        if not claim(session, JOB, row.registration_id, row.premium_until, outcome, job.now):
            job.summary.add("already done")
            return
        job.summary.add(outcome.value)
        _apply(session, job, session.get(Registration, row.registration_id),
               judging.judgement_of(session, row), outcome)

    judging.judged_pages(job, due_rows(job), act)


def _apply(session: Session, job: JobRun, registration: Registration, judgement: Judgement,
           outcome: validity.ExpiryOutcome) -> None:
    entity, person, until = registration.entity, registration.person, registration.premium_until
    fell_back = None
    if outcome is validity.ExpiryOutcome.RENEWED:
        premium.renew(session, registration, job.now)
    elif outcome is validity.ExpiryOutcome.REVERTED:
        reverted = premium.revert_to_basic(session, registration, job.now, NOT_RENEWED)
        fell_back = reverted.co_registration.entity if reverted.co_registration else None
    else:
        queued = premium.request_review(session, registration, PremiumRequestPurpose.RENEWAL,
                                        judgement, job.now)
        notices.tell_reviewers(session, queued, job.now)
    if not person.following or person.line_user_id is None:
        return
    with use_locale(people.locale_of(person)):
        if outcome is validity.ExpiryOutcome.RENEWED:
            message = notices.renewed(entity, registration.premium_until)
        elif outcome is validity.ExpiryOutcome.REVERTED:
            message = notices.reverted(entity, judgement, fell_back)
        else:
            message = notices.under_review(entity, until)
        outbox.push(session, person.line_user_id, message, job.now)
