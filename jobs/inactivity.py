"""R8 for basic registrations: ask "keep your registration?" before they lapse, then lapse them.

Any event from the person (message, postback, check-in) moves `person.last_access_at`, which
starts a new period: the marks of this job are keyed by the last access they refer to, so an
old prompt does not count for a new period of inactivity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from bot.config import ConfigurationError
from bot.delivery import outbox
from bot.domain import validity
from bot.i18n import use_locale
from bot.services import people, registry
from bot.store.models import Person, Registration, RegistrationKind, RegistrationStatus
from conversations.keep_registration import messages
from jobs.framework import JobRun, claim, lock_people, mark_time, pages

PROMPT, LAPSE = "inactivity-prompt", "inactivity-lapse"
LAPSED_REASON = "lapsed"


def policy(config: Mapping) -> validity.InactivityPolicy:
    """BASIC_LAPSE_DAYS (default 730) and BASIC_LAPSE_PROMPT_DAYS (default 30), R8."""
    try:
        lapse = int(config.get("BASIC_LAPSE_DAYS") or 730)
        prompt = int(config.get("BASIC_LAPSE_PROMPT_DAYS") or 30)
        return validity.InactivityPolicy(timedelta(days=lapse), timedelta(days=prompt))
    except ValueError:
        raise ConfigurationError("BASIC_LAPSE_DAYS and BASIC_LAPSE_PROMPT_DAYS must be whole "
                                 "days, the prompt shorter than the lapse") from None


def _last_access():
    return func.coalesce(Person.last_access_at, Person.created_at)


def _holds_basic():
    return exists().where(Registration.person_id == Person.id,
                          Registration.status == RegistrationStatus.ACTIVE,
                          Registration.kind == RegistrationKind.BASIC)


def run(job: JobRun) -> None:
    rules = policy(job.config)
    cutoff = job.now - (rules.lapse_after - rules.prompt_before)
    due = (Person.deleted_at.is_(None), _last_access() <= cutoff, _holds_basic())

    def fetch(session: Session, after: int, limit: int) -> Sequence[int]:
        return session.scalars(select(Person.id).where(Person.id > after, *due)
                               .order_by(Person.id).limit(limit)).all()

    def handle(session: Session, ids: Sequence[int]) -> None:
        lock_people(session, ids)
        # Read again under the lock: a message that arrived meanwhile has moved the last access.
        for person in session.scalars(select(Person).where(Person.id.in_(ids), *due)
                                      .order_by(Person.id)
                                      .execution_options(populate_existing=True)):
            job.summary.add(_one(session, job, rules, person))

    pages(job, fetch, handle, cursor=lambda person_id: person_id)


def _one(session: Session, job: JobRun, rules: validity.InactivityPolicy, person: Person) -> str:
    last = person.last_access_at or person.created_at
    reachable = person.following and person.line_user_id is not None
    prompted_at = mark_time(session, PROMPT, person.id, last)
    basic = [r for r in registry.active(session, person) if r.kind == RegistrationKind.BASIC]
    if validity.lapse_due(last, prompted_at, reachable, job.now, rules):
        if not claim(session, LAPSE, person.id, last, LAPSED_REASON, job.now):
            return "already done"
        ended = []
        for registration in basic:
            if registration.status == RegistrationStatus.ACTIVE:  # a cascade may have ended it
                result = registry.end(session, registration, job.now, LAPSED_REASON)
                ended += [result.registration, *result.co_registrations_ended]
        if reachable:
            with use_locale(people.locale_of(person)):
                outbox.push(session, person.line_user_id, messages.lapsed(ended), job.now)
        return "lapsed"
    if prompted_at is None and reachable and validity.prompt_due(last, job.now, rules):
        if not claim(session, PROMPT, person.id, last, "prompted", job.now):
            return "already done"
        with use_locale(people.locale_of(person)):
            outbox.push(session, person.line_user_id,
                        messages.keep_prompt(basic, validity.lapse_at(last, job.now, rules)),
                        job.now)
        return "prompted"
    return "waiting"
