"""Basic registration at a municipality or prefecture, and the relationship survey (R1–R3)."""

from bot.i18n import N_
from conversations.engine import Command, Conversation, State
from conversations.registration import messages, steps
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


def _buttons_only(ctx, turn):
    return None  # a confirmation is answered with its buttons; anything else is re-asked


REGISTRATION = Conversation(
    name="registration",
    commands=(Command((N_("登録"), N_("登録する"), N_("ほかにも登録する")), steps.start),),
    states={
        Reg.SEARCH: State(steps.prompt, messages.where_help, on_input=steps.on_search),
        Reg.CONFIRM: State(steps.prompt, messages.confirm_help, on_input=_buttons_only),
        Reg.RELATIONSHIP: State(steps.prompt, messages.survey_help, on_input=steps.on_question_input),
        Reg.FREQUENCY: State(steps.prompt, messages.survey_help, on_input=steps.on_question_input),
        Reg.HELPING: State(steps.prompt, messages.survey_help, on_input=steps.on_question_input),
    },
    postbacks={
        ListPrefectures: steps.on_list_prefectures,
        ListInPrefecture: steps.on_list_in_prefecture,
        SearchPage: steps.on_search_page,
        PickEntity: steps.on_pick,
        ConfirmRegistration: steps.on_confirm,
        DeclineRegistration: steps.on_decline,
        Answer: steps.on_answer,
        NextQuestion: steps.on_next,
    },
)
