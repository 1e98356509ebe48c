"""Operators' command for statistics (R15): `furusato stats CODE [--csv FILE]`."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from bot.i18n import LOCALES, SOURCE_LOCALE, use_locale
from bot.services import entities
from bot.services.statistics import EntityStatistics, entity_statistics, rows, statistics_csv
from bot.store.db import database


def plain_text(stats: EntityStatistics) -> str:
    """The figures as the CSV has them, a heading per section, in the current locale."""
    lines: list[str] = []
    section = None
    for row in rows(stats):
        if row.section != section:
            lines += [""] if lines else []
            lines.append(row.section)
            section = row.section
        lines.append(f"  {row.label}: {row.value}")
    return "\n".join(lines)


@click.command("stats", help="Statistics of the entity CODE (R15), own residents excluded.")
@click.argument("code")
@click.option("--csv", "csv_file", type=click.File("wb"),
              help="Write the CSV (UTF-8 with BOM, CRLF: opens in Excel) to FILE; - for stdout.")
@click.option("--lang", type=click.Choice(LOCALES), default=SOURCE_LOCALE, show_default=True,
              help="Language of the labels.")
@with_appcontext
def stats_cli(code, csv_file, lang):
    with database().transaction() as session:
        entity = entities.by_code(session, code.strip())
        if entity is None:
            raise click.ClickException(f"Unknown entity code: {code}")
        stats = entity_statistics(session, entity, datetime.now(UTC))
    if csv_file is not None:
        csv_file.write(statistics_csv(stats, lang))
        return
    with use_locale(lang):
        click.echo(plain_text(stats))
