"""The operators' commands of `furusato`, on Flask's click integration.

Scenario files run these (`run:` steps), so `furusato scenario` itself is added to the group
beside them, in cli/__init__.py.
"""

from __future__ import annotations

import os

import click
from flask.cli import FlaskGroup, with_appcontext

from bot.config import ConfigurationError
from bot.services import entities, registry
from bot.store import migrate
from bot.store.db import database
from cli.clock import clock_command
from cli.jobs import jobs_cli
from cli.measures import measures_cli
from cli.outbox import outbox_cli
from cli.richmenu import richmenu_cli
from cli.serving import run_demo, run_gunicorn
from cli.staff import activity_cli, staff_cli
from cli.statistics import stats_cli
from cli.worker import worker_command
from web import create_app


def _create_app():
    try:
        return create_app()
    except ConfigurationError as error:
        raise click.ClickException(str(error)) from None


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False,
             help="Operate the furusato LINE bot.")
def cli():
    pass


# db ------------------------------------------------------------------------------------------

@cli.group(help="Database schema.")
def db():
    pass


@db.command("upgrade", help="Apply all migrations.")
@with_appcontext
def db_upgrade():
    migrate.upgrade(database())
    click.echo(f"Database at revision {migrate.current(database())}.")


@db.command("revision", help="Write a new migration from the models (development).")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message):
    migrate.revision(database(), message)


# entities ------------------------------------------------------------------------------------

@cli.group("entities", help="Municipalities and prefectures (registration targets).")
def entities_group():
    pass


@entities_group.command("load", help="Load the shipped list of 47 prefectures and 1,741 municipalities.")
@with_appcontext
def entities_load():
    with database().transaction() as session:
        inserted, updated = entities.load(session)
        counts = entities.count(session)
    click.echo(f"{inserted} added, {updated} updated: {counts.get('prefecture', 0)} prefectures, "
               f"{counts.get('municipality', 0)} municipalities.")


def _set_participation(codes, participating: bool):
    try:
        with database().transaction() as session:
            changed = entities.set_participation(session, codes, participating)
            for entity in changed:
                state = "participates" if participating else "does not participate"
                click.echo(f"{entity.code} {entity.name} {state}.")
    except entities.UnknownEntity as error:
        raise click.ClickException(
            "Unknown entity code(s): " + ", ".join(error.codes)
            + ". Codes are the 6-digit local government codes (e.g. 011002 for 札幌市); "
              "run `furusato entities load` first if the list is empty.") from None


@entities_group.command("join", help="Make entities participate (R1).")
@click.argument("codes", nargs=-1, required=True)
@with_appcontext
def entities_join(codes):
    _set_participation(codes, True)


@entities_group.command("leave", help="Stop entities participating (R1).")
@click.argument("codes", nargs=-1, required=True)
@with_appcontext
def entities_leave(codes):
    _set_participation(codes, False)


@entities_group.command("set", help="Change an entity's settings.")
@click.argument("code")
@click.option("--community-url", help="The community room (e.g. a LINE OpenChat link, https://…).")
@click.option("--no-community", is_flag=True, help="Remove the community room link.")
@click.option("--community-for", type=click.Choice(["everyone", "premium"]),
              help="Who sees the community room: every registrant, or premium ones (R11).")
@click.option("--required-activities", type=click.IntRange(1, 50),
              help="Designated activities needed for premium in 12 months (R4).")
@click.option("--renewal-mode", type=click.Choice(["auto", "manual"]), help="R8")
@with_appcontext
def entities_set(code, community_url, no_community, community_for, required_activities,
                 renewal_mode):
    if community_url and not community_url.startswith("https://"):
        raise click.BadParameter("must start with https://", param_hint="--community-url")
    try:
        with database().transaction() as session:
            entity = entities.by_codes(session, [code])[0]
            if community_url or no_community:
                entity.community_url = None if no_community else community_url
            if community_for:
                entity.community_premium_only = community_for == "premium"
            if required_activities:
                entity.required_activities = required_activities
            if renewal_mode:
                entity.renewal_mode = renewal_mode
            click.echo(f"{entity.code} {entity.name} updated.")
    except entities.UnknownEntity as error:
        raise click.ClickException("Unknown entity code(s): " + ", ".join(error.codes)) from None


@entities_group.command("show", help="Show entities and their settings.")
@click.argument("codes", nargs=-1, required=True)
@with_appcontext
def entities_show(codes):
    try:
        with database().transaction() as session:
            for entity in entities.by_codes(session, codes):
                prefecture = entities.prefecture_of(session, entity)
                counts = registry.active_counts(session, entity)
                click.echo(f"{entity.code} {entity.name} ({entity.kana})")
                click.echo(f"  kind: {entity.kind}" + ("" if entity.is_prefecture
                                                       else f", prefecture: {prefecture.name}"))
                click.echo(f"  participating: {'yes' if entity.participating else 'no'}")
                click.echo(f"  required activities for premium: {entity.required_activities}")
                click.echo(f"  renewal mode: {entity.renewal_mode}")
                who = "premium registrants" if entity.community_premium_only else "all registrants"
                click.echo(f"  community room: {entity.community_url or '-'}"
                           + (f" (for {who})" if entity.community_url else ""))
                click.echo(f"  site: {entity.site_url or '-'}")
                click.echo("  registrations: " + ", ".join(
                    f"{kind} {counts.get(kind, 0)}" for kind in ("basic", "premium")))
    except entities.UnknownEntity as error:
        raise click.ClickException("Unknown entity code(s): " + ", ".join(error.codes)) from None


# serve and demo ------------------------------------------------------------------------------

#: What `furusato demo` makes participate: two same-name pairs (府中市, 伊達市) and their
#: prefectures, a small town, big cities, and one prefecture whose towns do not take part.
DEMO_PARTICIPANTS = (
    "363421", "360007",                      # 神山町, 徳島県
    "132063", "131016", "130001",            # 府中市, 千代田区, 東京都
    "342084", "340006",                      # 府中市（広島県）, 広島県
    "011002", "012335", "010006",            # 札幌市, 伊達市（北海道）, 北海道
    "072133",                                # 伊達市（福島県）; 福島県 itself does not take part
    "401307", "400009", "472018", "470007",  # 福岡市, 福岡県, 那覇市, 沖縄県
    "373249",                                # 小豆島町; 香川県 does not take part
)


@cli.command("serve", with_appcontext=False,
             help="Run the web process under gunicorn (production).")
@click.option("--bind", default=None, help="Address to listen on (default 0.0.0.0:$PORT or :8000).")
@click.option("--workers", type=int, default=None, help="Worker processes (default $WEB_CONCURRENCY or 4).")
def serve(bind, workers):
    run_gunicorn(bind or f"0.0.0.0:{os.environ.get('PORT', '8000')}",
                 workers or int(os.environ.get("WEB_CONCURRENCY", "4")))


@cli.command("demo", with_appcontext=False,
             help="Run everything on this machine: SQLite, the local LINE platform, the chat simulator.")
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--database-url", default="sqlite:///furusato-demo.sqlite3", show_default=True)
def demo(port, database_url):
    run_demo(port, database_url, DEMO_PARTICIPANTS)


for command in (richmenu_cli, staff_cli, activity_cli, worker_command, stats_cli, measures_cli,
                jobs_cli, clock_command, outbox_cli):
    cli.add_command(command)
