"""Monitor survey steps: staff write, send, list, close and read surveys; residents answer.

Every staff step that touches a survey finds it through the person's staff roles, so staff of
A never reach B's surveys (SPEC §5). Residents reach a survey only from its invitation button,
and only if it was sent to them (`monitor_surveys.refusal`).
"""

from __future__ import annotations

from bot.delivery import broadcasts
from bot.domain import monitor_surveys as rules
from bot.domain.audience import KINDS
from bot.domain.audience import Audience as Who
from bot.domain.relationship_survey import RELATIONSHIP, toggle
from bot.i18n import _, fold, typed_as
from bot.services import audience, downloads, monitor_surveys, staff
from bot.store.models import Entity, MonitorQuestion, MonitorResponse, MonitorSurvey, Staff, SurveyStatus
from conversations.broadcast.steps import find_prefectures
from conversations.engine import Context, Step, Text, Turn
from conversations.menu import messages as menu_messages
from conversations.monitor import messages
from conversations.monitor.states import (
    Answering,
    Close,
    ConfirmClose,
    KeepOpen,
    Monitor,
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
    SurveyFor,
    TiesPicked,
)
from conversations.staff import messages as staff_messages
from conversations.staff.roles import acting

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
    return Step(messages.ask_title(role.entity), next=Monitor.TITLE,
                data={"entity": role.entity.code, "questions": []})


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


def _entity(ctx: Context) -> Entity | None:
    """The entity of what is being written, while the person is still its staff."""
    role = staff.role_at(ctx.session, ctx.person, ctx.data.get("entity", ""))
    return role.entity if role else None


def _owned(ctx: Context, survey_id: int) -> MonitorSurvey | None:
    """The survey if the person is staff of its entity, else None."""
    for role in staff.roles_of(ctx.session, ctx.person):
        found = monitor_surveys.find(ctx.session, role.entity, survey_id)
        if found is not None:
            return found
    return None


# Writing the questions -------------------------------------------------------------------------

def _questions(data: dict) -> list[rules.Question]:
    return [rules.Question(rules.Kind(q["kind"]), q["text"], tuple(q["choices"]))
            for q in data["questions"]]


def on_title(ctx: Context, turn: Turn) -> Step | None:
    if not isinstance(turn, Text):
        return None
    title = rules.clean(turn.text)
    if not 0 < len(title) <= rules.MAX_TITLE:
        return Step.staying(messages.title_problem())
    return Step(messages.ask_kind(1, ctx.token), next=Monitor.KIND, data={**ctx.data, "title": title})


def on_kind(ctx: Context, postback: PickKind) -> Step:
    if ctx.state_name != Monitor.KIND or postback.k not in set(rules.Kind):
        return ask_again(ctx)
    number = len(ctx.data["questions"]) + 1
    return Step(messages.ask_question(number, postback.k), next=Monitor.QUESTION,
                data={**ctx.data, "kind": postback.k})


def on_question(ctx: Context, turn: Turn) -> Step | None:
    if not isinstance(turn, Text):
        return None
    typed = rules.clean(turn.text)
    if not 0 < len(typed) <= rules.MAX_QUESTION_TEXT:
        return Step.staying(messages.question_problem())
    kind = rules.Kind(ctx.data["kind"])
    if kind.has_choices:
        return Step(messages.ask_choices(), next=Monitor.CHOICES, data={**ctx.data, "text": typed})
    return _add(ctx, rules.Question(kind, typed))


def on_choices(ctx: Context, turn: Turn) -> Step | None:
    if not isinstance(turn, Text):
        return None
    choices = rules.parse_choices(turn.text)
    if isinstance(choices, rules.ChoiceProblem):
        return Step.staying(messages.choices_problem(choices))
    return _add(ctx, rules.Question(rules.Kind(ctx.data["kind"]), ctx.data["text"], choices))


def _add(ctx: Context, question: rules.Question) -> Step:
    data = {key: value for key, value in ctx.data.items() if key not in ("kind", "text")}
    data["questions"] = [*data["questions"], {"kind": question.kind.value, "text": question.text,
                                              "choices": list(question.choices)}]
    return Step(messages.ask_more(data["title"], _questions(data), ctx.token), next=Monitor.MORE,
                data=data)


def on_more(ctx: Context, postback: MoreQuestions) -> Step:
    if ctx.state_name != Monitor.MORE:
        return ask_again(ctx)
    count = len(ctx.data["questions"])
    if postback.add and count < rules.MAX_QUESTIONS:
        return Step(messages.ask_kind(count + 1, ctx.token), next=Monitor.KIND, data=ctx.data)
    entity = _entity(ctx)
    if entity is None:
        return Step(staff_messages.staff_only())
    survey = monitor_surveys.create(ctx.session, entity, ctx.data["title"], _questions(ctx.data), ctx.now,
                            by=ctx.person)
    return Step(messages.preview(survey, ctx.token), next=Monitor.PREVIEW,
                data={"entity": entity.code, "survey": survey.id})


# Who receives it -------------------------------------------------------------------------------

def _draft(ctx: Context) -> MonitorSurvey | None:
    """The draft being sent, while the person is staff of its entity."""
    survey = _owned(ctx, ctx.data.get("survey", 0))
    return survey if survey is not None and survey.status == SurveyStatus.DRAFT else None


def on_send(ctx: Context, postback: Send) -> Step:
    if ctx.state_name != Monitor.PREVIEW:
        return ask_again(ctx)
    return Step(messages.ask_audience(ctx.token), next=Monitor.AUDIENCE, data=ctx.data)


def on_send_draft(ctx: Context, postback: SendDraft) -> Step:
    if not staff.roles_of(ctx.session, ctx.person):
        return Step(staff_messages.staff_only())
    survey = _owned(ctx, postback.id)
    if survey is None:
        return Step(messages.not_found())
    if survey.status != SurveyStatus.DRAFT:
        return Step(messages.not_a_draft(survey))
    ctx.restart()
    return Step(messages.ask_audience(ctx.token), next=Monitor.AUDIENCE,
                data={"entity": survey.entity.code, "survey": survey.id})


def on_audience(ctx: Context, postback: PickAudience) -> Step:
    if ctx.state_name != Monitor.AUDIENCE:
        return ask_again(ctx)
    if postback.kind == "ties":
        return Step(messages.ask_ties([], ctx.token), next=Monitor.TIES, data={**ctx.data, "ties": []})
    if postback.kind == "home":
        return Step(messages.ask_prefectures(), next=Monitor.PREFECTURES, data=ctx.data)
    kinds = {"all": KINDS, "basic": ("basic",), "premium": ("premium",)}.get(postback.kind)
    if kinds is None:
        return ask_again(ctx)
    return _confirm(ctx, Who(tuple(kinds)))


def on_tie(ctx: Context, postback: PickTie) -> Step:
    if ctx.state_name != Monitor.TIES:
        return ask_again(ctx)
    chosen = toggle(ctx.data.get("ties", []), RELATIONSHIP, postback.v)
    return Step(messages.ask_ties(chosen, ctx.token), next=Monitor.TIES,
                data={**ctx.data, "ties": chosen})


def on_ties_picked(ctx: Context, postback: TiesPicked) -> Step:
    if ctx.state_name != Monitor.TIES:
        return ask_again(ctx)
    ties = ctx.data.get("ties", [])
    if not ties:
        return ask_again(ctx)
    return _confirm(ctx, Who(relationships=tuple(ties)))


def on_prefectures(ctx: Context, turn: Turn) -> Step | None:
    if not isinstance(turn, Text):
        return None
    codes = find_prefectures(turn.text)
    if not codes:
        return Step.staying(messages.no_prefecture_found())
    return _confirm(ctx, Who(prefectures=tuple(codes)))


def _confirm(ctx: Context, who: Who) -> Step:
    survey = _draft(ctx)
    if survey is None:
        return Step(messages.not_found())
    count = audience.count(ctx.session, survey.entity, who)
    return Step(messages.confirm_send(survey, who, count, ctx.token), next=Monitor.CONFIRM,
                data={**ctx.data, "who": who.to_json()})


def on_send_now(ctx: Context, postback: SendNow) -> Step:
    if ctx.state_name != Monitor.CONFIRM:
        return ask_again(ctx)
    survey = _draft(ctx)
    if survey is None:
        return Step(messages.not_found())
    who = Who.from_json(ctx.data["who"])
    monitor_surveys.open_survey(survey, who, ctx.now)
    broadcasts.create(ctx.session, survey.entity, [messages.invitation(survey).to_dict()],
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
    return Step(messages.confirm_close(survey, ctx.token), next=Monitor.CLOSE,
                data={"survey": survey.id})


def on_confirm_close(ctx: Context, postback: ConfirmClose) -> Step:
    if ctx.state_name != Monitor.CLOSE or ctx.data.get("survey") != postback.id:
        return ask_again(ctx)
    survey = _owned(ctx, postback.id)
    if survey is None:
        return Step(messages.not_found())
    monitor_surveys.close(survey)
    return Step(messages.closed(survey))


def on_keep_open(ctx: Context, postback: KeepOpen) -> Step:
    return Step(messages.kept_open())


# Answering -------------------------------------------------------------------------------------

STATE_OF_KIND = {rules.Kind.SINGLE: Answering.CHOICE, rules.Kind.RATING: Answering.CHOICE,
                 rules.Kind.MULTIPLE: Answering.MULTIPLE, rules.Kind.TEXT: Answering.TEXT}


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
    if ctx.state_name in set(Answering) and ctx.data.get("response") == outcome.id:
        return Step.staying(prompt(ctx))  # tapped again while answering: the same question
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
                data={"survey": survey.id, "response": response.id, "q": question.id, "chosen": []})


def _asked(ctx: Context) -> tuple[MonitorSurvey, MonitorResponse, MonitorQuestion]:
    """The survey, response and question the person is answering now."""
    survey = ctx.session.get(MonitorSurvey, ctx.data["survey"])
    response = ctx.session.get(MonitorResponse, ctx.data["response"])
    question = next(q for q in survey.questions if q.id == ctx.data["q"])
    return survey, response, question


def _is_current(ctx: Context, question_id: int) -> bool:
    """An answer to the question asked now (not to an earlier one whose button is still there)."""
    return ctx.state_name in set(Answering) and ctx.data.get("q") == question_id


def on_pick(ctx: Context, postback: Pick) -> Step:
    if not _is_current(ctx, postback.q):
        return ask_again(ctx)
    survey, response, question = _asked(ctx)
    rule = monitor_surveys.rule(question)
    if rule.kind == rules.Kind.MULTIPLE:
        chosen = rules.toggle(ctx.data["chosen"], rule, postback.v)
        return Step(messages.ask(question, len(survey.questions), chosen, ctx.token),
                    next=ctx.state_name, data={**ctx.data, "chosen": chosen})
    value = rules.encode(rule, postback.v)
    if value is None:
        return ask_again(ctx)
    return _advance(ctx, value)


def on_next(ctx: Context, postback: NextQuestion) -> Step:
    if not _is_current(ctx, postback.q):
        return ask_again(ctx)
    _survey, _response, question = _asked(ctx)
    chosen = [] if postback.skip else ctx.data["chosen"]
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


def on_choice_input(ctx: Context, turn: Turn) -> Step | None:
    if not isinstance(turn, Text):
        return None
    if typed_as(turn.text, "スキップ"):
        return _advance(ctx, None)
    _survey, _response, question = _asked(ctx)
    index = _typed_choice(question, turn.text)
    return on_pick(ctx, Pick(question.id, index, ctx.token)) if index is not None else None


def on_text_answer(ctx: Context, turn: Turn) -> Step | None:
    if not isinstance(turn, Text) or not turn.text.strip():
        return None
    if typed_as(turn.text, "スキップ"):
        return _advance(ctx, None)
    _survey, _response, question = _asked(ctx)
    # Longer text is cut, as the hint says (the webhook reads no more than this anyway).
    typed = turn.text.strip()[:rules.MAX_FREE_TEXT]
    return _advance(ctx, rules.encode(monitor_surveys.rule(question), typed))


# Asking again ----------------------------------------------------------------------------------

def buttons_only(ctx: Context, turn: Turn) -> Step | None:
    return None


def ask_again(ctx: Context) -> Step:
    """Repeat the question of the state the person is in (an old button, a tap out of turn)."""
    if ctx.current is None:  # a state this version no longer has
        return Step(menu_messages.not_understood(None))
    return Step.staying(ctx.current.prompt(ctx))


def prompt(ctx: Context) -> list:
    """The question of the state the person is in, asked again."""
    name = ctx.state_name
    if name in set(Answering):
        survey, _response, question = _asked(ctx)
        return messages.ask(question, len(survey.questions), ctx.data["chosen"], ctx.token)
    if name == Monitor.CLOSE:
        survey = _owned(ctx, ctx.data["survey"])
        return messages.confirm_close(survey, ctx.token) if survey else messages.not_found()
    return _writing_prompt(ctx, name)


def _writing_prompt(ctx: Context, name: str) -> list:
    data = ctx.data
    if name in (Monitor.PREVIEW, Monitor.AUDIENCE, Monitor.TIES, Monitor.PREFECTURES,
                Monitor.CONFIRM):
        return _sending_prompt(ctx, name)
    entity = _entity(ctx)
    if entity is None:
        return staff_messages.staff_only()
    number = len(data["questions"]) + 1
    if name == Monitor.TITLE:
        return messages.ask_title(entity)
    if name == Monitor.KIND:
        return messages.ask_kind(number, ctx.token)
    if name == Monitor.QUESTION:
        return messages.ask_question(number, data["kind"])
    if name == Monitor.CHOICES:
        return messages.ask_choices()
    return messages.ask_more(data["title"], _questions(data), ctx.token)


def _sending_prompt(ctx: Context, name: str) -> list:
    survey = _draft(ctx)
    if survey is None:
        return messages.not_found()
    if name == Monitor.PREVIEW:
        return messages.preview(survey, ctx.token)
    if name == Monitor.AUDIENCE:
        return messages.ask_audience(ctx.token)
    if name == Monitor.TIES:
        return messages.ask_ties(ctx.data.get("ties", []), ctx.token)
    if name == Monitor.PREFECTURES:
        return messages.ask_prefectures()
    who = Who.from_json(ctx.data["who"])
    return messages.confirm_send(survey, who, audience.count(ctx.session, survey.entity, who),
                                 ctx.token)
