"""Check-in steps: a code from a link, a photo or typed; registering first when needed."""

from __future__ import annotations

from bot.codes import checkin_codes
from bot.services import attendance, registry
from bot.services.attendance import Outcome
from bot.store.models import CheckInMethod
from conversations.checkin import messages
from conversations.checkin.states import CheckInState, NotNow, RegisterAndCheckIn
from conversations.common import text
from conversations.engine import Context, Photo, Step
from conversations.registration import messages as registration_messages


def on_code(ctx: Context, token: str, method: str = CheckInMethod.LINK) -> Step:
    result = attendance.attempt(ctx.session, ctx.person, token, ctx.config["SECRET_KEY"], ctx.now,
                              method)
    if result.outcome is Outcome.NEEDS_REGISTRATION:
        if not result.entity.participating:
            return Step(messages.outcome(result))
        ctx.restart()
        return Step(messages.offer_registration(result, ctx.token), next=CheckInState.REGISTER,
                    data={"code": token, "method": method})
    return Step(messages.outcome(result))


def on_photo(ctx: Context, photo: Photo) -> Step:
    if photo.codes is None:
        return Step.staying(messages.photo_unreadable())
    if not photo.codes:
        return Step.staying(messages.no_code_in_photo())
    token = next(filter(None, map(checkin_codes.find_token, photo.codes)), None)
    if token is None:
        return Step.staying(messages.not_a_check_in_code())
    return on_code(ctx, token, CheckInMethod.PHOTO)


def on_register(ctx: Context, postback: RegisterAndCheckIn) -> Step:
    token, method = ctx.data["code"], ctx.data["method"]
    result = attendance.attempt(ctx.session, ctx.person, token, ctx.config["SECRET_KEY"], ctx.now,
                              method)
    if result.outcome is not Outcome.NEEDS_REGISTRATION:
        return Step(messages.outcome(result))  # e.g. the window closed meanwhile
    done = registry.register_basic(ctx.session, ctx.person, result.entity, ctx.now)
    co = done.co_registration.entity if done.co_registration else None
    result = attendance.attempt(ctx.session, ctx.person, token, ctx.config["SECRET_KEY"], ctx.now,
                              method)
    replies = messages.outcome(result)
    first = registration_messages.registered_basic(result.entity, co)
    return Step([text(first), *replies])


def on_not_now(ctx: Context, postback: NotNow) -> Step:
    return Step(messages.not_checked_in())


def ask_register(ctx: Context) -> list:
    result = attendance.attempt(ctx.session, ctx.person, ctx.data["code"],
                              ctx.config["SECRET_KEY"], ctx.now, ctx.data["method"])
    if result.outcome is Outcome.NEEDS_REGISTRATION:
        return messages.offer_registration(result, ctx.token)
    return messages.outcome(result)


def my_activities(ctx: Context) -> Step:
    done = attendance.history(ctx.session, ctx.person)
    standing = {entity.id: attendance.progress(ctx.session, ctx.person, entity, ctx.now)
                for entity, _attended in done}
    return Step(messages.history(done, standing))
