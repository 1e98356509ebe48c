"""Premium reminders 30 and 7 days before expiry, with the person's figures (R8).

The figures are those the judgement at expiry will see: R4 counted over the 12 months before
the expiry (jobs/judging.py), so a check-in that will have fallen out of that window by
then is not counted, and the reminder says what is still missing by the expiry date.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_
from sqlalchemy.orm import Session

from bot.delivery import outbox
from bot.domain import validity
from bot.i18n import use_locale
from bot.services import people
from bot.store.models import Entity, Origin, Person, Registration, RegistrationKind, RegistrationStatus
from conversations.notices import premium as notices
from jobs import judging
from jobs.framework import JobRun, claim, marked
from jobs.judging import Judged

JOB = "premium-reminder"
def mark_name(days: int) -> str:
    return f"{JOB}-{days}"


def own_premium():
    """Premium registrations with a validity of their own: a prefecture co-registration
    follows its municipality's and is not reminded of separately."""
    return (Registration.kind == RegistrationKind.PREMIUM,
            Registration.status == RegistrationStatus.ACTIVE,
            Registration.premium_origin.is_distinct_from(Origin.CO_REGISTRATION))


def due_rows(job: JobRun):
    first, nearest = max(validity.REMINDER_DAYS), min(validity.REMINDER_DAYS)
    return (*own_premium(),
            Registration.premium_until > job.now,
            Registration.premium_until <= job.now + timedelta(days=first),
            ~marked(mark_name(nearest), Registration.id, Registration.premium_until),
            or_(Registration.premium_until <= job.now + timedelta(days=nearest),
                ~marked(mark_name(first), Registration.id, Registration.premium_until)))


def run(job: JobRun) -> None:
    judging.judged_pages(job, due_rows(job),
                         lambda session, row: job.summary.add(_one(session, job, row)))


def _one(session: Session, job: JobRun, row: Judged) -> str:
    days = validity.reminder_due(row.premium_until, job.now)
    if days is None:
        return "not due"
    if not claim(session, mark_name(days), row.registration_id, row.premium_until,
                 "reminded", job.now):
        return "already done"
    person = session.get(Person, row.person_id)
    if not person.following or person.line_user_id is None:
        return "unreachable"
    entity = session.get(Entity, row.entity_id)
    with use_locale(people.locale_of(person)):
        outbox.push(session, person.line_user_id,
                    notices.reminder(entity, row.premium_until,
                                     validity.days_left(row.premium_until, job.now),
                                     judging.judgement_of(session, row)),
                    job.now)
    return f"reminded {days} days before"
