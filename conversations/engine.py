"""Dialogues as tables (python-telegram-bot's ConversationHandler, aiogram's string states).

A conversation declares its entry points, its states and the postbacks it answers. A step
returns what should happen — replies and the next state — and never sends anything itself:
the handler commits the new state with the domain change, then replies.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from linebot.v3.messaging.models import Message
from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bot.i18n import fold, typed_forms
from bot.store.driver_sql import DriverStatement
from bot.store.models import Person
from conversations.postback import Postback

# What the person did ------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    address: str | None = None


@dataclass(frozen=True)
class Tapped:
    """A postback we made and could read back; `params` holds a date or time picked."""
    postback: Postback
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Photo:
    """An image the person sent: the QR code texts found in it (None: not a readable image)."""
    codes: tuple[str, ...] | None
    content: bytes | None = field(default=None, repr=False)  # for staff attaching a picture


Turn = Text | Location | Tapped | Photo


# What should happen -------------------------------------------------------------------------

END = None  # as `next`: the conversation is over


@dataclass
class Step:
    replies: list[Message]
    next: str | None = END
    data: dict[str, Any] = field(default_factory=dict)
    #: Stay where we are, state and data untouched (help, a re-prompt, a refusal).
    stay: bool = False
    #: Calls to LINE other than the reply (e.g. linking a rich menu), made after the commit.
    after: list[Callable[[Any], None]] = field(default_factory=list)

    @classmethod
    def staying(cls, replies: Sequence[Message]) -> "Step":
        return cls(list(replies), stay=True)


@dataclass(frozen=True)
class SavedState:
    """Where the person was when this turn began (`Person.conversation…`)."""
    name: str
    token: str
    data: dict[str, Any]


@dataclass
class Context:
    session: Session
    person: Person
    now: datetime
    config: dict[str, Any]
    state: SavedState | None = None
    #: The table entry of the state the person is in, set by the dispatcher.
    current: "State | None" = None
    #: What a date/time picker sent with the postback being answered.
    params: dict[str, str] = field(default_factory=dict)

    @property
    def state_name(self) -> str | None:
        return self.state.name if self.state else None

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.state.data) if self.state else {}

    @property
    def token(self) -> str:
        """The token the next state will carry: postbacks built now must name it."""
        if self._next_token is None:
            self._next_token = (self.state.token if self.state else None) or new_token()
        return self._next_token

    _next_token: str | None = None

    def restart(self) -> None:
        """Called by entry steps: buttons of what came before stop working."""
        self._next_token = new_token()


def new_token() -> str:
    return secrets.token_urlsafe(6)


# The tables ---------------------------------------------------------------------------------

StateHandler = Callable[[Context, Turn], "Step | None"]
Prompt = Callable[[Context], list[Message]]
PostbackHandler = Callable[[Context, Any], Step]
CommandHandler = Callable[[Context], Step]


@dataclass(frozen=True)
class State:
    """One step of a dialogue: how it reads input, how it asks, what help says there."""
    on_input: StateHandler
    prompt: Prompt
    help: Callable[[], str]
    #: A photo sent here is an answer (staff attaching a picture), not a QR code to read.
    takes_photos: bool = False


@dataclass(frozen=True)
class Command:
    """Typed words that start something from anywhere, in any supported language.

    `messages` are msgids: 「登録」 also matches its English translation, "Register".
    """
    messages: tuple[str, ...]
    handler: CommandHandler
    #: Staff's work: typed inside a step by someone who is not staff, the words are an answer.
    for_staff: bool = False

    @cached_property
    def forms(self) -> frozenset[str]:
        return frozenset().union(*(typed_forms(message) for message in self.messages))


@dataclass(frozen=True)
class Pattern:
    """Something recognised inside any text (a check-in code, an invitation), from anywhere."""
    find: Callable[[str], str | None]
    handler: Callable[[Context, str], Step]


@dataclass(frozen=True)
class Conversation:
    name: str
    states: dict[str, State] = field(default_factory=dict)
    postbacks: dict[type[Postback], PostbackHandler] = field(default_factory=dict)
    commands: tuple[Command, ...] = ()
    patterns: tuple[Pattern, ...] = ()


class Router:
    """All conversations together: finds who answers a turn."""

    def __init__(self, conversations: Iterable[Conversation]):
        self.conversations = list(conversations)
        self.states: dict[str, State] = {}
        self.postbacks: dict[type[Postback], PostbackHandler] = {}
        self.commands: list[Command] = []
        self.patterns: list[Pattern] = []
        for conversation in self.conversations:
            for name, state in conversation.states.items():
                if not name.startswith(conversation.name + "."):
                    raise ValueError(f"state {name} is outside conversation {conversation.name}")
                self.states[name] = state
            for kind, handler in conversation.postbacks.items():
                if kind in self.postbacks:
                    raise ValueError(f"{kind.__name__} answered by two conversations")
                self.postbacks[kind] = handler
            self.commands.extend(conversation.commands)
            self.patterns.extend(conversation.patterns)

    def command_for(self, text: str) -> Command | None:
        return self._command_by_form.get(fold(text))

    @cached_property
    def _command_by_form(self) -> dict[str, Command]:
        """Each command's words, folded, in every language: the first command to claim a
        form keeps it. Built on first use (the catalogues are loaded by then)."""
        found: dict[str, Command] = {}
        for command in self.commands:
            for form in command.forms:
                found.setdefault(form, command)
        return found

    def pattern_for(self, text: str) -> tuple[Pattern, str] | None:
        for pattern in self.patterns:
            found = pattern.find(text)
            if found is not None:
                return pattern, found
        return None

    def state(self, name: str | None) -> State | None:
        return self.states.get(name) if name else None


# State in the database ----------------------------------------------------------------------
#
# The state lives on the person's row: `people.arrive` returns it with the row lock every
# event takes, so reading it costs nothing. It is written with one Core statement built once
# (the ORM's unit of work costs more CPU than the SQL), at most once per event, and the
# loaded Person is told the new values, so it agrees with its row without being read again.

_PERSON = Person.__table__
_WRITE_STATE = DriverStatement(
    update(_PERSON).where(_PERSON.c.id == bindparam("person_id"))
    .values(conversation=bindparam("state_name"), conversation_token=bindparam("state_token"),
            conversation_data=bindparam("state_data"), conversation_at=bindparam("state_at")))


def load_state(person: Person) -> SavedState | None:
    """The person's state, as `people.arrive` read it with their row under its lock."""
    if person.conversation is None:
        return None
    return SavedState(person.conversation, person.conversation_token or "",
                      person.conversation_data or {})


def save_state(ctx: Context, step: Step) -> None:
    """Write where the person now is; called in the same transaction as the step's changes."""
    if step.stay:
        return
    if step.next is END:
        if ctx.state is not None:
            _write(ctx, None, None, None, None)
            ctx.state = None
        return
    saved = SavedState(step.next, ctx.token, step.data)
    _write(ctx, saved.name, saved.token, saved.data, ctx.now)
    ctx.state = saved


def _write(ctx: Context, name: str | None, token: str | None, data: dict | None,
           at: datetime | None) -> None:
    _WRITE_STATE.run(ctx.session, {
        "person_id": ctx.person.id, "state_name": name, "state_token": token,
        "state_data": data, "state_at": at})
    for attribute, value in (("conversation", name), ("conversation_token", token),
                             ("conversation_data", data), ("conversation_at", at)):
        set_committed_value(ctx.person, attribute, value)
