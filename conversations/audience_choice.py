"""Choosing an audience (broadcasts, monitor surveys): the same questions and the same reading
of their answers, each flow with its own buttons."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence

from linebot.v3.messaging.models import Message

from bot.domain.audience import KINDS, Audience
from bot.domain.relationship_survey import RELATIONSHIP
from bot.i18n import _, current_locale
from bot.services.entities import prefecture_row, prefecture_rows
from conversations.common import cancel_button, listing, tap, text
from conversations.postback import Postback
from conversations.registration.messages import choice_label

#: The choices of the first question, as each flow's postback carries them: "ties" and "home"
#: narrow the audience with a further question, the others are the audience.
CHOICES = ("all", "basic", "premium", "ties", "home")
_BY_KIND = {"all": Audience(KINDS), "basic": Audience(("basic",)), "premium": Audience(("premium",))}


def by_kind(choice: str) -> Audience | None:
    """The audience of 全員 / ベーシック / プレミアム; None for any other choice."""
    return _BY_KIND.get(choice)


def find_prefectures(typed: str) -> list[str]:
    """Prefecture codes named in the text: 東京都, 東京, Tokyo."""
    folded = unicodedata.normalize("NFKC", typed).casefold()
    found = []
    for row in prefecture_rows():
        short = row.name[:-1] if row.name[-1] in "都府県" and row.name != "北海道" else row.name
        if row.name in folded or short in folded or (row.name_en or "").casefold() in folded:
            found.append(row.code)
    return found


def ask_audience(token: str, pick: Callable[[str, str], Postback]) -> list[Message]:
    labels = {"all": _("登録者全員"), "basic": _("ベーシックのみ"), "premium": _("プレミアムのみ"),
              "ties": _("つながりで絞る"), "home": _("お住まいで絞る")}
    return [text(_("誰に送りますか？"),
                 [*(tap(labels[choice], pick(choice, token)) for choice in CHOICES),
                  cancel_button()])]


def ask_ties(chosen: Sequence[str], token: str, tie: Callable[[str, str], Postback],
             done: Callable[[str], Postback]) -> list[Message]:
    body = _("どのつながりの人に送りますか？（いくつでも選べます。選び終わったら「次へ」）")
    if chosen:
        body += "\n" + _("選択中：{choices}").format(
            choices=listing(choice_label("relationship", v) for v in chosen))
    actions = [tap(("✓ " if value in chosen else "") + choice_label("relationship", value),
                   tie(value, token), display=choice_label("relationship", value))
               for value in RELATIONSHIP.choices]
    return [text(body, [*actions, tap(_("次へ"), done(token)), cancel_button()])]


def ask_prefectures() -> list[Message]:
    return [text(_("お住まいの都道府県を入力してください（例：東京都 大阪府 神奈川県）。"),
                 [cancel_button()])]


def no_prefecture_found() -> list[Message]:
    return [text(_("都道府県名が見つかりませんでした。「東京都 大阪府」のように入力してください。"),
                 [cancel_button()])]


def describe(who: Audience) -> str:
    kinds = {("basic", "premium"): _("登録者全員"), ("basic",): _("ベーシック登録者"),
             ("premium",): _("プレミアム登録者")}[tuple(who.kinds)]
    # 「登録者全員」 beside a condition would read as if the condition did not apply.
    filtered = bool(who.relationships or who.prefectures)
    parts = [] if filtered and len(who.kinds) > 1 else [kinds]
    if who.relationships:
        parts.append(_("つながり：{ties}").format(
            ties=listing(choice_label("relationship", v) for v in who.relationships)))
    if who.prefectures:
        english = current_locale() == "en"
        parts.append(_("お住まい：{prefectures}").format(prefectures=listing(
            prefecture_row(code).name_en if english else prefecture_row(code).name
            for code in who.prefectures)))
    return " / ".join(parts)
