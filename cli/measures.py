"""Operators' commands for support measures (R6): `furusato measures add|list|edit|retire`.

The same rules as the admin's chat: the fixed catalogue, and no return gift in any words.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from bot.domain import support as rules
from bot.i18n import use_locale
from bot.services import entities, support_measures
from bot.store.db import database
from conversations.support.messages import refusal_text

CATEGORY_HELP = "One of: " + ", ".join(rules.CATEGORIES) + " (there is no return-gift category)."


def _entity(session, code: str):
    try:
        return entities.by_codes(session, [code])[0]
    except entities.UnknownEntity:
        raise click.ClickException(f"Unknown entity code: {code}") from None


def _refused(refusal: support_measures.MeasureRefused) -> click.ClickException:
    with use_locale("en"):
        return click.ClickException(f"Refused, nothing was changed: {refusal_text(refusal.reason)}")


def _measure(session, measure_id: int):
    measure = support_measures.by_id(session, measure_id)
    if measure is None or measure.retired_at is not None:
        raise click.ClickException(f"No current support measure with ID {measure_id}.")
    return measure


@click.group("measures", help="Support measures of an entity (R6): add, list, edit, retire.")
def measures_cli():
    pass


@measures_cli.command("add", help="Add a support measure to CODE.")
@click.argument("code")
@click.option("--title", required=True)
@click.option("--category", required=True, help=CATEGORY_HELP)
@click.option("--description", required=True)
@click.option("--how-to-use", "how_to_use", required=True)
@with_appcontext
def add(code, title, category, description, how_to_use):
    with database().transaction() as session:
        entity = _entity(session, code)
        try:
            measure = support_measures.add(session, entity, title=title, category=category,
                                           description=description, how_to_use=how_to_use,
                                           by=None, now=datetime.now(UTC))
        except support_measures.MeasureRefused as refusal:
            raise _refused(refusal) from None
        click.echo(f"Added support measure {measure.id} to {entity.name} ({entity.code}): "
                   f"{measure.title} [{measure.category}]")


@measures_cli.command("list", help="The current support measures of CODE.")
@click.argument("code")
@with_appcontext
def list_measures(code):
    with database().transaction() as session:
        entity = _entity(session, code)
        found = support_measures.of_entity(session, entity)
        if not found:
            click.echo(f"{entity.name} ({entity.code}) has no support measures.")
        for measure in found:
            click.echo(f"{measure.id}\t{measure.category}\t{measure.title}\t"
                       f"updated {measure.updated_at:%Y-%m-%d}")


@measures_cli.command("edit", help="Change fields of the support measure ID.")
@click.argument("measure_id", type=int)
@click.option("--title")
@click.option("--category", help=CATEGORY_HELP)
@click.option("--description")
@click.option("--how-to-use", "how_to_use")
@with_appcontext
def edit(measure_id, **fields):
    changes = {name: value for name, value in fields.items() if value is not None}
    if not changes:
        raise click.UsageError("Say what to change: --title, --category, --description or "
                               "--how-to-use.")
    with database().transaction() as session:
        measure = _measure(session, measure_id)
        try:
            support_measures.edit(session, measure, datetime.now(UTC), **changes)
        except support_measures.MeasureRefused as refusal:
            raise _refused(refusal) from None
        click.echo(f"Updated support measure {measure.id}: {measure.title} [{measure.category}]")


@measures_cli.command("retire", help="Retire the support measure ID: residents no longer see it.")
@click.argument("measure_id", type=int)
@with_appcontext
def retire(measure_id):
    with database().transaction() as session:
        measure = _measure(session, measure_id)
        support_measures.retire(measure, datetime.now(UTC))
        click.echo(f"Retired support measure {measure.id}: {measure.title}")
