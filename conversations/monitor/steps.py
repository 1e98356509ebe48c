"""Monitor survey steps: staff write, send, list, close and read surveys; residents answer.

Every staff step that touches a survey finds it through the person's staff roles, so staff of
A never reach B's surveys (Authorisation, docs/rules.md). Residents reach a survey only from
its invitation button, and only if it was sent to them (`monitor_surveys.refusal`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import wraps

from linebot.v3.messaging.models import Message

from bot.delivery import fanout
from bot.domain import monitor_surveys as rules
from bot.domain.audience import Audience
from bot.domain.relationship_survey import RELATIONSHIP, toggle
from bot.i18n import _, fold, typed_as
from bot.services import audience, downloads, monitor_surveys, staff
from bot.store.models import Entity, MonitorQuestion, MonitorResponse, MonitorSurvey, Staff, SurveyStatus
from conversations import audience_choice
from conversations.engine import Context, Step, Text
from conversations.menu import messages as menu_messages
from conversations.monitor import messages
from conversations.monitor.draft import SurveyAnswering, SurveySending, SurveyWriting
from conversations.monitor.states import (
    Close,
    ConfirmClose,
    KeepOpen,
    MoreQuestions,
    NextQuestion,
    Pick,
    PickAudience,
    PickKind,
    PickTie,
    Send,
    SendDraft,
    SendNow,
    ShowResults,
    StartAnswering,
    SurveyAnsweringState,
    SurveyFor,
    SurveyWritingState,
    TiesPicked,
)
from conversations.staff import messages as staff_messages
from conversations.staff.roles import acting, asked_of_staff

#: How long the CSV link in the results works.
CSV_LINK_SECONDS = 3600


# Which entity ----------------------------------------------------------------------------------

def _choose(action: str):
    return lambda roles: messages.choose_entity(roles, action)


def start(ctx: Context, code: str | None = None) -> Step:
    role = acting(ctx, code, _choose("new"))
    if not isinstance(role, Staff):
        return role
    ctx.restart()
    return Step(messages.ask_title(role.entity), next=SurveyWritingState.TITLE,
                data=SurveyWriting(role.entity.code))


def survey_list(ctx: Context, code: str | None = None) -> Step:
    role = acting(ctx, code, _choose("list"))
    if not isinstance(role, Staff):
        return role
    found = monitor_surveys.of_entity(ctx.session, role.entity)
    counts = monitor_surveys.completed_counts(ctx.session, [s.id for s in found])
    return Step(messages.survey_list(role.entity, found, counts))


def on_for(ctx: Context, postback: SurveyFor) -> Step:
    chosen = {"list": survey_list, "new": start}.get(postback.a)
    if chosen is None:  # not a button we made; a draft in progress stays as it is
        return Step.staying(menu_messages.unknown_button())
    return chosen(ctx, postback.code)


def _owned(ctx: Context, survey_id: int) -> MonitorSurvey | None:
    """The survey if the person is staff of its entity, else None."""
    for role in staff.roles_of(ctx.session, ctx.person):
        found = monitor_surveys.find(ctx.session, role.entity, survey_id)
        if found is not None:
            return found
    return None


# Writing the questions -------------------------------------------------------------------------

def _entity(ctx: Context, draft: SurveyWriting) -> Entity | None:
    """The entity of the survey being written, while the person is still its staff."""
    role = staff.role_at(ctx.session, ctx.person, draft.entity)
    return role.entity if role else None


@asked_of_staff(SurveyWriting)
def ask_title(ctx: Context, draft: SurveyWriting, entity: Entity) -> list[Message]:
    return messages.ask_title(entity)


@asked_of_staff(SurveyWriting)
def ask_kind(ctx: Context, draft: SurveyWriting, entity: Entity) -> list[Message]:
    return messages.ask_kind(len(draft.questions) + 1, ctx.token)


@asked_of_staff(SurveyWriting)
def ask_question(ctx: Context, draft: SurveyWriting, entity: Entity) -> list[Message]:
    return messages.ask_question(len(draft.questions) + 1, draft.kind)


@asked_of_staff(SurveyWriting)
def ask_choices(ctx: Context, draft: SurveyWriting, entity: Entity) -> list[Message]:
    return messages.ask_choices()


@asked_of_staff(SurveyWriting)
def ask_more(ctx: Context, draft: SurveyWriting, entity: Entity) -> list[Message]:
    return messages.ask_more(draft.title, draft.written, ctx.token)


def on_title(ctx: Context, turn: Text) -> Step:
    title = rules.clean(turn.text)
    if not 0 < len(title) <= rules.MAX_TITLE:
        return Step.staying(messages.title_problem())
    return Step(messages.ask_kind(1, ctx.token), next=SurveyWritingState.KIND,
                data=replace(ctx.draft(SurveyWriting), title=title))


def on_kind(ctx: Context, postback: PickKind) -> Step:
    if postback.k not in set(rules.Kind):
        return Step.staying(ask_kind(ctx))
    draft = ctx.draft(SurveyWriting)
    return Step(messages.ask_question(len(draft.questions) + 1, postback.k),
                next=SurveyWritingState.QUESTION, data=replace(draft, kind=postback.k))


def on_question(ctx: Context, turn: Text) -> Step:
    typed = rules.clean(turn.text)
    if not 0 < len(typed) <= rules.MAX_QUESTION_TEXT:
        return Step.staying(messages.question_problem())
    draft = ctx.draft(SurveyWriting)
    kind = rules.Kind(draft.kind)
    if kind.has_choices:
        return Step(messages.ask_choices(), next=SurveyWritingState.CHOICES,
                    data=replace(draft, text=typed))
    return _add(ctx, draft, rules.Question(kind, typed))


def on_choices(ctx: Context, turn: Text) -> Step:
    choices = rules.parse_choices(turn.text)
    if isinstance(choices, rules.ChoiceProblem):
        return Step.staying(messages.choices_problem(choices))
    draft = ctx.draft(SurveyWriting)
    return _add(ctx, draft, rules.Question(rules.Kind(draft.kind), draft.text, choices))


def _add(ctx: Context, draft: SurveyWriting, question: rules.Question) -> Step:
    draft = draft.adding(question)
    return Step(messages.ask_more(draft.title, draft.written, ctx.token), next=SurveyWritingState.MORE,
                data=draft)


def on_more(ctx: Context, postback: MoreQuestions) -> Step:
    draft = ctx.draft(SurveyWriting)
    count = len(draft.questions)
    if postback.add and count < rules.MAX_QUESTIONS:
        return Step(messages.ask_kind(count + 1, ctx.token), next=SurveyWritingState.KIND, data=draft)
    entity = _entity(ctx, draft)
    if entity is None:
        return Step(staff_messages.staff_only())
    survey = monitor_surveys.create(ctx.session, entity, draft.title, draft.written, ctx.now,
                                    by=ctx.person)
    return Step(messages.preview(survey, ctx.token), next=SurveyWritingState.PREVIEW,
                data=SurveySending(survey.id))


# Who receives it -------------------------------------------------------------------------------

def _draft(ctx: Context, sending: SurveySending) -> MonitorSurvey | None:
    """The saved draft being sent, while the person is staff of its entity."""
    survey = _owned(ctx, sending.survey)
    return survey if survey is not None and survey.status == SurveyStatus.DRAFT else None


def _sending(ask: Callable[[Context, SurveySending, MonitorSurvey], list[Message]]):
    """A sending step's question, asked again while the draft is still there to send."""
    @wraps(ask)
    def prompt(ctx: Context) -> list[Message]:
        sending = ctx.draft(SurveySending)
        survey = _draft(ctx, sending)
        return ask(ctx, sending, survey) if survey is not None else messages.not_found()
    return prompt


@_sending
def show_preview(ctx: Context, sending: SurveySending, survey: MonitorSurvey) -> list[Message]:
    return messages.preview(survey, ctx.token)


@_sending
def ask_audience(ctx: Context, sending: SurveySending, survey: MonitorSurvey) -> list[Message]:
    return messages.ask_audience(ctx.token)


@_sending
def ask_ties(ctx: Context, sending: SurveySending, survey: MonitorSurvey) -> list[Message]:
    return messages.ask_ties(sending.ties, ctx.token)


@_sending
def ask_prefectures(ctx: Context, sending: SurveySending, survey: MonitorSurvey) -> list[Message]:
    return messages.ask_prefectures()


@_sending
def confirm_send(ctx: Context, sending: SurveySending, survey: MonitorSurvey) -> list[Message]:
    who = Audience.from_json(sending.who)
    return messages.confirm_send(survey, who, audience.count(ctx.session, survey.entity, who),
                                 ctx.token)


def on_send(ctx: Context, postback: Send) -> Step:
    return Step(messages.ask_audience(ctx.token), next=SurveyWritingState.AUDIENCE,
                data=ctx.draft(SurveySending))


def on_send_draft(ctx: Context, postback: SendDraft) -> Step:
    if not staff.roles_of(ctx.session, ctx.person):
        return Step(staff_messages.staff_only())
    survey = _owned(ctx, postback.id)
    if survey is None:
        return Step(messages.not_found())
    if survey.status != SurveyStatus.DRAFT:
        return Step(messages.not_a_draft(survey))
    ctx.restart()
    return Step(messages.ask_audience(ctx.token), next=SurveyWritingState.AUDIENCE,
                data=SurveySending(survey.id))


def on_audience(ctx: Context, postback: PickAudience) -> Step:
    sending = ctx.draft(SurveySending)
    if postback.kind == "ties":
        return Step(messages.ask_ties([], ctx.token), next=SurveyWritingState.TIES,
                    data=replace(sending, ties=[]))
    if postback.kind == "home":
        return Step(messages.ask_prefectures(), next=SurveyWritingState.PREFECTURES, data=sending)
    who = audience_choice.by_kind(postback.kind)
    if who is None:
        return Step.staying(ask_audience(ctx))
    return _confirm(ctx, sending, who)


def on_tie(ctx: Context, postback: PickTie) -> Step:
    sending = ctx.draft(SurveySending)
    chosen = toggle(sending.ties, RELATIONSHIP, postback.v)
    return Step(messages.ask_ties(chosen, ctx.token), next=SurveyWritingState.TIES,
                data=replace(sending, ties=chosen))


def on_ties_picked(ctx: Context, postback: TiesPicked) -> Step:
    sending = ctx.draft(SurveySending)
    if not sending.ties:
        return Step.staying(ask_ties(ctx))
    return _confirm(ctx, sending, Audience(relationships=tuple(sending.ties)))


def on_prefectures(ctx: Context, turn: Text) -> Step:
    codes = audience_choice.find_prefectures(turn.text)
    if not codes:
        return Step.staying(messages.no_prefecture_found())
    return _confirm(ctx, ctx.draft(SurveySending), Audience(prefectures=tuple(codes)))


def _confirm(ctx: Context, sending: SurveySending, who: Audience) -> Step:
    survey = _draft(ctx, sending)
    if survey is None:
        return Step(messages.not_found())
    count = audience.count(ctx.session, survey.entity, who)
    return Step(messages.confirm_send(survey, who, count, ctx.token), next=SurveyWritingState.CONFIRM,
                data=replace(sending, who=who.to_json()))


def on_send_now(ctx: Context, postback: SendNow) -> Step:
    sending = ctx.draft(SurveySending)
    survey = _draft(ctx, sending)
    if survey is None:
        return Step(messages.not_found())
    who = Audience.from_json(sending.who)
    monitor_surveys.open_survey(survey, who, ctx.now)
    fanout.create(ctx.session, survey.entity, [messages.invitation(survey).to_dict()],
                      _("アンケート：{title}").format(title=survey.title), who, ctx.now, ctx.now,
                      by=ctx.person)
    return Step(messages.sent(survey))


# The list's buttons: results, closing -----------------------------------------------------------

def on_results(ctx: Context, postback: ShowResults) -> Step:
    if not staff.roles_of(ctx.session, ctx.person):
        return Step(staff_messages.staff_only())
    survey = _owned(ctx, postback.id)
    if survey is None:
        return Step(messages.not_found())
    if survey.status == SurveyStatus.DRAFT:
        return Step(messages.not_sent_yet(survey))
    url = downloads.download_url(ctx.config, "survey", survey.entity.code, survey.id,
                                 CSV_LINK_SECONDS, person_id=ctx.person.id)
    return Step(messages.results(monitor_surveys.results(ctx.session, survey), url))


def on_close(ctx: Context, postback: Close) -> Step:
    if not staff.roles_of(ctx.session, ctx.person):
        return Step(staff_messages.staff_only())
    survey = _owned(ctx, postback.id)
    if survey is None:
        return Step(messages.not_found())
    if survey.status != SurveyStatus.OPEN:
        return Step(messages.already_closed(survey))
    ctx.restart()
    return Step(messages.confirm_close(survey, ctx.token), next=SurveyWritingState.CLOSE,
                data={"survey": survey.id})


def ask_close(ctx: Context) -> list[Message]:
    survey = _owned(ctx, ctx.data["survey"])
    return messages.confirm_close(survey, ctx.token) if survey else messages.not_found()


def on_confirm_close(ctx: Context, postback: ConfirmClose) -> Step:
    if ctx.data.get("survey") != postback.id:
        return Step.staying(ask_close(ctx))
    survey = _owned(ctx, postback.id)
    if survey is None:
        return Step(messages.not_found())
    monitor_surveys.close(survey)
    return Step(messages.closed(survey))


def on_keep_open(ctx: Context, postback: KeepOpen) -> Step:
    return Step(messages.kept_open())


# Answering -------------------------------------------------------------------------------------

STATE_OF_KIND = {rules.Kind.SINGLE: SurveyAnsweringState.CHOICE,
                 rules.Kind.RATING: SurveyAnsweringState.CHOICE,
                 rules.Kind.MULTIPLE: SurveyAnsweringState.MULTIPLE,
                 rules.Kind.TEXT: SurveyAnsweringState.TEXT}


def on_start_answering(ctx: Context, postback: StartAnswering) -> Step:
    survey = ctx.session.get(MonitorSurvey, postback.id)
    if (survey is not None and survey.status == SurveyStatus.DRAFT
            and staff.role_at(ctx.session, ctx.person, survey.entity.code)):
        # Its staff tapping the button of the preview.
        here = ctx.current.prompt(ctx) if ctx.current is not None else []
        return Step.staying([*messages.preview_button_tapped(), *here])
    outcome = (monitor_surveys.start(ctx.session, survey, ctx.person, ctx.now) if survey is not None
               else monitor_surveys.Refusal.NOT_OPEN)
    if isinstance(outcome, monitor_surveys.Refusal):
        return Step.staying(messages.refused(outcome, survey))
    if ctx.data.get("response") == outcome.id:  # only the answering steps keep a response
        return Step.staying(ask_current_question(ctx))  # tapped again while answering: the same question
    question = monitor_surveys.next_question(ctx.session, survey, outcome)
    if question is None:  # nothing left after the last answer
        monitor_surveys.complete(outcome, ctx.now)
        return Step(messages.thanks(survey))
    ctx.restart()
    return _ask(ctx, survey, outcome, question, intro=True)


def _ask(ctx: Context, survey: MonitorSurvey, response: MonitorResponse,
         question: MonitorQuestion, intro: bool = False) -> Step:
    asked = messages.ask(question, len(survey.questions), [], ctx.token)
    return Step([messages.started(survey, question), *asked] if intro else asked,
                next=STATE_OF_KIND[rules.Kind(question.kind)],
                data=SurveyAnswering(survey.id, response.id, question.id))


def _asked(ctx: Context) -> tuple[MonitorSurvey, MonitorResponse, MonitorQuestion]:
    """The survey, response and question the person is answering now."""
    answering = ctx.draft(SurveyAnswering)
    survey = ctx.session.get(MonitorSurvey, answering.survey)
    response = ctx.session.get(MonitorResponse, answering.response)
    question = next(q for q in survey.questions if q.id == answering.question)
    return survey, response, question


def ask_current_question(ctx: Context) -> list[Message]:
    """The question being answered, with the choices ticked so far."""
    survey, _response, question = _asked(ctx)
    return messages.ask(question, len(survey.questions), ctx.draft(SurveyAnswering).chosen, ctx.token)


def on_pick(ctx: Context, postback: Pick) -> Step:
    answering = ctx.draft(SurveyAnswering)
    if answering.question != postback.q:  # an earlier question's button, still on screen
        return Step.staying(ask_current_question(ctx))
    survey, _response, question = _asked(ctx)
    rule = monitor_surveys.rule(question)
    if rule.kind == rules.Kind.MULTIPLE:
        chosen = rules.toggle(answering.chosen, rule, postback.v)
        return Step(messages.ask(question, len(survey.questions), chosen, ctx.token),
                    next=SurveyAnsweringState.MULTIPLE, data=replace(answering, chosen=chosen))
    value = rules.encode(rule, postback.v)
    if value is None:
        return Step.staying(ask_current_question(ctx))
    return _advance(ctx, value)


def on_next(ctx: Context, postback: NextQuestion) -> Step:
    answering = ctx.draft(SurveyAnswering)
    if answering.question != postback.q:  # an earlier question's button, still on screen
        return Step.staying(ask_current_question(ctx))
    _survey, _response, question = _asked(ctx)
    chosen = [] if postback.skip else answering.chosen
    return _advance(ctx, rules.encode(monitor_surveys.rule(question), chosen) if chosen else None)


def _advance(ctx: Context, value: str | None) -> Step:
    """Store this answer (None: skipped) and ask the next question, or finish."""
    survey, response, question = _asked(ctx)
    refused = monitor_surveys.refusal(ctx.session, survey, ctx.person)
    if refused is not None:  # closed while they were answering: nothing more is stored
        return Step(messages.refused(refused, survey))
    if value is not None:
        monitor_surveys.save_answer(ctx.session, response, question, value)
    following = monitor_surveys.next_question(ctx.session, survey, response, after=question.position)
    if following is None:
        monitor_surveys.complete(response, ctx.now)
        return Step(messages.thanks(survey))
    return _ask(ctx, survey, response, following)


def _typed_choice(question: MonitorQuestion, typed: str) -> int | None:
    """A choice typed instead of tapped: its index, or the rating typed as 1–5."""
    folded = fold(typed)
    if question.kind == rules.Kind.RATING:
        return int(folded) if folded in {str(r) for r in rules.RATINGS} else None
    return next((i for i, choice in enumerate(question.choices) if fold(choice) == folded), None)


def on_choice_typed(ctx: Context, turn: Text) -> Step | None:
    if typed_as(turn.text, "スキップ"):
        return _advance(ctx, None)
    _survey, _response, question = _asked(ctx)
    index = _typed_choice(question, turn.text)
    return on_pick(ctx, Pick(question.id, index, ctx.token)) if index is not None else None


def on_text_answer(ctx: Context, turn: Text) -> Step | None:
    if not turn.text.strip():
        return None
    if typed_as(turn.text, "スキップ"):
        return _advance(ctx, None)
    _survey, _response, question = _asked(ctx)
    # Longer text is cut, as the hint says (the webhook reads no more than this anyway).
    typed = turn.text.strip()[:rules.MAX_FREE_TEXT]
    return _advance(ctx, rules.encode(monitor_surveys.rule(question), typed))
