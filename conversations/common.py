"""Message builders shared by every conversation: quick replies, menus, the polite fallbacks.

Builders are pure: they take data and return line-bot-sdk models. LINE's limits are kept
here once (labels ≤ 20, ≤ 13 quick-reply items, text ≤ 5,000 UTF-16 units), so the models
are made without pydantic's validation (`built`): it repeated those checks for every button of
every reply and cost more CPU than the rest of building it. The local LINE platform still
reads every reply through the SDK's validating models in tests and demos.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from linebot.v3.messaging.models import (
    Action,
    ConfirmTemplate,
    LocationAction,
    MessageAction,
    PostbackAction,
    QuickReply,
    QuickReplyItem,
    TemplateMessage,
    TextMessage,
)

from bot.domain.text import utf16_length
from bot.i18n import _
from conversations.postback import Postback, pack

M = TypeVar("M")

MAX_LABEL = 20
MAX_QUICK_REPLIES = 13
MAX_TEXT = 5000
MAX_ALT_TEXT = 1500
MAX_CONFIRM_TEXT = 240
#: LINE takes at most 12 bubbles in one flex carousel.
MAX_CAROUSEL_BUBBLES = 12

#: LINE's own brand green: headings and the main button of a card.
LINE_GREEN = "#06C755"
#: Grey for the lines under a heading: what a card is about.
MUTED_TEXT = "#555555"
#: Lighter grey for the small print: dates, hints, what to do next.
FAINT_TEXT = "#888888"


def built(model: type[M], **fields) -> M:
    """The SDK model with these fields (LINE's names or ours), unvalidated: see above."""
    return model.construct(**fields)  # type: ignore[attr-defined]


def listing(items) -> str:
    """神山町、徳島県 / 神山町, 徳島県 — the list separator of the person's language."""
    return _("、").join(items)


def bullet(line: str) -> str:
    """・神山町 / • Kamiyama-cho: a list item, marked as the person's language marks one."""
    return _("・{line}").format(line=line)


def label(text: str) -> str:
    """An action label within LINE's 20 characters."""
    return text if len(text) <= MAX_LABEL else text[:MAX_LABEL - 1] + "…"


def clip(text: str, limit: int) -> str:
    if utf16_length(text) <= limit:
        return text
    while utf16_length(text) > limit - 1:
        text = text[:-1]
    return text + "…"


def tap(text: str, data: Postback, display: str | None = None) -> PostbackAction:
    """A button that sends a postback; the chat shows `display` (default: the label)."""
    return built(PostbackAction, label=label(text), data=pack(data),
                 displayText=clip(display or text, 300))


def say(text: str) -> MessageAction:
    """A button that types `text` for the person."""
    return built(MessageAction, label=label(text), text=text)


def share_location() -> LocationAction:
    return built(LocationAction, label=label(_("位置情報を送る")))


def text(body: str, actions: Sequence[Action] = ()) -> TextMessage:
    return built(TextMessage, text=clip(body, MAX_TEXT), quickReply=quick_reply(actions))


def quick_reply(actions: Sequence[Action]) -> QuickReply | None:
    if not actions:
        return None
    if len(actions) > MAX_QUICK_REPLIES:
        raise ValueError("LINE shows at most 13 quick replies; page them")
    return built(QuickReply, items=[built(QuickReplyItem, action=action) for action in actions])


def confirm(question: str, yes: Action, no: Action) -> TemplateMessage:
    return built(TemplateMessage, altText=clip(question, MAX_ALT_TEXT),
                 template=built(ConfirmTemplate, text=clip(question, MAX_CONFIRM_TEXT),
                                actions=[yes, no]))


def cancel_button() -> MessageAction:
    return say(_("キャンセル"))


def help_button() -> MessageAction:
    return say(_("ヘルプ"))


def menu_actions() -> list[Action]:
    """What one can always do next: the rich menu's choices, as quick replies."""
    return [say(_("登録する")), say(_("登録状況")), say(_("活動履歴")), say(_("地域の情報")),
            say(_("設定")), say(_("ヘルプ"))]


#: Choices on one page of quick replies: 13 minus ‹, › and one spare for "cancel".
PAGE_SIZE = 10


def page(actions: Sequence[Action], previous: Postback | None,
         following: Postback | None) -> list[Action]:
    """One page of choices between ‹ and ›, within LINE's 13 quick replies."""
    before = [tap(_("‹ 前へ"), previous)] if previous is not None else []
    after = [tap(_("次へ ›"), following)] if following is not None else []
    return [*before, *actions, *after]


def paginate(items: Sequence, number: int, size: int) -> tuple[list, bool, bool]:
    """Items on page `number` (0-based), and whether pages exist before and after."""
    number = max(0, number)
    start = number * size
    return list(items[start:start + size]), number > 0, start + size < len(items)
