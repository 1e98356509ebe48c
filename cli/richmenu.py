"""`furusato richmenu deploy` and `furusato richmenu image OUT [--menu residents|staff]`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from bot import line
from bot.line.richmenu import HEIGHT, MENUS, WIDTH, deploy, menu_image
from bot.store.db import database
from bot.store.models import Person, Staff


def staff_user_ids() -> list[str]:
    """The LINE user IDs of everyone who is staff somewhere now."""
    with database().transaction() as session:
        return list(session.scalars(
            select(Person.line_user_id).distinct().join(Staff, Staff.person_id == Person.id)
            .where(Staff.removed_at.is_(None), Person.line_user_id.is_not(None))))


@click.group("richmenu", help="The residents' and the staff's rich menus.")
def richmenu_cli():
    pass


@richmenu_cli.command("deploy", help="Create both menus, make the residents' the default, "
                                     "link staff to theirs, remove older ones.")
@with_appcontext
def deploy_command():
    gateway = line.gateway(current_app)
    staff = staff_user_ids()
    deployed = deploy(gateway, staff)
    click.echo(f"Rich menu {deployed.residents} is the default at {gateway.host}.")
    click.echo(f"Staff menu {deployed.staff} is linked to {len(staff)} staff.")


@richmenu_cli.command("image", help="Write a menu image to OUT (a PNG), to look at it.")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--menu", "which", type=click.Choice(sorted(MENUS)), default="residents",
              show_default=True)
def image_command(out: Path, which: str):
    out.write_bytes(menu_image(MENUS[which]))
    click.echo(f"Wrote {out} ({WIDTH}×{HEIGHT}).")
