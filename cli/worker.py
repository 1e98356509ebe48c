"""`furusato worker`: the process that sends the outgoing queue (bot/delivery/worker.py)."""

from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.delivery.worker import Worker


@click.command("worker", help="Send the queued outgoing messages (the `worker` process).")
@click.option("--once", is_flag=True, help="Send one batch, print what happened and exit.")
@click.option("--threads", type=click.IntRange(min=1), default=8, show_default=True,
              help="Messages sent at the same time.")
@click.option("--batch", type=click.IntRange(min=1), default=50, show_default=True,
              help="Messages leased at a time (shared by the threads).")
@click.option("--now", type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"]),
              help="With --once: act as if it were this moment (ISO, with offset), e.g. to "
                   "send a scheduled broadcast in a scenario file.")
@with_appcontext
def worker_command(once: bool, threads: int, batch: int, now: datetime | None) -> None:
    if now is not None and not once:
        raise click.UsageError("--now goes with --once")
    worker = Worker(current_app._get_current_object(), batch=batch, threads=threads)
    if once:
        click.echo(worker.run_once(now))
    else:
        worker.run_forever()
