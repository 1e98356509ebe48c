"""Which entity a staff member acts for: the one authorisation step of every staff action."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar

from linebot.v3.messaging.models import Message

from bot.services import staff
from bot.store.models import Entity, Staff
from conversations.engine import Context, Draft, Step
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


D = TypeVar("D", bound=Draft)


def asked_of_staff(kind: type[D]) -> Callable[[Callable[[Context, Any, Entity], list[Message]]],
                                              Callable[[Context], list[Message]]]:
    """A step's question, for a draft that names its entity (`draft.entity`, a code): asked
    again only while the person is still that entity's staff, else "staff only"."""
    def decorate(ask: Callable[[Context, Any, Entity], list[Message]]) -> Callable[[Context], list[Message]]:
        @wraps(ask)
        def prompt(ctx: Context) -> list[Message]:
            draft = ctx.draft(kind)
            role = staff.role_at(ctx.session, ctx.person, draft.entity)  # type: ignore[attr-defined]
            return ask(ctx, draft, role.entity) if role is not None else messages.staff_only()
        return prompt
    return decorate
