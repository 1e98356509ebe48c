"""The residence question (R9)."""

from conversations.engine import Conversation, State
from conversations.residence import messages, steps
from conversations.residence.states import PickHome, ResidenceState, SkipHome

RESIDENCE = Conversation(
    name="residence",
    states={
        ResidenceState.SEARCH: State(
            steps.home_question, messages.home_help,
            postbacks={PickHome: steps.on_pick, SkipHome: steps.on_skip},
            on_text=steps.on_search_text, on_location=steps.on_search_location),
    },
)
