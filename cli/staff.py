"""Operators' commands for staff and activities: `furusato staff …`, `furusato activity …`."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

from bot import line
from bot.domain import calendar
from bot.line import richmenu
from bot.services import activities, entities, staff
from bot.store.db import database
from bot.store.models import ActivityCategory, ActivityStatus, StaffRole


def _entity(session, code: str):
    try:
        return entities.by_codes(session, [code])[0]
    except entities.UnknownEntity:
        raise click.ClickException(f"Unknown entity code: {code}") from None


# staff ---------------------------------------------------------------------------------------

@click.group("staff", help="Municipality staff: invitations and who acts for an entity.")
def staff_cli():
    pass


@staff_cli.command("invite", help="Print a one-time invitation for a staff member of CODE.")
@click.argument("code")
@click.option("--role", type=click.Choice([r.value for r in StaffRole]), default="staff",
              show_default=True)
@click.option("--valid-hours", type=click.IntRange(1, 24 * 14), default=72, show_default=True)
@with_appcontext
def invite(code, role, valid_hours):
    now = datetime.now(UTC)
    with database().transaction() as session:
        entity = _entity(session, code)
        invitation = staff.invite(session, entity, role, now, timedelta(hours=valid_hours))
    click.echo(f"Invitation for {entity.name} ({entity.code}), role {role}, "
               f"valid until {invitation.expires_at.astimezone(calendar.JST):%Y-%m-%d %H:%M} JST.")
    click.echo("The staff member sends this line to the bot from their own LINE (once):")
    click.echo(f"  {invitation.message}")


@staff_cli.command("list", help="The staff of CODE.")
@click.argument("code")
@with_appcontext
def list_staff(code):
    with database().transaction() as session:
        entity = _entity(session, code)
        found = staff.members(session, entity)
        if not found:
            click.echo(f"{entity.name} ({entity.code}) has no staff.")
        for member in found:
            click.echo(f"{member.id}\t{member.role}\t{member.person.display_name or '-'}\t"
                       f"{member.person.line_user_id}\tsince {member.created_at:%Y-%m-%d}")


@staff_cli.command("remove", help="Remove staff from CODE by their staff ID or LINE user ID.")
@click.argument("code")
@click.argument("who", nargs=-1, required=True)
@with_appcontext
def remove(code, who):
    now = datetime.now(UTC)
    no_longer_staff = []
    with database().transaction() as session:
        entity = _entity(session, code)
        members = staff.members(session, entity)
        for name in who:
            member = next((m for m in members
                           if str(m.id) == name or m.person.line_user_id == name), None)
            if member is None:
                raise click.ClickException(f"{name} is not staff of {entity.name} ({code}); "
                                           "nothing was changed.")
            staff.remove(session, member, now)
            session.flush()
            if not staff.roles_of(session, member.person) and member.person.line_user_id:
                no_longer_staff.append((member.id, member.person.line_user_id))
            click.echo(f"Removed {member.person.display_name or member.person.line_user_id} "
                       f"from {entity.name}.")
    gateway = line.gateway(current_app)
    for staff_id, user_id in no_longer_staff:  # after the commit: the residents' menu again
        try:
            richmenu.unlink_staff_menu(gateway, user_id)
        except line.FAILURES as error:
            click.echo(f"The removal is kept, but LINE did not take the menu change for "
                       f"staff ID {staff_id} ({line.failure(error)}): they still see the staff menu, "
                       f"whose commands now answer that they are not staff. "
                       f"`furusato richmenu deploy` sets every menu again.", err=True)


# activities ----------------------------------------------------------------------------------

@click.group("activity", help="Helper activities: create in bulk, list.")
def activity_cli():
    pass


def _windows(days, start, end):
    windows = []
    for day in days:
        starts_at = calendar.japan_time(day, start)
        ends_at = calendar.japan_time(day, end)
        if ends_at <= starts_at:
            raise click.BadParameter("the end must be after the start", param_hint="--end")
        windows.append((starts_at, ends_at))
    return windows


@activity_cli.command("create", help="Create an activity of CODE with one or more dates.")
@click.argument("code")
@click.option("--title", required=True)
@click.option("--category", type=click.Choice([c.value for c in ActivityCategory]), required=True)
@click.option("--designated/--not-designated", default=True, show_default=True,
              help="Whether it counts toward premium (R4).")
@click.option("--place", required=True)
@click.option("--date", "days", type=click.DateTime(["%Y-%m-%d"]), multiple=True, required=True)
@click.option("--start", type=click.DateTime(["%H:%M"]), required=True, help="Japan time")
@click.option("--end", type=click.DateTime(["%H:%M"]), required=True, help="Japan time")
@click.option("--rotating", is_flag=True, help="A code that renews every 30 s on a screen.")
@with_appcontext
def create(code, title, category, designated, place, days, start, end, rotating):
    now = datetime.now(UTC)
    with database().transaction() as session:
        entity = _entity(session, code)
        activity = activities.create(
            session, entity, title=title, category=category, designated=designated,
            place=place, windows=_windows([d.date() for d in days], start.time(), end.time()),
            now=now, rotate_seconds=30 if rotating else None)
        click.echo(f"Activity {activity.id} 「{title}」 at {entity.name}: "
                   f"{len(activity.sessions)} session(s).")


@activity_cli.command("import", help="Create activities from a CSV file (columns in docs/operations.md).")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_csv(path):
    """Columns: code,title,category,designated,place,date,start,end (one row per session)."""
    now = datetime.now(UTC)
    grouped: dict[tuple, list] = {}
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            try:
                key = (row["code"].strip(), row["title"].strip(), row["category"].strip(),
                       row["designated"].strip().lower() in ("1", "yes", "true", "はい"),
                       row["place"].strip())
                day = date.fromisoformat(row["date"].strip())
                start = datetime.strptime(row["start"].strip(), "%H:%M").time()
                end = datetime.strptime(row["end"].strip(), "%H:%M").time()
            except (KeyError, ValueError, AttributeError) as error:
                raise click.ClickException(f"{path}, line {number}: {error}; nothing was created.")
            if key[2] not in set(ActivityCategory):
                raise click.ClickException(f"{path}, line {number}: unknown category {key[2]!r}; "
                                           "nothing was created.")
            grouped.setdefault(key, []).extend(_windows([day], start, end))
    with database().transaction() as session:
        for (code, title, category, designated, place), windows in grouped.items():
            entity = _entity(session, code)
            activity = activities.create(session, entity, title=title, category=category,
                                         designated=designated, place=place, windows=windows,
                                         now=now)
            click.echo(f"Activity {activity.id} 「{title}」 at {entity.name}: "
                       f"{len(windows)} session(s).")


@activity_cli.command("list", help="The activities of CODE, with check-ins per session.")
@click.argument("code")
@click.option("--all", "include_finished", is_flag=True, help="Also closed and cancelled ones.")
@with_appcontext
def list_activities(code, include_finished):
    with database().transaction() as session:
        entity = _entity(session, code)
        for activity in activities.of_entity(session, entity, include_finished):
            counts = activities.participants(session, activity)
            click.echo(f"{activity.id}\t{activity.status}\t{activity.title}\t{activity.category}\t"
                       f"{'designated' if activity.designated else 'not designated'}")
            for s in activity.sessions:
                click.echo(f"\t{s.starts_at.astimezone(calendar.JST):%Y-%m-%d %H:%M}–"
                           f"{s.ends_at.astimezone(calendar.JST):%H:%M}\t"
                           f"{counts.get(s.id, 0)} check-in(s)")


def _finish(code: str, activity_id: int, status: str) -> None:
    with database().transaction() as session:
        entity = _entity(session, code)
        activity = activities.find(session, entity, activity_id)
        if activity is None:
            raise click.ClickException(f"{entity.name} ({code}) has no activity {activity_id}.")
        if activity.status != ActivityStatus.OPEN:
            raise click.ClickException(f"Activity {activity_id} is already {activity.status}.")
        activities.finish(activity, status)
        click.echo(f"Activity {activity_id} 「{activity.title}」 is now {status}.")


@activity_cli.command("close", help="Stop check-ins for an activity of CODE; records stay.")
@click.argument("code")
@click.argument("activity_id", type=int)
@with_appcontext
def close(code, activity_id):
    _finish(code, activity_id, ActivityStatus.CLOSED)


@activity_cli.command("cancel", help="Cancel an activity of CODE: it no longer counts (R4).")
@click.argument("code")
@click.argument("activity_id", type=int)
@with_appcontext
def cancel(code, activity_id):
    _finish(code, activity_id, ActivityStatus.CANCELLED)
