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
        Reg.SEARCH: State(steps.on_search, steps.prompt, messages.where_help),
        Reg.CONFIRM: State(_buttons_only, steps.prompt, messages.confirm_help),
        Reg.RELATIONSHIP: State(steps.on_question_input, steps.prompt, messages.survey_help),
        Reg.FREQUENCY: State(steps.on_question_input, steps.prompt, messages.survey_help),
        Reg.HELPING: State(steps.on_question_input, steps.prompt, messages.survey_help),
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
