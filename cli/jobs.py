"""`furusato jobs list` and `furusato jobs run NAME [--now ISO] [--dry-run]`."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.config import ConfigurationError
from jobs import JOBS, run_job
from jobs.expiry import DRY_BATCH
from jobs.framework import DEFAULT_BATCH


def _moment(_ctx, _param, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date and time, "
                                 "e.g. 2027-06-01T09:00:00+09:00") from None
    if moment.tzinfo is None:
        raise click.BadParameter("give the offset too, e.g. 2027-06-01T09:00:00+09:00 "
                                 "(Japan) or …Z (UTC)")
    return moment


@click.group("jobs", help="The clock's scheduled jobs, run by hand (docs/operations.md).")
def jobs_cli():
    pass


@jobs_cli.command("list", help="Name, schedule (Japan time) and purpose of every job.")
def jobs_list():
    for job in JOBS.values():
        when = ", ".join(f"{k}={v}" for k, v in job.schedule.items())
        click.echo(f"{job.name:<18} {when:<18} {job.help}")


@jobs_cli.command("run", help="Run one job now (or as if at --now) and print what it did.")
@click.argument("name", type=click.Choice(list(JOBS)))
@click.option("--now", callback=_moment, metavar="ISO",
              help="Act as if it were this moment, with an offset: 2027-06-01T09:00:00+09:00.")
@click.option("--dry-run", is_flag=True, help="Change and send nothing; print what it would do.")
@click.option("--batch", type=click.IntRange(1, 10_000),
              help=f"Items per page (and per transaction); {DEFAULT_BATCH} unless a job says"
                   f" otherwise (a dry run of premium-expiry: {DRY_BATCH:,}).")
@with_appcontext
def jobs_run(name: str, now: datetime | None, dry_run: bool, batch: int | None):
    try:
        summary = run_job(current_app._get_current_object(), name, now or datetime.now(UTC),
                          dry_run=dry_run, batch=batch)
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from None
    click.echo(str(summary))
