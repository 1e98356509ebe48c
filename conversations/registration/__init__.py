"""Basic registration at a municipality or prefecture, and the relationship survey (R1–R3)."""

from functools import partial

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
    RegistrationState,
    SearchPage,
)


def _survey_question(question: str) -> State:
    """One question of the survey: its choices as buttons, or their words typed."""
    return State(partial(steps.ask_survey, question), messages.survey_help,
                 postbacks={Answer: partial(steps.on_answer, question),
                            NextQuestion: partial(steps.on_next, question)},
                 on_text=partial(steps.on_survey_text, question))


REGISTRATION = Conversation(
    name="registration",
    commands=(Command((N_("登録"), N_("登録する"), N_("ほかにも登録する")), steps.start),),
    states={
        RegistrationState.SEARCH: State(
            steps.ask_where, messages.where_help,
            postbacks={ListPrefectures: steps.on_list_prefectures,
                       ListInPrefecture: steps.on_list_in_prefecture,
                       SearchPage: steps.on_search_page, PickEntity: steps.on_pick},
            on_text=steps.on_search_text, on_location=steps.on_search_location),
        # The confirmation takes only its buttons: anything typed is re-asked.
        RegistrationState.CONFIRM: State(
            steps.ask_confirm, messages.confirm_help,
            postbacks={ConfirmRegistration: steps.on_confirm, DeclineRegistration: steps.on_decline}),
        RegistrationState.RELATIONSHIP: _survey_question("relationship"),
        RegistrationState.FREQUENCY: _survey_question("frequency"),
        RegistrationState.HELPING: _survey_question("helping"),
    },
)
