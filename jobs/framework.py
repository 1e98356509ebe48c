"""What every scheduled job shares: a run at a given `now`, dry or not, its summary, per-item
marks, keyset pages and the order in which rows are locked.

A job works page by page, each page in a transaction of its own, so a run that stops half way
(a crash, a deploy) has committed whole pages and nothing else. Items are marked in
`job_mark` in the same transaction as their change and their outbox message: a second run, a
resumed one or a second clock finds the mark and leaves the item alone.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, and_, any_, bindparam, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from bot.store.db import Database
from bot.store.models import JobMark, Person

#: Items per page (and per transaction): small enough that a page's row locks are brief.
DEFAULT_BATCH = 500
#: Pages a read-only run works on at once, each on a connection of its own: the database
#: computes one while Python reads the rows of another.
READ_AHEAD = 2


@dataclass
class Summary:
    """What a run did (or, dry, would do): counts by outcome."""

    job: str
    dry_run: bool = False
    counts: Counter = field(default_factory=Counter)

    def add(self, outcome: str, n: int = 1) -> None:
        self.counts[outcome] += n

    def __str__(self) -> str:
        done = ", ".join(f"{outcome} {n}" for outcome, n in sorted(self.counts.items())) \
            or "nothing to do"
        return f"{self.job}: {done}" + (" (dry run: nothing was changed or sent)"
                                        if self.dry_run else "")


@dataclass
class JobRun:
    """One run of one job: the database, the configuration, the moment it acts at."""

    db: Database
    config: Mapping[str, Any]
    now: datetime
    summary: Summary
    dry_run: bool = False
    #: Items per page; None: the job's own default (DEFAULT_BATCH unless it says otherwise).
    batch: int | None = None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Commits — or, in a dry run, rolls back: the run sees exactly what it would do."""
        if not self.dry_run:
            with self.db.transaction() as session:
                yield session
            return
        with self.db.sessions() as session:
            session.begin()
            try:
                yield session
            finally:
                session.rollback()


@dataclass(frozen=True)
class Job:
    name: str
    help: str
    run: Callable[[JobRun], None]
    #: APScheduler cron fields, in Japan time.
    schedule: Mapping[str, Any]
    #: Sends messages to people: the clock does not start it at night.
    daytime_only: bool = True


# Keyset pages ----------------------------------------------------------------------------------

def pages(run: JobRun, fetch: Callable[[Session, Any, int], Sequence[Any]],
          handle: Callable[[Session, Sequence[Any]], None],
          cursor: Callable[[Any], Any], start: Any = 0) -> None:
    """`fetch` a page after the cursor, `handle` it, commit; until a page comes back empty.

    Memory holds one page whatever the size of the set (keyset pagination, no OFFSET).
    """
    after = start
    while True:
        with run.transaction() as session:
            rows = fetch(session, after, run.batch or DEFAULT_BATCH)
            if not rows:
                return
            handle(session, rows)
        after = cursor(rows[-1])


def pages_read_ahead(run: JobRun, fetch: Callable[[Session, Any, int], Sequence[Any]],
                     work: Callable[[Session, Any, Sequence[Any]], Any],
                     handle: Callable[[Any], None], cursor: Callable[[Any], Any],
                     start: Any = 0) -> None:
    """For runs that only read (dry runs): `fetch` a page of keys after the cursor, `work` on
    it in a transaction of its own on another thread while the next pages are fetched and
    worked on, then `handle` the results in page order.

    `work(session, after, keys)` gets the cursor the page started after and its keys. Memory
    holds READ_AHEAD pages whatever the size of the set.
    """
    def work_alone(after, keys):
        with run.transaction() as session:
            return work(session, after, keys)

    after = start
    with ThreadPoolExecutor(READ_AHEAD, thread_name_prefix=f"{run.summary.job}-page") as pool:
        in_flight = deque()
        while True:
            with run.transaction() as session:
                keys = fetch(session, after, run.batch or DEFAULT_BATCH)
            if keys:
                in_flight.append(pool.submit(work_alone, after, keys))
                after = cursor(keys[-1])
            while in_flight and (not keys or len(in_flight) >= READ_AHEAD):
                handle(in_flight.popleft().result())
            if not keys:
                return


def lock_people(session: Session, person_ids: Sequence[int]) -> None:
    """Lock the people a page touches, in ID order, as a webhook event locks its person.

    Always person first, then their rows: the order the webhook handler takes, so a job and
    an event never wait for each other in a circle. (SQLite's BEGIN IMMEDIATE already holds
    the whole database.)
    """
    if person_ids and session.get_bind().dialect.name == "postgresql":
        session.execute(select(Person.id).where(one_of(session, Person.id, sorted(set(person_ids))))
                        .order_by(Person.id).with_for_update())


def one_of(session: Session, column, ids: Iterable[int]):
    """`column = ANY(:ids)`: one array parameter on PostgreSQL, whatever the page size (one
    cached plan, no list of a thousand binds); `IN (…)` on SQLite."""
    ids = list(ids)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, ids, type_=ARRAY(Integer), unique=True))
    return column.in_(ids)


# Marks -----------------------------------------------------------------------------------------

def claim(session: Session, job: str, subject_id: int, subject_at: datetime, outcome: str,
          now: datetime) -> bool:
    """Mark the item done in this transaction; False if it already was.

    On PostgreSQL a second run inserting the same mark waits for the first one's transaction
    and then finds the row, so exactly one of them acts.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.scalar(
        dialect.insert(JobMark)
        .values(job=job, subject_id=subject_id, subject_at=subject_at, outcome=outcome,
                done_at=now)
        .on_conflict_do_nothing(index_elements=[JobMark.job, JobMark.subject_id,
                                                JobMark.subject_at])
        .returning(JobMark.id))
    return inserted is not None


def marked(job: str, subject_id, subject_at):
    """SQL: the item has a mark of this job (for `WHERE NOT …` in candidate queries)."""
    return exists().where(and_(JobMark.job == job, JobMark.subject_id == subject_id,
                               JobMark.subject_at == subject_at))


def mark_time(session: Session, job: str, subject_id: int, subject_at: datetime) -> datetime | None:
    return session.scalar(select(JobMark.done_at).where(
        JobMark.job == job, JobMark.subject_id == subject_id, JobMark.subject_at == subject_at))
