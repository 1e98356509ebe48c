"""Dialogues as tables (python-telegram-bot's ConversationHandler, aiogram's string states).

A conversation declares its entry points (typed commands, patterns, buttons that work from
anywhere) and its states. Each state declares what it accepts: the buttons it answers, whether
it reads text, a location or a photo, its own question and its own help. The router calls the
state's handler for what arrived, so no step asks which state it is in. A step returns what
should happen — replies and the next state, with the state's data (a plain dict or a typed
`Draft`) — and never sends anything itself: the handler commits the new state with the domain
change, then replies.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Self, TypeVar

from linebot.v3.messaging.models import Message
from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from bot.i18n import fold, typed_forms
from bot.line import AfterCommit
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


class Draft:
    """A value that lives across the steps of a dialogue (an activity being written, a
    survey's answers so far), typed as a dataclass and kept in the state as a dict.

    Subclasses are dataclasses of JSON-able fields; `load` ignores keys it does not know, so
    a state saved by an older version still reads."""

    def dump(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> Self:
        known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{key: value for key, value in data.items() if key in known})


D = TypeVar("D", bound=Draft)


@dataclass
class Step:
    replies: list[Message]
    next: str | None = END
    data: "dict[str, Any] | Draft" = field(default_factory=dict)
    #: Stay where we are, state and data untouched (help, a re-prompt, a refusal).
    stay: bool = False
    #: Calls to LINE other than the reply (e.g. linking a rich menu), made after the commit.
    after: list[AfterCommit] = field(default_factory=list)

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
    def data(self) -> dict[str, Any]:
        return dict(self.state.data) if self.state else {}

    def draft(self, kind: type[D]) -> D:
        """The state's data read as the typed draft its dialogue keeps there."""
        return kind.load(self.state.data if self.state else {})

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

Prompt = Callable[[Context], list[Message]]
PostbackHandler = Callable[[Context, Any], Step]
CommandHandler = Callable[[Context], Step]
#: Reads what was sent; None: not understood here (the router re-asks, with the state's help).
TextHandler = Callable[[Context, Text], "Step | None"]
LocationHandler = Callable[[Context, Location], "Step | None"]
PhotoHandler = Callable[[Context, Photo], "Step | None"]


@dataclass(frozen=True)
class State:
    """One step of a dialogue: what it accepts, how it asks, what help says there.

    A button (postback) answers only in the states that list it, or from anywhere when its
    conversation lists it; tapped elsewhere it changes nothing and the question is asked again.
    A state without `on_text` takes only its buttons; without `on_photo`, a photo sent here is
    a QR code to read, as anywhere else."""
    prompt: Prompt
    help: Callable[[], str]
    postbacks: Mapping[type[Postback], PostbackHandler] = field(default_factory=dict)
    on_text: TextHandler | None = None
    on_location: LocationHandler | None = None
    on_photo: PhotoHandler | None = None

    def read(self, ctx: Context, turn: Turn) -> "Step | None":
        """This state's answer to something sent (not a button), or None: not understood."""
        if isinstance(turn, Text) and self.on_text is not None:
            return self.on_text(ctx, turn)
        if isinstance(turn, Location) and self.on_location is not None:
            return self.on_location(ctx, turn)
        if isinstance(turn, Photo) and self.on_photo is not None:
            return self.on_photo(ctx, turn)
        return None


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
    #: Buttons that work from anywhere (a menu's, a list's): they start or restart something.
    postbacks: dict[type[Postback], PostbackHandler] = field(default_factory=dict)
    commands: tuple[Command, ...] = ()
    patterns: tuple[Pattern, ...] = ()


class Router:
    """All conversations together: finds who answers a turn."""

    def __init__(self, conversations: Iterable[Conversation]):
        self.conversations = list(conversations)
        self.states: dict[str, State] = {}
        self.postbacks: dict[type[Postback], PostbackHandler] = {}
        #: Buttons answered only in some states: tapped elsewhere, they are re-asked.
        self.state_postbacks: set[type[Postback]] = set()
        self.commands: list[Command] = []
        self.patterns: list[Pattern] = []
        for conversation in self.conversations:
            for name, state in conversation.states.items():
                if not name.startswith(conversation.name + "."):
                    raise ValueError(f"state {name} is outside conversation {conversation.name}")
                self.states[name] = state
                self.state_postbacks.update(state.postbacks)
            for kind, handler in conversation.postbacks.items():
                if kind in self.postbacks:
                    raise ValueError(f"{kind.__name__} answered by two conversations")
                self.postbacks[kind] = handler
            self.commands.extend(conversation.commands)
            self.patterns.extend(conversation.patterns)
        if overlap := self.state_postbacks & set(self.postbacks):
            raise ValueError(f"{sorted(k.__name__ for k in overlap)} answered both from anywhere and "
                             "in states: a button belongs to one or the other")

    def postback_handler(self, current: State | None, kind: type[Postback]) -> PostbackHandler | None:
        """Who answers this button here: the current state, else its conversation from
        anywhere; None when it belongs to a state the person is not in."""
        if current is not None and kind in current.postbacks:
            return current.postbacks[kind]
        return self.postbacks.get(kind)

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
# event takes, so reading it costs nothing. It is written with one Core statement, at most
# once per event, and the loaded Person is told the new values, so it agrees with its row
# without being read again.

_PERSON = Person.__table__
_WRITE_STATE = (
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
    data = step.data.dump() if isinstance(step.data, Draft) else step.data
    saved = SavedState(step.next, ctx.token, data)
    _write(ctx, saved.name, saved.token, saved.data, ctx.now)
    ctx.state = saved


def _write(ctx: Context, name: str | None, token: str | None, data: dict | None,
           at: datetime | None) -> None:
    ctx.session.execute(_WRITE_STATE, {
        "person_id": ctx.person.id, "state_name": name, "state_token": token,
        "state_data": data, "state_at": at})
    for attribute, value in (("conversation", name), ("conversation_token", token),
                             ("conversation_data", data), ("conversation_at", at)):
        set_committed_value(ctx.person, attribute, value)
