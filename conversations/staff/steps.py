"""Staff steps. Every one that touches an entity asks `staff.role_at` first (SPEC §5)."""

from __future__ import annotations

from datetime import date, datetime

from bot.codes import links
from bot.line import richmenu
from bot.services import activities, downloads, staff, statistics
from bot.services.activities import JST
from bot.store.models import ActivityCategory, ActivityStatus, Entity, Staff
from conversations.common import text
from conversations.engine import Context, Step, Text, Turn
from conversations.staff import messages
from conversations.staff.parse import parse_date, parse_time
from conversations.staff.roles import acting
from conversations.staff.states import (
    Category,
    CodeKind,
    ConfirmFinish,
    Create,
    Designated,
    Finish,
    ForEntity,
    KeepOpen,
    MoreDays,
    PickDay,
    PickTime,
    ShowCodes,
    Staffing,
)

MAX_TITLE = 60
MAX_PLACE = 100
MAX_SESSIONS = 10
ROTATE_SECONDS = 30


# Enrolment -----------------------------------------------------------------------------------

def on_invitation(ctx: Context, code: str) -> Step:
    outcome = staff.redeem(ctx.session, code, ctx.person, ctx.now)
    if not isinstance(outcome, Staff):
        return Step(messages.invitation_refused(outcome.value))
    user_id = ctx.person.line_user_id
    return Step(messages.enrolled(outcome),
                after=[lambda gateway: richmenu.link_staff_menu(gateway, user_id)])


# Which entity --------------------------------------------------------------------------------

def _acting(ctx: Context, action: str, code: str | None = None) -> Staff | Step:
    return acting(ctx, code, lambda roles: messages.choose_entity(roles, action))


def new_activity(ctx: Context, code: str | None = None) -> Step:
    role = _acting(ctx, "new", code)
    if isinstance(role, Step):
        return role
    ctx.restart()
    return Step(messages.ask_title(role.entity), next=Staffing.TITLE,
                data={"entity": role.entity.code, "windows": []})


def activity_list(ctx: Context, code: str | None = None) -> Step:
    role = _acting(ctx, "list", code)
    if isinstance(role, Step):
        return role
    found = activities.of_entity(ctx.session, role.entity)
    counts = {a.id: activities.participants(ctx.session, a) for a in found}
    return Step(messages.activity_list(role.entity, found, counts))


def figures(ctx: Context, code: str | None = None) -> Step:
    """The entity's statistics (R15) and a CSV link that only this staff member can use."""

    role = _acting(ctx, "stats", code)
    if isinstance(role, Step):
        return role
    entity = role.entity
    link = downloads.download_url(ctx.config, "statistics", entity.code, person_id=ctx.person.id)
    return Step(messages.figures(entity, statistics.entity_statistics(ctx.session, entity, ctx.now),
                                 link))


ACTIONS = {"new": new_activity, "list": activity_list, "stats": figures}


def on_for_entity(ctx: Context, postback: ForEntity) -> Step:
    action = ACTIONS.get(postback.a)
    if action is None:
        return Step(messages.staff_only())
    return action(ctx, postback.code)


# Creating an activity ------------------------------------------------------------------------

def _entity(ctx: Context) -> Entity | None:
    """The draft's entity, while the person is still its staff."""
    role = staff.role_at(ctx.session, ctx.person, ctx.data.get("entity", ""))
    return role.entity if role else None


def _today(ctx: Context) -> date:
    return ctx.now.astimezone(JST).date()


def on_title(ctx: Context, turn: Turn) -> Step | None:
    if not isinstance(turn, Text):
        return None
    title = " ".join(turn.text.split())
    if not 0 < len(title) <= MAX_TITLE:
        return Step.staying(messages.title_problem())
    return Step(messages.ask_category(ctx.token), next=Staffing.CATEGORY,
                data={**ctx.data, "title": title})


def on_category(ctx: Context, postback: Category) -> Step:
    if ctx.state_name != Staffing.CATEGORY or postback.v not in set(ActivityCategory):
        return Step.staying(prompt(ctx))
    return Step(messages.ask_designated(ctx.token), next=Staffing.DESIGNATED,
                data={**ctx.data, "category": postback.v})


def on_designated(ctx: Context, postback: Designated) -> Step:
    if ctx.state_name != Staffing.DESIGNATED:
        return Step.staying(prompt(ctx))
    return Step(messages.ask_day(_today(ctx), ctx.token), next=Staffing.DAY,
                data={**ctx.data, "designated": bool(postback.yes)})


def _day(ctx: Context, typed: str) -> Step:
    chosen = parse_date(typed, _today(ctx))
    if chosen is None or chosen < _today(ctx):
        return Step.staying(messages.ask_day(_today(ctx), ctx.token, again=True,
                                             adding=_adding(ctx)))
    return Step(messages.ask_time("start", ctx.token, adding=_adding(ctx)), next=Staffing.START,
                data={**ctx.data, "day": chosen.isoformat()})


def on_day_typed(ctx: Context, turn: Turn) -> Step | None:
    return _day(ctx, turn.text) if isinstance(turn, Text) else None


def on_day_picked(ctx: Context, postback: PickDay) -> Step:
    if ctx.state_name != Staffing.DAY:
        return Step.staying(prompt(ctx))
    return _day(ctx, ctx.params.get("date", ""))


def _time(ctx: Context, typed: str) -> Step:
    which = "start" if ctx.state_name == Staffing.START else "end"
    chosen = parse_time(typed)
    if chosen is None:
        return Step.staying(messages.ask_time(which, ctx.token, again=True, adding=_adding(ctx)))
    day = date.fromisoformat(ctx.data["day"])
    moment = activities.local(day, chosen)
    if which == "start":
        return Step(messages.ask_time("end", ctx.token, adding=_adding(ctx)), next=Staffing.END,
                    data={**ctx.data, "start": moment.isoformat()})
    starts_at = datetime.fromisoformat(ctx.data["start"])
    if moment <= starts_at:
        return Step.staying([text(messages.end_before_start()),
                             *messages.ask_time("end", ctx.token, adding=_adding(ctx))])
    windows = [*ctx.data["windows"], [ctx.data["start"], moment.isoformat()]]
    data = {**ctx.data, "windows": windows}
    if "place" in ctx.data:  # an added day: place and kind are already known
        return Step(messages.ask_more(_windows(data), ctx.token), next=Staffing.MORE, data=data)
    return Step(messages.ask_place(), next=Staffing.PLACE, data=data)


def on_time_typed(ctx: Context, turn: Turn) -> Step | None:
    return _time(ctx, turn.text) if isinstance(turn, Text) else None


def on_time_picked(ctx: Context, postback: PickTime) -> Step:
    if ctx.state_name not in (Staffing.START, Staffing.END):
        return Step.staying(prompt(ctx))
    return _time(ctx, ctx.params.get("time", ""))


def on_place(ctx: Context, turn: Turn) -> Step | None:
    if not isinstance(turn, Text):
        return None
    where = " ".join(turn.text.split())[:MAX_PLACE]
    if not where:
        return None
    return Step(messages.ask_kind(ctx.token), next=Staffing.KIND, data={**ctx.data, "place": where})


def on_kind(ctx: Context, postback: CodeKind) -> Step:
    if ctx.state_name != Staffing.KIND:
        return Step.staying(prompt(ctx))
    data = {**ctx.data, "rotating": bool(postback.rotating)}
    return Step(messages.ask_more(_windows(data), ctx.token), next=Staffing.MORE, data=data)


def _adding(ctx: Context) -> bool:
    """A further day is being asked for (place and kind are known from the first)."""
    return "place" in ctx.data


def on_more(ctx: Context, postback: MoreDays) -> Step:
    # 「日程はこれで全部」 is also offered while a further day is half given: drop that half.
    giving_up_a_day = (not postback.add and _adding(ctx)
                       and ctx.state_name in (Staffing.DAY, Staffing.START, Staffing.END))
    if ctx.state_name != Staffing.MORE and not giving_up_a_day:
        return Step.staying(prompt(ctx))
    data = {key: value for key, value in ctx.data.items() if key not in ("day", "start")}
    if postback.add and len(data["windows"]) < MAX_SESSIONS:
        return Step(messages.ask_day(_today(ctx), ctx.token, adding=True), next=Staffing.DAY,
                    data=data)
    return Step(messages.ask_confirm(data, _windows(data), ctx.token), next=Staffing.CONFIRM,
                data=data)


def on_create(ctx: Context, postback: Create) -> Step:
    if ctx.state_name != Staffing.CONFIRM:
        return Step.staying(prompt(ctx))
    entity = _entity(ctx)
    if entity is None:
        return Step(messages.staff_only())
    draft = ctx.data
    activity = activities.create(
        ctx.session, entity, title=draft["title"], category=draft["category"],
        designated=draft["designated"], place=draft["place"], windows=_windows(draft),
        now=ctx.now, created_by=ctx.person,
        rotate_seconds=ROTATE_SECONDS if draft["rotating"] else None)
    return Step([messages.created(activity), *_codes(ctx, activity)][:5])


def _windows(data: dict) -> list[tuple[datetime, datetime]]:
    return [(datetime.fromisoformat(s), datetime.fromisoformat(e)) for s, e in data["windows"]]


def _codes(ctx: Context, activity) -> list:
    """QR images and posters of a printed code, or the staff pages of a rotating one."""
    if activity.rotate_seconds:
        rotating = [(s, links.rotating_url(ctx.config, s.id, ctx.person.id)) for s in activity.sessions]
        return messages.codes(activity, [], rotating)
    printed = []
    for session in activity.sessions:
        token = activities.token(session, ctx.config["SECRET_KEY"])
        printed.append((session, links.qr_url(ctx.config, token), links.poster_url(ctx.config, token, "pdf"),
                        links.poster_url(ctx.config, token, "png")))
    return messages.codes(activity, printed, [])


# The list's buttons --------------------------------------------------------------------------

def _owned(ctx: Context, activity_id: int):
    """The activity if the person is staff of its entity, else None (staff of A never see B)."""
    for role in staff.roles_of(ctx.session, ctx.person):
        found = activities.find(ctx.session, role.entity, activity_id)
        if found is not None:
            return found
    return None


def on_show_codes(ctx: Context, postback: ShowCodes) -> Step:
    if not staff.roles_of(ctx.session, ctx.person):
        return Step(messages.staff_only())
    activity = _owned(ctx, postback.id)
    if activity is None:
        return Step(messages.not_found())
    if activity.status != ActivityStatus.OPEN:
        return Step(messages.already_finished(activity))
    return Step(_codes(ctx, activity))


def on_finish(ctx: Context, postback: Finish) -> Step:
    if not staff.roles_of(ctx.session, ctx.person):
        return Step(messages.staff_only())
    activity = _owned(ctx, postback.id)
    if activity is None or postback.status not in (ActivityStatus.CLOSED, ActivityStatus.CANCELLED):
        return Step(messages.not_found())
    if activity.status != ActivityStatus.OPEN:
        return Step(messages.already_finished(activity))
    ctx.restart()
    return Step(messages.confirm_finish(activity, postback.status, ctx.token),
                next=Staffing.FINISH, data={"id": activity.id, "status": postback.status})


def on_confirm_finish(ctx: Context, postback: ConfirmFinish) -> Step:
    if ctx.state_name != Staffing.FINISH or ctx.data.get("id") != postback.id:
        return Step.staying(prompt(ctx))
    activity = _owned(ctx, postback.id)
    if activity is None:
        return Step(messages.not_found())
    if activity.status == ActivityStatus.OPEN:
        activities.finish(activity, ctx.data["status"])
    return Step(messages.finished(activity))


def on_keep_open(ctx: Context, postback: KeepOpen) -> Step:
    return Step(messages.kept_open())


def buttons_only(ctx: Context, turn: Turn) -> Step | None:
    return None


def prompt(ctx: Context) -> list:
    """The question of the state the person is in, asked again."""
    name = ctx.state_name
    if name == Staffing.TITLE:
        entity = _entity(ctx)
        return messages.ask_title(entity) if entity else messages.staff_only()
    if name == Staffing.CATEGORY:
        return messages.ask_category(ctx.token)
    if name == Staffing.DESIGNATED:
        return messages.ask_designated(ctx.token)
    if name == Staffing.DAY:
        return messages.ask_day(_today(ctx), ctx.token, adding=_adding(ctx))
    if name in (Staffing.START, Staffing.END):
        return messages.ask_time("start" if name == Staffing.START else "end", ctx.token,
                                 adding=_adding(ctx))
    if name == Staffing.PLACE:
        return messages.ask_place()
    if name == Staffing.KIND:
        return messages.ask_kind(ctx.token)
    if name == Staffing.MORE:
        return messages.ask_more(_windows(ctx.data), ctx.token)
    if name == Staffing.CONFIRM:
        return messages.ask_confirm(ctx.data, _windows(ctx.data), ctx.token)
    if name == Staffing.FINISH:
        activity = _owned(ctx, ctx.data["id"])
        if activity is not None:
            return messages.confirm_finish(activity, ctx.data["status"], ctx.token)
    return messages.staff_only()
