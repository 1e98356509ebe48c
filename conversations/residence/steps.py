"""Steps of the residence question."""

from __future__ import annotations

from bot.i18n import _
from bot.services import entities, registry
from bot.store.models import Entity, EntityKind
from conversations.common import menu_actions, say, text
from conversations.engine import Context, Location, Step, Text
from conversations.my_registrations.messages import registrations_card
from conversations.residence import messages
from conversations.residence.states import HomeQuestion, PickHome, ResidenceState, SkipHome


def ask(ctx: Context, after_registration: int | None = None) -> Step:
    verified = registry.verified_residence(ctx.session, ctx.person)
    if verified is not None:
        return _verified(ctx, verified, after_registration)
    ctx.restart()
    return Step(messages.ask_home(ctx.person.residence, ctx.token,
                                  last_question=bool(after_registration)),
                next=ResidenceState.SEARCH, data=HomeQuestion(after_registration))


def on_search_text(ctx: Context, typed: Text) -> Step:
    found = [e for e in entities.search(ctx.session, typed.text)
             if e.kind == EntityKind.MUNICIPALITY]
    if not found:
        return Step.staying(messages.home_not_found(typed.text, ctx.person.residence, ctx.token))
    if len(found) == 1:
        return settle(ctx, found[0].code)
    return Step(messages.home_candidates(found, ctx.person.residence, ctx.token),
                next=ResidenceState.SEARCH, data=ctx.draft(HomeQuestion))


def on_search_location(ctx: Context, location: Location) -> Step:
    guess = entities.nearest_municipality(ctx.session, location.latitude, location.longitude)
    return Step(messages.home_guess(guess, ctx.person.residence, ctx.token),
                next=ResidenceState.SEARCH, data=ctx.draft(HomeQuestion))


def on_pick(ctx: Context, postback: PickHome) -> Step:
    return settle(ctx, postback.code)


def on_skip(ctx: Context, postback: SkipHome) -> Step:
    return finish(ctx, saved=None)


def settle(ctx: Context, code: str) -> Step:
    municipality = entities.by_code(ctx.session, code)
    if municipality is None or municipality.kind != EntityKind.MUNICIPALITY:
        return Step.staying(home_question(ctx))
    verified = registry.verified_residence(ctx.session, ctx.person)
    if verified is not None:  # verified while this question was open
        return _verified(ctx, verified, ctx.draft(HomeQuestion).after_registration)
    registry.set_residence(ctx.session, ctx.person, municipality)
    return finish(ctx, saved=municipality)


def _verified(ctx: Context, verified: Entity, after_registration: int | None) -> Step:
    """A verified address decides where the person lives (R9): a declaration cannot change
    it, or premium at one's own home would be one message away (R5)."""
    note = messages.home_verified(verified)
    if after_registration:
        return Step([text(note), registrations_card(registry.active(ctx.session,
                                                                         ctx.person))])
    return Step([text(note, [say(_("本人確認")), *menu_actions()])])


def finish(ctx: Context, saved: Entity | None) -> Step:
    current = registry.active(ctx.session, ctx.person)
    if saved is None:
        note = messages.home_unchanged(ctx.person.residence)
    else:
        note = messages.home_saved(saved, [r.entity for r in current
                                           if not r.counted_in_statistics])
    if ctx.draft(HomeQuestion).after_registration:
        return Step([text(note), registrations_card(current)])
    return Step([text(note, menu_actions())])


def home_question(ctx: Context) -> list:
    return messages.ask_home(ctx.person.residence, ctx.token,
                             last_question=bool(ctx.draft(HomeQuestion).after_registration))
