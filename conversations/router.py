"""Every conversation in one router, and the dispatcher that answers one turn."""

from __future__ import annotations

from linebot.v3.messaging.models import Message

from bot.i18n import fold, typed_as
from bot.line import richmenu
from bot.services import entities, staff
from conversations.broadcast import BROADCAST
from conversations.checkin import CHECKIN
from conversations.checkin import steps as checkin_steps
from conversations.common import text
from conversations.engine import (
    Command,
    Context,
    Location,
    Photo,
    Router,
    Step,
    Tapped,
    Text,
    Turn,
    save_state,
)
from conversations.identity import IDENTITY
from conversations.keep_registration import KEEP_REGISTRATION
from conversations.measures_admin import MEASURES_ADMIN
from conversations.menu import MENU
from conversations.menu import messages as menu_messages
from conversations.menu import steps as menu_steps
from conversations.monitor import MONITOR, MONITOR_ANSWER
from conversations.my_registrations import MY_REGISTRATIONS
from conversations.postback import Postback, unpack
from conversations.premium import PREMIUM
from conversations.premium_review import PREMIUM_REVIEW
from conversations.registration import REGISTRATION
from conversations.registration import messages as registration_messages
from conversations.registration import steps as registration_steps
from conversations.registration.states import RegistrationState, SearchDraft
from conversations.residence import RESIDENCE
from conversations.staff import STAFF
from conversations.support import SUPPORT
from conversations.support import steps as support_steps

ROUTER = Router([MENU, IDENTITY, REGISTRATION, RESIDENCE, MY_REGISTRATIONS, CHECKIN, STAFF, BROADCAST,
                 MONITOR, MONITOR_ANSWER, KEEP_REGISTRATION, SUPPORT, MEASURES_ADMIN, PREMIUM,
                 PREMIUM_REVIEW])

#: Free text while nothing is going on is taken as a place name when it finds at most this many.
IDLE_SEARCH_LIMIT = 10


def respond(ctx: Context, turn: Turn | None) -> Step:
    """Answer one turn; the new state is written to the session, never sent from here.

    `turn` is None for a message kind we do not read (a sticker, a video…).
    """
    ctx.current = ROUTER.state(ctx.state.name if ctx.state else None)
    step = _route(ctx, turn)
    save_state(ctx, step)
    return step


def _route(ctx: Context, turn: Turn | None) -> Step:
    if turn is None:
        return Step.staying(menu_messages.unsupported_message() if ctx.current is None
                            else [*_where(ctx)])
    if isinstance(turn, Tapped):
        postback = turn.postback
        if postback.token is not None and (ctx.state is None or ctx.state.token != postback.token):
            return _stale(ctx)
        ctx.params = turn.params
        return _tap(ctx, postback)
    if isinstance(turn, Photo) and not (ctx.current and ctx.current.on_photo) \
            and (card := support_steps.card_token_in(turn)):
        return support_steps.on_card_code(ctx, card)  # staff photographed a registration card
    if isinstance(turn, Photo) and not (ctx.current and ctx.current.on_photo):
        return checkin_steps.on_photo(ctx, turn)  # a photo is a QR code to read, anywhere
    if isinstance(turn, Text) and (command := ROUTER.command_for(turn.text)) \
            and _may_start(ctx, command):
        return command.handler(ctx)
    if isinstance(turn, Text) and (found := ROUTER.pattern_for(turn.text)):
        pattern, value = found
        return pattern.handler(ctx, value)
    if ctx.current is not None:
        step = ctx.current.read(ctx, turn)
        if step is not None and not (step.stay and isinstance(turn, Text)):
            return step
        # Not understood, or asked again: words of a button of the question typed are that
        # button (「次へ」, 「スキップ」, 「なし」 typed where the step reads something else).
        question = ctx.current.prompt(ctx)
        if isinstance(turn, Text) and (postback := _button_named(turn.text, question)):
            return _tap(ctx, postback)
        return step if step is not None else Step.staying(_where(ctx, question))
    return _idle(ctx, turn)


def _tap(ctx: Context, postback: Postback) -> Step:
    handler = ROUTER.postback_handler(ctx.current, type(postback))
    if handler is not None:
        return handler(ctx, postback)
    if ctx.current is not None:  # a button of another step of this dialogue: ask this one again
        return Step.staying(ctx.current.prompt(ctx))
    return _stale(ctx)


def _may_start(ctx: Context, command: Command) -> bool:
    """A staff command typed inside a step by someone who is not staff is the step's answer
    (a survey choice 「集計」), not a refusal that ends the step; between steps it is told
    who it is for."""
    return not command.for_staff or ctx.current is None \
        or bool(staff.roles_of(ctx.session, ctx.person))


def _button_named(typed: str, question: list[Message]) -> Postback | None:
    """The button of the question on screen whose words were typed: 「次へ」 or "skip" typed
    where a step takes only buttons is that button."""
    wanted = fold(typed)
    if not wanted:
        return None
    for message in question:
        shown = message.to_dict()
        items = (shown.get("quickReply") or {}).get("items", [])
        # Not a confirmation's buttons (削除する, 登録をやめる): those only answer when tapped.
        actions = [item["action"] for item in items]
        for action in actions:
            if action.get("type") == "postback" and wanted in (
                    fold(action.get("label", "")), fold(action.get("displayText", ""))):
                return unpack(action["data"])
    return None


def _where(ctx: Context, question: list[Message] | None = None) -> list[Message]:
    """Where the person is and what they can do: the help of this state, then its question."""
    assert ctx.current is not None
    return [text(menu_messages.not_understood_body(ctx.current.help())),
            *(question if question is not None else ctx.current.prompt(ctx))]


def _stale(ctx: Context) -> Step:
    if ctx.current is None:  # what can be done now: the help, staff's included
        return Step.staying([text(menu_messages.stale_button()),
                             *menu_steps.show_help(ctx).replies])
    return Step.staying([text(menu_messages.stale_button()), *ctx.current.prompt(ctx)])


def _idle(ctx: Context, turn: Turn) -> Step:
    """Nothing going on: a place name or a location starts a registration search."""
    if isinstance(turn, Location):
        ctx.restart()
        return registration_steps.on_search_location(ctx, turn)
    if isinstance(turn, Text) and (cell := _menu_cell_named(ctx, turn.text)):
        return _tap(ctx, unpack(cell.data))
    if isinstance(turn, Text):
        found = entities.search(ctx.session, turn.text, limit=IDLE_SEARCH_LIMIT + 1)
        if len(found) == 1:
            ctx.restart()
            return registration_steps.pick(ctx, found[0])
        if 0 < len(found) <= IDLE_SEARCH_LIMIT:
            ctx.restart()
            return Step(registration_messages.candidates(found, 0, ctx.token),
                        next=RegistrationState.SEARCH, data=SearchDraft(query=turn.text[:100]))
    return Step.staying(menu_messages.not_understood(None, menu_steps.next_actions(ctx)))


_STAFF_ONLY_CELLS = tuple(c for c in richmenu.STAFF.cells if c not in richmenu.RESIDENTS.cells)


def _menu_cell_named(ctx: Context, typed: str) -> richmenu.Cell | None:
    """The rich menu cell whose words were typed with nothing going on (「お知らせ」, "My card"):
    what was typed does what tapping it does. Only between steps, where no answer is expected,
    and the staff menu's only for staff."""
    def named(cell: richmenu.Cell) -> bool:
        return typed_as(typed, cell.ja) or typed_as(typed, cell.en)

    found = next((cell for cell in richmenu.RESIDENTS.cells if named(cell)), None)
    if found is None:
        found = next((cell for cell in _STAFF_ONLY_CELLS if named(cell)), None)
        if found is not None and not staff.roles_of(ctx.session, ctx.person):
            return None
    return found
