"""Registration's steps: each reads a turn and returns a Step; nothing is sent from here."""

from __future__ import annotations

from bot.domain import relationship_survey
from bot.domain.registration import Refusal
from bot.services import entities, registrations
from bot.store.models import Entity, Registration
from conversations.engine import Context, Location, Step, Text, Turn
from conversations.registration import messages
from conversations.registration.states import (
    Answer,
    ConfirmRegistration,
    DeclineRegistration,
    ListInPrefecture,
    ListPrefectures,
    NextQuestion,
    PickEntity,
    Reg,
    SearchPage,
)
from conversations.residence import steps as residence_steps


def start(ctx: Context) -> Step:
    ctx.restart()
    return Step(messages.ask_where(ctx.token), next=Reg.SEARCH)


def on_search(ctx: Context, turn: Turn) -> Step | None:
    if isinstance(turn, Text):
        found = entities.search(ctx.session, turn.text)
        if not found:
            return Step(messages.no_match(turn.text, ctx.token), next=Reg.SEARCH)
        if len(found) == 1:
            return pick(ctx, found[0])
        return Step(messages.candidates(found, 0, ctx.token), next=Reg.SEARCH,
                    data={"query": turn.text[:100]})
    if isinstance(turn, Location):
        found = entities.nearest_participating(ctx.session, turn.latitude, turn.longitude)
        return Step(messages.nearby(found, ctx.token), next=Reg.SEARCH)
    return None


def on_search_page(ctx: Context, postback: SearchPage) -> Step:
    query = ctx.data.get("query")
    if ctx.state_name != Reg.SEARCH or not query:
        return start(ctx)
    found = entities.search(ctx.session, query)
    return Step(messages.candidates(found, postback.page, ctx.token), next=Reg.SEARCH,
                data=ctx.data)


def on_list_prefectures(ctx: Context, postback: ListPrefectures) -> Step:
    found = entities.prefectures_with_participants(ctx.session)
    return Step(messages.prefectures(found, postback.page, ctx.token), next=Reg.SEARCH)


def on_list_in_prefecture(ctx: Context, postback: ListInPrefecture) -> Step:
    prefecture = entities.by_code(ctx.session, postback.code)
    if prefecture is None or not prefecture.is_prefecture:
        return on_list_prefectures(ctx, ListPrefectures(0, postback.t))
    found = entities.participating_in(ctx.session, prefecture.code)
    return Step(messages.in_prefecture(prefecture, found, postback.page, ctx.token),
                next=Reg.SEARCH)


def on_pick(ctx: Context, postback: PickEntity) -> Step:
    entity = entities.by_code(ctx.session, postback.code)
    if entity is None:  # not a code we offered: the question on screen stays open
        return Step.staying(ctx.current.prompt(ctx))
    return pick(ctx, entity)


def pick(ctx: Context, entity: Entity, current: list[Registration] | None = None) -> Step:
    """Offer to register at `entity`; `current`: the person's active registrations if read."""
    if current is None:
        current = registrations.active(ctx.session, ctx.person)
    refusal = registrations.refusal(entity, current)
    if refusal is Refusal.NOT_PARTICIPATING:
        return Step(messages.not_participating(entity, ctx.token), next=Reg.SEARCH)
    if refusal is Refusal.ALREADY_REGISTERED:
        return Step(messages.already_registered(entity))
    prefecture = None
    if not entity.is_prefecture:
        candidate = entities.prefecture_of(ctx.session, entity)
        held = registrations.held(current)
        if candidate.participating and not any(h.code == candidate.code for h in held):
            prefecture = candidate
    return Step(messages.confirm_registration(entity, prefecture, ctx.token),
                next=Reg.CONFIRM, data={"code": entity.code})


def on_confirm(ctx: Context, postback: ConfirmRegistration) -> Step:
    if ctx.state_name != Reg.CONFIRM or ctx.data.get("code") != postback.code:
        return ask_again(ctx)  # e.g. "登録する" tapped twice: say where we are now
    entity = entities.by_code(ctx.session, postback.code)
    if entity is None:
        return start(ctx)
    current = registrations.active(ctx.session, ctx.person)
    if registrations.refusal(entity, current) is not None:
        return pick(ctx, entity, current)  # explains why, as a fresh pick would
    done = registrations.register_basic(ctx.session, ctx.person, entity, ctx.now, current)
    co = done.co_registration.entity if done.co_registration else None
    data = {"registration": done.registration.id, "code": entity.code, "chosen": []}
    first = relationship_survey.ORDER[0]
    return Step([messages.registered(entity, co),
                 *messages.ask_question(first, entity, [], ctx.token)],
                next=Reg.RELATIONSHIP, data=data)


def on_decline(ctx: Context, postback: DeclineRegistration) -> Step:
    return Step(messages.declined())


STATE_OF_QUESTION = {"relationship": Reg.RELATIONSHIP, "frequency": Reg.FREQUENCY,
                     "helping": Reg.HELPING}


def on_answer(ctx: Context, postback: Answer) -> Step:
    question = relationship_survey.QUESTIONS.get(postback.q)
    if question is None or ctx.state_name != STATE_OF_QUESTION[question.code]:
        return ask_again(ctx)
    if question.multiple:
        chosen = relationship_survey.toggle(ctx.data.get("chosen", []), question, postback.v)
        entity = entities.by_code(ctx.session, ctx.data["code"])
        return Step(messages.ask_question(question.code, entity, chosen, ctx.token),
                    next=ctx.state_name, data={**ctx.data, "chosen": chosen})
    if postback.v not in question.choices:
        return ask_again(ctx)
    return advance(ctx, question.code, [postback.v])


def on_next(ctx: Context, postback: NextQuestion) -> Step:
    question = relationship_survey.QUESTIONS.get(postback.q)
    if question is None or ctx.state_name != STATE_OF_QUESTION[question.code]:
        return ask_again(ctx)
    chosen = [] if postback.skip else ctx.data.get("chosen", [])
    return advance(ctx, question.code, chosen)


def advance(ctx: Context, code: str, chosen: list[str]) -> Step:
    """Save this answer (an empty one means skipped) and ask the next question."""
    registration_id = ctx.data["registration"]
    if chosen:
        registrations.save_answers(ctx.session, registration_id, code, chosen, ctx.now)
    following = relationship_survey.next_question(code)
    if following is None:
        return residence_steps.ask(ctx, after_registration=registration_id)
    entity = entities.by_code(ctx.session, ctx.data["code"])
    return Step(messages.ask_question(following, entity, [], ctx.token),
                next=STATE_OF_QUESTION[following], data={**ctx.data, "chosen": []})


def ask_again(ctx: Context) -> Step:
    """Repeat the current question (after an old button, odd input or help)."""
    return Step.staying(prompt(ctx))


def prompt(ctx: Context) -> list:
    name = ctx.state_name
    if name == Reg.SEARCH:
        return messages.ask_where(ctx.token)
    if name == Reg.CONFIRM:
        entity = entities.by_code(ctx.session, ctx.data["code"])
        return messages.confirm_registration(entity, None, ctx.token)
    code = next(q for q, state in STATE_OF_QUESTION.items() if state == name)
    entity = entities.by_code(ctx.session, ctx.data["code"])
    return messages.ask_question(code, entity, ctx.data.get("chosen", []), ctx.token)


def on_question_input(ctx: Context, turn: Turn) -> Step | None:
    """Typed text during a question: answers with that label count, the rest is re-asked."""
    if not isinstance(turn, Text):
        return None
    code = next(q for q, state in STATE_OF_QUESTION.items() if state == ctx.state_name)
    for value in relationship_survey.QUESTIONS[code].choices:
        if messages.choice_label(code, value) == turn.text.strip():
            return on_answer(ctx, Answer(code, value, ctx.token))
    return None
