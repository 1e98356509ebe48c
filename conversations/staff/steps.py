"""Staff steps. Every one that touches an entity asks `staff.role_at` first (Authorisation, docs/rules.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from bot.codes import links
from bot.domain.calendar import japan_time, today_in_japan
from bot.line import richmenu
from bot.services import activities, downloads, staff, statistics
from bot.store.models import ActivityCategory, ActivityStatus, Entity, Staff
from conversations.common import text
from conversations.engine import Context, Step, Text
from conversations.staff import messages
from conversations.staff.draft import ActivityDraft
from conversations.staff.parse import parse_date, parse_time
from conversations.staff.roles import acting
from conversations.staff.states import (
    ActivityState,
    Category,
    CodeKind,
    ConfirmFinish,
    Create,
    Designated,
    Finish,
    ForEntity,
    KeepOpen,
    MenuActivityList,
    MenuFigures,
    MenuNewActivity,
    MoreDays,
    PickDay,
    PickTime,
    ShowCodes,
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
    return Step(messages.enrolled(outcome), after=[richmenu.linking_staff_menu(user_id)])


# Which entity --------------------------------------------------------------------------------

def _acting(ctx: Context, action: str, code: str | None = None) -> Staff | Step:
    return acting(ctx, code, lambda roles: messages.choose_entity(roles, action))


def new_activity(ctx: Context, code: str | None = None) -> Step:
    role = _acting(ctx, "new", code)
    if isinstance(role, Step):
        return role
    ctx.restart()
    return Step(messages.ask_title(role.entity), next=ActivityState.TITLE,
                data=ActivityDraft(entity=role.entity.code))


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


def on_new_activity(ctx: Context, postback: MenuNewActivity) -> Step:
    return new_activity(ctx)


def on_activity_list(ctx: Context, postback: MenuActivityList) -> Step:
    return activity_list(ctx)


def on_figures(ctx: Context, postback: MenuFigures) -> Step:
    return figures(ctx)


def on_for_entity(ctx: Context, postback: ForEntity) -> Step:
    action = ACTIONS.get(postback.a)
    if action is None:
        return Step(messages.staff_only())
    return action(ctx, postback.code)


# Creating an activity ------------------------------------------------------------------------

def _draft(ctx: Context) -> ActivityDraft:
    return ctx.draft(ActivityDraft)


def _entity(ctx: Context) -> Entity | None:
    """The draft's entity, while the person is still its staff."""
    role = staff.role_at(ctx.session, ctx.person, _draft(ctx).entity)
    return role.entity if role else None


def _today(ctx: Context) -> date:
    return today_in_japan(ctx.now)


def on_title(ctx: Context, turn: Text) -> Step:
    title = " ".join(turn.text.split())
    if not 0 < len(title) <= MAX_TITLE:
        return Step.staying(messages.title_problem())
    return Step(messages.ask_category(ctx.token), next=ActivityState.CATEGORY,
                data=replace(_draft(ctx), title=title))


def on_category(ctx: Context, postback: Category) -> Step:
    if postback.v not in set(ActivityCategory):
        return Step.staying(ask_category(ctx))
    return Step(messages.ask_designated(ctx.token), next=ActivityState.DESIGNATED,
                data=replace(_draft(ctx), category=postback.v))


def on_designated(ctx: Context, postback: Designated) -> Step:
    return Step(messages.ask_day(_today(ctx), ctx.token), next=ActivityState.DAY,
                data=replace(_draft(ctx), designated=bool(postback.yes)))


def _day(ctx: Context, typed: str) -> Step:
    draft = _draft(ctx)
    chosen = parse_date(typed, _today(ctx))
    if chosen is None or chosen < _today(ctx):
        return Step.staying(messages.ask_day(_today(ctx), ctx.token, again=True,
                                             adding=draft.adding_day))
    return Step(messages.ask_time("start", ctx.token, adding=draft.adding_day),
                next=ActivityState.START, data=replace(draft, day=chosen.isoformat()))


def on_day_typed(ctx: Context, turn: Text) -> Step:
    return _day(ctx, turn.text)


def on_day_picked(ctx: Context, postback: PickDay) -> Step:
    return _day(ctx, ctx.params.get("date", ""))


def _start(ctx: Context, typed: str) -> Step:
    draft = _draft(ctx)
    chosen = parse_time(typed)
    if chosen is None:
        return Step.staying(messages.ask_time("start", ctx.token, again=True,
                                              adding=draft.adding_day))
    moment = japan_time(date.fromisoformat(draft.day or ""), chosen)
    return Step(messages.ask_time("end", ctx.token, adding=draft.adding_day), next=ActivityState.END,
                data=replace(draft, start=moment.isoformat()))


def on_start_typed(ctx: Context, turn: Text) -> Step:
    return _start(ctx, turn.text)


def on_start_picked(ctx: Context, postback: PickTime) -> Step:
    return _start(ctx, ctx.params.get("time", ""))


def _end(ctx: Context, typed: str) -> Step:
    draft = _draft(ctx)
    chosen = parse_time(typed)
    if chosen is None:
        return Step.staying(messages.ask_time("end", ctx.token, again=True, adding=draft.adding_day))
    moment = japan_time(date.fromisoformat(draft.day or ""), chosen)
    if moment <= datetime.fromisoformat(draft.start or ""):
        return Step.staying([text(messages.end_before_start()),
                             *messages.ask_time("end", ctx.token, adding=draft.adding_day)])
    given = replace(draft, windows=[*draft.windows, [draft.start, moment.isoformat()]],
                    day=None, start=None, adding_day=False)
    if draft.adding_day:  # place and kind are known from the first day
        return Step(messages.ask_more(given.sessions, ctx.token), next=ActivityState.MORE, data=given)
    return Step(messages.ask_place(), next=ActivityState.PLACE, data=given)


def on_end_typed(ctx: Context, turn: Text) -> Step:
    return _end(ctx, turn.text)


def on_end_picked(ctx: Context, postback: PickTime) -> Step:
    return _end(ctx, ctx.params.get("time", ""))


def on_place(ctx: Context, turn: Text) -> Step | None:
    where = " ".join(turn.text.split())[:MAX_PLACE]
    if not where:
        return None
    return Step(messages.ask_kind(ctx.token), next=ActivityState.KIND,
                data=replace(_draft(ctx), place=where))


def on_kind(ctx: Context, postback: CodeKind) -> Step:
    draft = replace(_draft(ctx), rotating=bool(postback.rotating))
    return Step(messages.ask_more(draft.sessions, ctx.token), next=ActivityState.MORE, data=draft)


def on_more(ctx: Context, postback: MoreDays) -> Step:
    draft = _draft(ctx)
    if postback.add and len(draft.windows) < MAX_SESSIONS:
        return Step(messages.ask_day(_today(ctx), ctx.token, adding=True), next=ActivityState.DAY,
                    data=replace(draft, adding_day=True))
    return _confirm(ctx, draft)


def on_enough_days(ctx: Context, postback: MoreDays) -> Step:
    """「日程はこれで全部」 offered while a further day is half given: that half is dropped."""
    draft = _draft(ctx)
    if postback.add or not draft.adding_day:  # 別の日を追加 of an older question: ask this one
        assert ctx.current is not None  # answered only in the states that list it
        return Step.staying(ctx.current.prompt(ctx))
    return _confirm(ctx, replace(draft, day=None, start=None, adding_day=False))


def _confirm(ctx: Context, draft: ActivityDraft) -> Step:
    return Step(messages.ask_confirm(draft, ctx.token), next=ActivityState.CONFIRM, data=draft)


def on_create(ctx: Context, postback: Create) -> Step:
    entity = _entity(ctx)
    if entity is None:
        return Step(messages.staff_only())
    draft = _draft(ctx)
    activity = activities.create(
        ctx.session, entity, title=draft.title, category=draft.category,
        designated=draft.designated, place=draft.place, windows=draft.sessions,
        now=ctx.now, created_by=ctx.person,
        rotate_seconds=ROTATE_SECONDS if draft.rotating else None)
    return Step([messages.created(activity), *_codes(ctx, activity)][:5])


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


# The questions, asked again ------------------------------------------------------------------

def ask_title(ctx: Context) -> list:
    entity = _entity(ctx)
    return messages.ask_title(entity) if entity else messages.staff_only()


def ask_category(ctx: Context) -> list:
    return messages.ask_category(ctx.token)


def ask_designated(ctx: Context) -> list:
    return messages.ask_designated(ctx.token)


def ask_day(ctx: Context) -> list:
    return messages.ask_day(_today(ctx), ctx.token, adding=_draft(ctx).adding_day)


def ask_start(ctx: Context) -> list:
    return messages.ask_time("start", ctx.token, adding=_draft(ctx).adding_day)


def ask_end(ctx: Context) -> list:
    return messages.ask_time("end", ctx.token, adding=_draft(ctx).adding_day)


def ask_place(ctx: Context) -> list:
    return messages.ask_place()


def ask_kind(ctx: Context) -> list:
    return messages.ask_kind(ctx.token)


def ask_more(ctx: Context) -> list:
    return messages.ask_more(_draft(ctx).sessions, ctx.token)


def ask_confirm(ctx: Context) -> list:
    return messages.ask_confirm(_draft(ctx), ctx.token)


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
                next=ActivityState.FINISH, data={"id": activity.id, "status": postback.status})


def on_confirm_finish(ctx: Context, postback: ConfirmFinish) -> Step:
    if ctx.data.get("id") != postback.id:
        return Step.staying(ask_finish(ctx))
    activity = _owned(ctx, postback.id)
    if activity is None:
        return Step(messages.not_found())
    if activity.status == ActivityStatus.OPEN:
        activities.finish(activity, ctx.data["status"])
    return Step(messages.finished(activity))


def on_keep_open(ctx: Context, postback: KeepOpen) -> Step:
    return Step(messages.kept_open())


def ask_finish(ctx: Context) -> list:
    activity = _owned(ctx, ctx.data["id"])
    if activity is None:
        return messages.staff_only()
    return messages.confirm_finish(activity, ctx.data["status"], ctx.token)
