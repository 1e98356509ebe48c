"""Steps of "my registrations"."""

from __future__ import annotations

from bot.domain import registration as rules
from bot.services import premium, registry
from bot.store.models import Registration, RegistrationKind
from conversations.engine import Context, Step
from conversations.my_registrations import messages
from conversations.my_registrations.states import (
    ConfirmDelete,
    ConfirmLeave,
    DeleteAll,
    Keep,
    Leave,
    MyRegistrationsState,
)


def show(ctx: Context) -> Step:
    return Step(messages.registrations_list(registry.active(ctx.session, ctx.person)))


def would_also_end(ctx: Context, registration: Registration) -> list[Registration]:
    """The co-registrations R2 would end with this one: told before, not after."""
    current = registry.active(ctx.session, ctx.person)
    after = [r for r in current if r.id != registration.id]
    if not rules.co_registration_to_end(registration.entity.prefecture_code,
                                        registry.held(after)):
        return []
    return [r for r in after if r.entity.code == registration.entity.prefecture_code]


def on_leave(ctx: Context, postback: Leave) -> Step:
    registration = registry.owned_active(ctx.session, ctx.person, postback.id)
    if registration is None:
        return Step(messages.not_yours() + show(ctx).replies[:4])
    ctx.restart()
    return Step(messages.confirm_leave(registration, would_also_end(ctx, registration), ctx.token),
                next=MyRegistrationsState.CONFIRM_LEAVE, data={"id": registration.id})


def on_confirm_leave(ctx: Context, postback: ConfirmLeave) -> Step:
    if ctx.data.get("id") != postback.id:
        return Step.staying(ask_leave(ctx))
    registration = registry.owned_active(ctx.session, ctx.person, postback.id)
    if registration is None:
        return Step(messages.not_yours() + show(ctx).replies[:4])
    if registration.kind == RegistrationKind.PREMIUM:  # R2: the prefecture falls back first
        premium.revert_to_basic(ctx.session, registration, ctx.now, reason="left")
    ended = registry.end(ctx.session, registration, ctx.now, reason="left")
    return Step(messages.left(registration, ended.co_registrations_ended))


def on_delete(ctx: Context, postback: DeleteAll) -> Step:
    count = len(registry.active(ctx.session, ctx.person))
    ctx.restart()
    return Step(messages.confirm_delete(count, ctx.token),
                next=MyRegistrationsState.CONFIRM_DELETE)


def on_confirm_delete(ctx: Context, postback: ConfirmDelete) -> Step:
    registry.delete_person_data(ctx.session, ctx.person, ctx.now)
    ctx.state = None  # deleted with the person's data
    return Step(messages.deleted())


def on_keep(ctx: Context, postback: Keep) -> Step:
    return Step(messages.kept())


def ask_leave(ctx: Context) -> list:
    registration = registry.owned_active(ctx.session, ctx.person, ctx.data["id"])
    if registration is None:  # left meanwhile: what there is now
        return show(ctx).replies
    return messages.confirm_leave(registration, would_also_end(ctx, registration), ctx.token)


def ask_delete(ctx: Context) -> list:
    return messages.confirm_delete(len(registry.active(ctx.session, ctx.person)), ctx.token)
