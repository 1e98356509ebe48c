"""The residence question (R9)."""

from conversations.engine import Conversation, State
from conversations.residence import messages, steps
from conversations.residence.states import Home, PickHome, SkipHome

RESIDENCE = Conversation(
    name="residence",
    states={Home.SEARCH: State(steps.prompt, messages.home_help, on_input=steps.on_search)},
    postbacks={PickHome: steps.on_pick, SkipHome: steps.on_skip},
)
