"""Registration's steps: each reads a turn and returns a Step; nothing is sent from here."""

from __future__ import annotations

from bot.domain import relationship_survey
from bot.domain.registration import Refusal
from bot.services import entities, registry
from bot.store.models import Entity, Registration
from conversations.engine import Context, Location, Step, Text
from conversations.registration import messages
from conversations.registration.states import (
    Answer,
    ConfirmRegistration,
    DeclineRegistration,
    ListInPrefecture,
    ListPrefectures,
    NextQuestion,
    PickEntity,
    RegistrationState,
    SearchDraft,
    SearchPage,
    SurveyDraft,
)
from conversations.residence import steps as residence_steps


def start(ctx: Context) -> Step:
    ctx.restart()
    return Step(messages.ask_where(ctx.token), next=RegistrationState.SEARCH)


# Where to register ----------------------------------------------------------------------------

def ask_where(ctx: Context) -> list:
    return messages.ask_where(ctx.token)


def on_search_text(ctx: Context, typed: Text) -> Step:
    found = entities.search(ctx.session, typed.text)
    if not found:
        return Step(messages.no_match(typed.text, ctx.token), next=RegistrationState.SEARCH)
    if len(found) == 1:
        return pick(ctx, found[0])
    return Step(messages.candidates(found, 0, ctx.token), next=RegistrationState.SEARCH,
                data=SearchDraft(query=typed.text[:100]))


def on_search_location(ctx: Context, location: Location) -> Step:
    found = entities.nearest_participating(ctx.session, location.latitude, location.longitude)
    return Step(messages.nearby(found, ctx.token), next=RegistrationState.SEARCH)


def on_search_page(ctx: Context, postback: SearchPage) -> Step:
    draft = ctx.draft(SearchDraft)
    if not draft.query:  # the list on screen is not a search's any more (e.g. the prefectures')
        return start(ctx)
    found = entities.search(ctx.session, draft.query)
    return Step(messages.candidates(found, postback.page, ctx.token),
                next=RegistrationState.SEARCH, data=draft)


def on_list_prefectures(ctx: Context, postback: ListPrefectures) -> Step:
    found = entities.prefectures_with_participants(ctx.session)
    return Step(messages.prefectures(found, postback.page, ctx.token),
                next=RegistrationState.SEARCH)


def on_list_in_prefecture(ctx: Context, postback: ListInPrefecture) -> Step:
    prefecture = entities.by_code(ctx.session, postback.code)
    if prefecture is None or not prefecture.is_prefecture:
        return on_list_prefectures(ctx, ListPrefectures(0, postback.t))
    found = entities.participating_in(ctx.session, prefecture.code)
    return Step(messages.in_prefecture(prefecture, found, postback.page, ctx.token),
                next=RegistrationState.SEARCH)


def on_pick(ctx: Context, postback: PickEntity) -> Step:
    entity = entities.by_code(ctx.session, postback.code)
    if entity is None:  # not a code we offered: the question on screen stays open
        return Step.staying(ask_where(ctx))
    return pick(ctx, entity)


def pick(ctx: Context, entity: Entity, current: list[Registration] | None = None) -> Step:
    """Offer to register at `entity`; `current`: the person's active registrations if read."""
    if current is None:
        current = registry.active(ctx.session, ctx.person)
    refusal = registry.refusal(entity, current)
    if refusal is Refusal.NOT_PARTICIPATING:
        return Step(messages.not_participating(entity, ctx.token), next=RegistrationState.SEARCH)
    if refusal is Refusal.ALREADY_REGISTERED:
        return Step(messages.already_registered(entity))
    return Step(messages.confirm_registration(entity, _co_registered(ctx, entity, current), ctx.token),
                next=RegistrationState.CONFIRM, data={"code": entity.code})


def _co_registered(ctx: Context, entity: Entity, current: list[Registration]) -> Entity | None:
    """The prefecture R2 would register the person at too, said on the confirmation."""
    if entity.is_prefecture:
        return None
    prefecture = entities.prefecture_of(ctx.session, entity)
    if not prefecture.participating or any(h.code == prefecture.code for h in registry.held(current)):
        return None
    return prefecture


# Confirming -----------------------------------------------------------------------------------

def ask_confirm(ctx: Context) -> list:
    """The confirmation again, as first shown (with the prefecture R2 adds)."""
    entity = entities.by_code(ctx.session, ctx.data["code"])
    current = registry.active(ctx.session, ctx.person)
    return messages.confirm_registration(entity, _co_registered(ctx, entity, current), ctx.token)


def on_confirm(ctx: Context, postback: ConfirmRegistration) -> Step:
    if ctx.data.get("code") != postback.code:
        return Step.staying(ask_confirm(ctx))
    entity = entities.by_code(ctx.session, postback.code)
    if entity is None:
        return start(ctx)
    current = registry.active(ctx.session, ctx.person)
    if registry.refusal(entity, current) is not None:
        return pick(ctx, entity, current)  # explains why, as a fresh pick would
    done = registry.register_basic(ctx.session, ctx.person, entity, ctx.now, current)
    co = done.co_registration.entity if done.co_registration else None
    first = relationship_survey.ORDER[0]
    return Step([messages.registered(entity, co),
                 *messages.ask_question(first, entity, [], ctx.token)],
                next=STATE_OF_QUESTION[first],
                data=SurveyDraft(registration=done.registration.id, code=entity.code))


def on_decline(ctx: Context, postback: DeclineRegistration) -> Step:
    return Step(messages.declined())


# The relationship survey: one state per question, each handler told which ---------------------

STATE_OF_QUESTION = {"relationship": RegistrationState.RELATIONSHIP,
                     "frequency": RegistrationState.FREQUENCY,
                     "helping": RegistrationState.HELPING}


def ask_survey(question: str, ctx: Context) -> list:
    draft = ctx.draft(SurveyDraft)
    entity = entities.by_code(ctx.session, draft.code)
    return messages.ask_question(question, entity, draft.chosen, ctx.token)


def on_answer(question: str, ctx: Context, postback: Answer) -> Step:
    asked = relationship_survey.QUESTIONS[question]
    if postback.q != question or (not asked.multiple and postback.v not in asked.choices):
        return Step.staying(ask_survey(question, ctx))  # a button of another question
    if not asked.multiple:
        return advance(ctx, question, [postback.v])
    draft = ctx.draft(SurveyDraft)
    draft.chosen = relationship_survey.toggle(draft.chosen, asked, postback.v)
    entity = entities.by_code(ctx.session, draft.code)
    return Step(messages.ask_question(question, entity, draft.chosen, ctx.token),
                next=STATE_OF_QUESTION[question], data=draft)


def on_next(question: str, ctx: Context, postback: NextQuestion) -> Step:
    if postback.q != question:
        return Step.staying(ask_survey(question, ctx))
    return advance(ctx, question, [] if postback.skip else ctx.draft(SurveyDraft).chosen)


def on_survey_text(question: str, ctx: Context, typed: Text) -> Step | None:
    """A choice's label typed answers as its button; anything else is re-asked."""
    for value in relationship_survey.QUESTIONS[question].choices:
        if messages.choice_label(question, value) == typed.text.strip():
            return on_answer(question, ctx, Answer(question, value, ctx.token))
    return None


def advance(ctx: Context, question: str, chosen: list[str]) -> Step:
    """Save this answer (an empty one means skipped) and ask the next question."""
    draft = ctx.draft(SurveyDraft)
    if chosen:
        registry.save_answers(ctx.session, draft.registration, question, chosen, ctx.now)
    following = relationship_survey.next_question(question)
    if following is None:
        return residence_steps.ask(ctx, after_registration=draft.registration)
    entity = entities.by_code(ctx.session, draft.code)
    draft.chosen = []
    return Step(messages.ask_question(following, entity, [], ctx.token),
                next=STATE_OF_QUESTION[following], data=draft)
