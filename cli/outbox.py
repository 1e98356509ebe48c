"""`furusato outbox status`: the outgoing queue as an operator needs to see it."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from bot.delivery import outbox
from bot.domain.calendar import JST
from bot.store.db import database
from bot.store.models import OutboxPauseReason


@click.group("outbox", help="The outgoing queue (messages that are not replies).")
def outbox_cli():
    pass


@outbox_cli.command("status", help="What is waiting, being sent, sent and failed (by reason), "
                                   "and whether sending is paused.")
@with_appcontext
def outbox_status() -> None:
    now = datetime.now(UTC)
    with database().transaction() as session:
        status = outbox.queue_status(session, now)
    click.echo(describe(status, now))
    if status.pause is not None and status.pause.reason == OutboxPauseReason.UNAUTHORIZED:
        raise SystemExit(2)  # a monitor can tell: sending stopped until someone acts


def describe(status: outbox.QueueStatus, now: datetime) -> str:
    def tally(name: str, counted: outbox.Tally) -> str:
        return f"{name:<10} {counted.messages:>9} messages {counted.people:>11} people"

    lines = [tally("due", status.due), tally("waiting", status.waiting),
             tally("sending", status.sending), tally("sent", status.sent)]
    for failure, counted in sorted(status.failed.items()):
        lines.append(tally(f"failed: {failure}", counted))
    if not status.failed:
        lines.append(tally("failed", outbox.Tally()))
    if status.oldest_due is not None:
        age = now - status.oldest_due
        lines.append(f"oldest message still to send: queued {_seconds(age.total_seconds())} ago "
                     f"({_japan(status.oldest_due)})")
    pause = status.pause
    if pause is None:
        lines.append("sending: running")
    elif pause.reason == OutboxPauseReason.UNAUTHORIZED:
        lines.append(f"sending: PAUSED since {_japan(pause.since)}: LINE refuses the channel "
                     f"access token ({(pause.detail or '').strip()}). Check "
                     f"LINE_CHANNEL_ACCESS_TOKEN; one message tries it again every few "
                     f"seconds and sending resumes by itself.")
    else:
        lines.append(f"sending: paused until {_japan(pause.resume_at)}: LINE asked us to slow "
                     f"down ({(pause.detail or '').strip()})")
    return "\n".join(lines)


def _japan(moment: datetime) -> str:
    return moment.astimezone(JST).strftime("%Y-%m-%d %H:%M:%S JST")


def _seconds(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
