"""Messages of the residence question."""

from __future__ import annotations

from collections.abc import Sequence

from linebot.v3.messaging.models import Action, Message

from bot.i18n import _
from bot.i18n.names import place
from bot.store.models import Entity
from conversations.common import cancel_button, share_location, tap, text
from conversations.places import place_labels
from conversations.residence.states import PickHome, SkipHome


def _keep(current: Entity | None, token: str) -> list[Action]:
    """Leaving the question: 「変更しない」 for someone who gave it before, else 「スキップ」."""
    return [tap(_("変更しない") if current is not None else _("スキップ"), SkipHome(token)),
            cancel_button()]


def ask_home(current: Entity | None, token: str, last_question: bool = False) -> list[Message]:
    body = (_("最後に、お住まいの市区町村を教えてください（名前を入力するか、位置情報を送ってください）。")
            if last_question else
            _("お住まいの市区町村を教えてください（名前を入力するか、位置情報を送ってください）。"))
    body += "\n" + _("お住まいの市区町村への登録は、関係人口の統計には含まれません。")
    if current is not None:
        body += "\n" + _("現在の登録：{place}").format(place=place(current))
    return [text(body, [share_location(), *_keep(current, token)])]


def home_help() -> str:
    return _("お住まいの市区町村を伺っています。名前を入力するか位置情報を送ってください。"
             "答えたくなければ「スキップ」を押してください。")


def home_candidates(found: Sequence[Entity], current: Entity | None,
                    token: str) -> list[Message]:
    shown = list(found[:10])
    return [text(_("どちらにお住まいですか？"),
                 [tap(name, PickHome(e.code, token)) for e, name in zip(shown, place_labels(shown))]
                 + _keep(current, token))]


def home_not_found(query: str, current: Entity | None, token: str) -> list[Message]:
    return [text(_("「{query}」に当てはまる市区町村が見つかりませんでした。"
                   "別の書き方で入力するか、位置情報を送ってください。").format(query=query[:40]),
                 [share_location(), *_keep(current, token)])]


def home_guess(entity: Entity, current: Entity | None, token: str) -> list[Message]:
    return [text(_("{place}にお住まいですか？").format(place=place(entity)),
                 [tap(_("はい"), PickHome(entity.code, token)), *_keep(current, token)])]


def home_unchanged(current: Entity | None) -> str:
    if current is None:
        return _("お住まいの市区町村は登録しませんでした。あとで「設定」から登録できます。")
    return _("お住まいは{place}のままです。").format(place=place(current))


def home_saved(entity: Entity, excluded: Sequence[Entity]) -> str:
    body = _("お住まいを{place}として登録しました。").format(place=place(entity))
    if excluded:
        body += "\n" + _("{place}への登録は、お住まいの自治体のため統計には含まれません。").format(
            place=place(excluded[0]))
    return body


def home_verified(entity: Entity) -> str:
    return _("お住まいは、マイナンバーカードで確認した住所から{place}になっています。"
             "ご自身で変えることはできません。引っ越したときは、もう一度「本人確認」をすると"
             "新しい住所に変わります。").format(place=place(entity))
