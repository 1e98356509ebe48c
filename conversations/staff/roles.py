"""Which entity a staff member acts for: the one authorisation step of every staff action."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from linebot.v3.messaging.models import Message

from bot.services import staff
from bot.store.models import Staff
from conversations.engine import Context, Step
from conversations.staff import messages


def acting(ctx: Context, code: str | None,
           choose: Callable[[Sequence[Staff]], list[Message]]) -> Staff | Step:
    """The staff role to act with, or the Step that answers instead.

    With `code`, only that entity (chosen from a list) — refused if the person is not its
    staff. Without, the person's one entity, or a choice when they act for several.
    """
    roles = staff.roles_of(ctx.session, ctx.person)
    if code is not None:
        role = next((r for r in roles if r.entity.code == code), None)
        return role if role is not None else Step(messages.staff_only())
    if not roles:
        return Step(messages.staff_only())
    if len(roles) > 1:
        return Step(choose(roles))
    return roles[0]
