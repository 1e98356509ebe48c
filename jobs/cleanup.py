"""Clean-up: what nobody needs any more, deleted page by page.

- conversation states nobody touched for two weeks (their buttons then answer "no longer
  valid", as after a cancel);
- what a verification holds for the chat's code (one LINE did not vouch for), once its ten
  minutes are over (the card's items must not outlive their use);
- identity-verification tickets and attempts a day after they expired (used or not: a used
  one is refused for its use before that);
- staff invitations 30 days after they expired (until then a late try hears "expired");
- processed webhook event IDs after 7 days (LINE redelivers within a much shorter time);
- the record of a used single-use link once the link has expired anyway;
- what sent or failed outgoing messages said, and to whom, after `OUTBOX_RETENTION_DAYS`
  (30): the queue is not an archive; the rows and their counts stay for staff's figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.delivery import outbox
from bot.identity import confirmation
from bot.identity.flow import EXPIRED
from bot.store.models import (
    Person,
    ProcessedEvent,
    StaffInvitation,
    UsedLink,
    VerificationAttempt,
    VerificationTicket,
)
from jobs.framework import JobRun, lock_people, pages

STALE_CONVERSATION = timedelta(days=14)
VERIFICATION_KEPT = timedelta(days=1)
INVITATION_KEPT = timedelta(days=30)
PROCESSED_EVENT_KEPT = timedelta(days=7)
DEFAULT_OUTBOX_RETENTION_DAYS = 30


def run(job: JobRun) -> None:
    _conversation_states(job, job.now - STALE_CONVERSATION)
    _unconfirmed_verifications(job)
    _rows(job, "verification tickets", VerificationTicket.id, VerificationTicket.expires_at,
          job.now - VERIFICATION_KEPT)
    _rows(job, "verification attempts", VerificationAttempt.id, VerificationAttempt.expires_at,
          job.now - VERIFICATION_KEPT)
    _rows(job, "staff invitations", StaffInvitation.id, StaffInvitation.expires_at,
          job.now - INVITATION_KEPT)
    _rows(job, "webhook event IDs", ProcessedEvent.webhook_event_id, ProcessedEvent.processed_at,
          job.now - PROCESSED_EVENT_KEPT)
    _rows(job, "used links", UsedLink.nonce, UsedLink.expires_at, job.now)
    _outgoing_messages(job, job.now - timedelta(days=float(
        job.config.get("OUTBOX_RETENTION_DAYS", DEFAULT_OUTBOX_RETENTION_DAYS))))


def _rows(job: JobRun, what: str, key, moment, before: datetime) -> None:
    """Delete rows whose `moment` is before `before`, one keyset page at a time."""
    table = key.class_

    def fetch(session: Session, after, limit: int) -> Sequence:
        query = select(key).where(moment < before).order_by(key).limit(limit)
        return session.scalars(query if after is None else query.where(key > after)).all()

    def handle(session: Session, keys: Sequence) -> None:
        deleted = session.execute(delete(table).where(key.in_(keys), moment < before))
        job.summary.add(f"{what} deleted", deleted.rowcount)

    pages(job, fetch, handle, cursor=lambda last: last, start=None)


def _conversation_states(job: JobRun, before: datetime) -> None:
    """The person's row is locked first, as a webhook event does before it reads the state."""
    def fetch(session: Session, after: int, limit: int) -> Sequence[int]:
        return session.scalars(select(Person.id)
                               .where(Person.id > after, Person.conversation.is_not(None),
                                      Person.conversation_at < before)
                               .order_by(Person.id).limit(limit)).all()

    def handle(session: Session, person_ids: Sequence[int]) -> None:
        lock_people(session, person_ids)
        ended = session.execute(
            update(Person).where(Person.id.in_(person_ids), Person.conversation.is_not(None),
                                 Person.conversation_at < before)
            .values(conversation=None, conversation_token=None, conversation_data=None,
                    conversation_at=None)
            .execution_options(synchronize_session=False))
        job.summary.add("stale conversations ended", ended.rowcount)

    pages(job, fetch, handle, cursor=lambda person_id: person_id)


def _unconfirmed_verifications(job: JobRun) -> None:
    """Held results nobody confirmed in time: dropped, the attempt marked expired."""
    attempt = VerificationAttempt

    def fetch(session: Session, after: int, limit: int) -> Sequence[int]:
        return session.scalars(select(attempt.id).where(
            attempt.id > after, attempt.outcome == confirmation.AWAITING,
            attempt.confirm_by < job.now).order_by(attempt.id).limit(limit)).all()

    def handle(session: Session, ids: Sequence[int]) -> None:
        dropped = session.execute(
            update(attempt).where(attempt.id.in_(ids), attempt.outcome == confirmation.AWAITING)
            .values(outcome=EXPIRED, pending_result=None, confirmation_digest=None))
        job.summary.add("unconfirmed verifications dropped", dropped.rowcount)

    pages(job, fetch, handle, cursor=lambda attempt_id: attempt_id)


def _outgoing_messages(job: JobRun, before: datetime) -> None:
    def fetch(session: Session, after: int | None, limit: int) -> Sequence[int]:
        return outbox.purgeable(session, before, after, limit)

    def handle(session: Session, ids: Sequence[int]) -> None:
        job.summary.add("outgoing messages purged", outbox.purge(session, ids, job.now))

    pages(job, fetch, handle, cursor=lambda message_id: message_id, start=None)
