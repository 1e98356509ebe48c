"""Steps of the residence question."""

from __future__ import annotations

from bot.i18n import _
from bot.services import entities, registrations
from bot.store.models import Entity, EntityKind
from conversations.common import menu_actions, say, text
from conversations.engine import Context, Location, Step, Text, Turn
from conversations.my_registrations.messages import registrations_card
from conversations.residence import messages
from conversations.residence.states import Home, PickHome, SkipHome


def ask(ctx: Context, after_registration: int | None = None) -> Step:
    verified = registrations.verified_residence(ctx.session, ctx.person)
    if verified is not None:
        return _verified(ctx, verified, after_registration)
    data = {"after_registration": after_registration} if after_registration else {}
    ctx.restart()
    return Step(messages.ask_home(ctx.person.residence, ctx.token,
                                  last_question=bool(after_registration)),
                next=Home.SEARCH, data=data)


def on_search(ctx: Context, turn: Turn) -> Step | None:
    if isinstance(turn, Text):
        found = [e for e in entities.search(ctx.session, turn.text)
                 if e.kind == EntityKind.MUNICIPALITY]
        if not found:
            return Step.staying(messages.home_not_found(turn.text, ctx.person.residence,
                                                        ctx.token))
        if len(found) == 1:
            return settle(ctx, found[0].code)
        return Step(messages.home_candidates(found, ctx.person.residence, ctx.token),
                    next=Home.SEARCH, data=ctx.data)
    if isinstance(turn, Location):
        guess = entities.nearest_municipality(ctx.session, turn.latitude, turn.longitude)
        return Step(messages.home_guess(guess, ctx.person.residence, ctx.token),
                    next=Home.SEARCH, data=ctx.data)
    return None


def on_pick(ctx: Context, postback: PickHome) -> Step:
    if ctx.state_name != Home.SEARCH:
        return Step.staying(prompt(ctx))
    return settle(ctx, postback.code)


def on_skip(ctx: Context, postback: SkipHome) -> Step:
    if ctx.state_name != Home.SEARCH:
        return Step.staying(prompt(ctx))
    return finish(ctx, saved=None)


def settle(ctx: Context, code: str) -> Step:
    municipality = entities.by_code(ctx.session, code)
    if municipality is None or municipality.kind != EntityKind.MUNICIPALITY:
        return Step.staying(prompt(ctx))
    verified = registrations.verified_residence(ctx.session, ctx.person)
    if verified is not None:  # verified while this question was open
        return _verified(ctx, verified, ctx.data.get("after_registration"))
    registrations.set_residence(ctx.session, ctx.person, municipality)
    return finish(ctx, saved=municipality)


def _verified(ctx: Context, verified: Entity, after_registration: int | None) -> Step:
    """A verified address decides where the person lives (R9): a declaration cannot change
    it, or premium at one's own home would be one message away (R5)."""
    note = messages.home_verified(verified)
    if after_registration:
        return Step([text(note), registrations_card(registrations.active(ctx.session,
                                                                         ctx.person))])
    return Step([text(note, [say(_("本人確認")), *menu_actions()])])


def finish(ctx: Context, saved: Entity | None) -> Step:
    current = registrations.active(ctx.session, ctx.person)
    if saved is None:
        note = messages.home_unchanged(ctx.person.residence)
    else:
        note = messages.home_saved(saved, [r.entity for r in current
                                           if not r.counted_in_statistics])
    if ctx.data.get("after_registration"):
        return Step([text(note), registrations_card(current)])
    return Step([text(note, menu_actions())])


def prompt(ctx: Context) -> list:
    return messages.ask_home(ctx.person.residence, ctx.token,
                             last_question=bool(ctx.data.get("after_registration")))
