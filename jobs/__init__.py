"""The scheduled jobs (issue #6): what the `clock` process runs, and `furusato jobs run` by hand.

Every job takes `now`, works page by page (keyset pagination, flat memory), and is idempotent
and resumable: a second run, a resumed one or a second clock at the same time sends nothing
twice and changes nothing twice (per-item marks, jobs/framework.py).
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask

from bot.store.db import database
from jobs import cleanup, expiry, inactivity, reminders
from jobs.collector import app_objects_frozen
from jobs.framework import Job, JobRun, Summary

JOBS: dict[str, Job] = {job.name: job for job in (
    Job("premium-expiry",
        "Judge premium registrations whose year is over: renew, revert to basic or queue "
        "for staff (R8).", expiry.run, {"hour": 9, "minute": 0}),
    Job("premium-reminders",
        "Remind premium registrants 30 and 7 days before expiry, with their progress (R8).",
        reminders.run, {"hour": 10, "minute": 0}),
    Job("inactivity",
        "Ask inactive basic registrants whether to keep their registration, and lapse it "
        "after the period without access (R8).", inactivity.run, {"hour": 11, "minute": 0}),
    Job("cleanup",
        "Delete stale conversation states, unconfirmed verification results, expired "
        "verification tickets and attempts, expired staff invitations and old webhook event "
        "IDs.", cleanup.run,
        {"minute": 17}, daytime_only=False),
)}


class UnknownJob(KeyError):
    pass


def run_job(app: Flask, name: str, now: datetime, *, dry_run: bool = False,
            batch: int | None = None) -> Summary:
    """Run one job at `now` (aware). The app context lets builders read the configuration."""
    if name not in JOBS:
        raise UnknownJob(name)
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    summary = Summary(name, dry_run)
    with app.app_context(), app_objects_frozen():
        JOBS[name].run(JobRun(database(app), app.config, now, summary, dry_run, batch))
    return summary
