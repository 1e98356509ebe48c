"""The "keep my registration" tap (R8)."""

from __future__ import annotations

from bot.services import registry
from bot.store.models import RegistrationKind
from conversations.engine import Context, Step
from conversations.keep_registration import messages
from conversations.keep_registration.states import KeepRegistration


def keep(ctx: Context, _postback: KeepRegistration) -> Step:
    """The handler has already counted this tap as access; here we only confirm it.

    Whatever the person was doing goes on: their conversation state is left as it is.
    """
    basic = [r for r in registry.active(ctx.session, ctx.person)
             if r.kind == RegistrationKind.BASIC]
    return Step.staying(messages.kept(basic))
