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
from functools import cache, cached_property
from typing import Any

from linebot.v3.messaging.models import Message
from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.i18n import fold, in_every_locale
from bot.models import ConversationState, Person
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
    """Where the person was when this turn began (a `conversation_state` row)."""
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

    def matches(self, text: str) -> bool:
        return fold(text) in self._forms

    @cached_property
    def _forms(self) -> frozenset[str]:
        # Catalogues are loaded once per process, so the words' forms never change.
        return frozenset(form for message in self.messages for form in in_every_locale(message))


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
        return next((c for c in self.commands if c.matches(text)), None)

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
# Read and written with single Core statements built once (no ORM object): one webhook event
# reads its state once and writes it at most once, and the ORM's unit of work and building
# the statements cost more CPU than the SQL.

_STATE = ConversationState.__table__
_READ_STATE = (select(_STATE.c.name, _STATE.c.token, _STATE.c.data)
               .where(_STATE.c.person_id == bindparam("person_id")))
_DELETE_STATE = delete(_STATE).where(_STATE.c.person_id == bindparam("person_id"))


@cache
def _write_state(dialect: str):
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(_STATE).values(
        {column: bindparam(column) for column in ("person_id", "name", "token", "data",
                                                  "updated_at")})
    return insert.on_conflict_do_update(
        index_elements=[_STATE.c.person_id],
        set_={column: insert.excluded[column] for column in ("name", "token", "data",
                                                             "updated_at")})


def load_state(session: Session, person_id: int) -> SavedState | None:
    """The person's state; read after their row is locked, so it is still true when written."""
    row = session.connection().execute(_READ_STATE, {"person_id": person_id}).first()
    return SavedState(row.name, row.token, row.data) if row else None


def save_state(ctx: Context, step: Step) -> None:
    """Write where the person now is; called in the same transaction as the step's changes."""
    if step.stay:
        return
    connection = ctx.session.connection()
    if step.next is END:
        if ctx.state is not None:
            connection.execute(_DELETE_STATE, {"person_id": ctx.person.id})
            ctx.state = None
        return
    saved = SavedState(step.next, ctx.token, step.data)
    connection.execute(_write_state(connection.dialect.name), {
        "person_id": ctx.person.id, "name": saved.name, "token": saved.token,
        "data": saved.data, "updated_at": ctx.now})
    ctx.state = saved
