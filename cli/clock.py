"""`furusato clock`: the process that runs the scheduled jobs (jobs/clock.py)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from jobs.clock import Clock


@click.command("clock", help="Run the scheduled jobs (the `clock` process); one is active "
                            "at a time, others wait.")
@click.option("--heartbeat", type=click.FloatRange(1, 600), default=30, show_default=True,
              help="Seconds between checks of the lock (a standby takes over within 3×).")
@click.option("--no-catch-up", is_flag=True, help="Do not run every job once on becoming active.")
@with_appcontext
def clock_command(heartbeat: float, no_catch_up: bool) -> None:
    Clock(current_app._get_current_object(), heartbeat=heartbeat,
          catch_up=not no_catch_up).run_forever()
