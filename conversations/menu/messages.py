"""Greeting, help, settings, local information and the polite fallbacks."""

from __future__ import annotations

from collections.abc import Sequence

from linebot.v3.messaging.models import Action, FlexMessage, Message

from bot.i18n import _, current_locale
from bot.i18n.names import place
from bot.store.models import Registration
from conversations.common import (
    FAINT_TEXT,
    LINE_GREEN,
    MAX_ALT_TEXT,
    MAX_CAROUSEL_BUBBLES,
    MUTED_TEXT,
    clip,
    listing,
    menu_actions,
    say,
    tap,
    text,
)
from conversations.menu.states import ChangeHome, SetLanguage


def greeting(name: str | None, returning: bool, registered: bool = False) -> list[Message]:
    """Hello; the way on is registering, or, for someone back who is still registered, what
    they already have."""
    hello = (_("{name}さん、おかえりなさい。").format(name=name) if returning and name
             else _("{name}さん、はじめまして。").format(name=name) if name
             else _("はじめまして。"))
    about = _("ふるさと住民登録の公式アカウントです。\n"
              "生まれ故郷や、よく訪れる町、応援したい地域に「ふるさと住民」として登録できます。"
              "登録すると、その地域からのお知らせが届き、担い手活動にも参加できます。\n"
              "登録は無料で、いくつでもできます。")
    if registered:
        return [text(hello),
                text(_("登録はそのまま続いています。地域からのお知らせがまた届きます。"
                       "登録内容は「登録状況」で確認できます。"),
                     [say(_("登録状況")), say(_("ヘルプ")), other_language()])]
    return [text(hello + "\n" + about),
            text(_("さっそく登録しますか？下のメニューからもいつでも操作できます。"),
                 [say(_("登録する")), say(_("ヘルプ")), other_language()])]


def other_language():
    """The switch to the language the person is not reading now, named in that language."""
    if current_locale() == "ja":
        return tap("English", SetLanguage("en"))
    return tap("日本語", SetLanguage("ja"))


def help_text(where: str | None) -> list[Message]:
    return [text(help_body(where), menu_actions())]


def help_body(where: str | None) -> str:
    lines = [_("できること："),
             _("・「登録する」… 市区町村・都道府県にふるさと住民として登録"),
             _("・「登録状況」… 登録の確認、登録をやめる、データの削除"),
             _("・「活動履歴」… 参加した活動と、プレミアム登録までの回数"),
             _("・「プレミアム登録」… 条件の確認と申し込み（本人確認が必要、1人3か所まで）"),
             _("・「本人確認」… マイナンバーカードで本人確認（プレミアム登録に必要）"),
             _("・「サポート施策」… 登録先で受けられるサポート（交通費の支援、住民料金など）"),
             _("・「登録証」… 窓口で見せる登録証（QRコード付き）"),
             _("・活動の会場では、掲示のQRコードを読み取るか、その写真を送ると参加を受け付けます"),
             _("・「地域の情報」… 登録先の公式サイトとお知らせ"),
             _("・「設定」… 言語（日本語／English）、お住まいの市区町村"),
             _("・「キャンセル」… 今の操作をやめる")]
    body = "\n".join(lines)
    return where + "\n\n" + body if where else body


def settings(locale: str, home: str | None) -> list[Message]:
    body = _("設定です。\n言語：{language}\nお住まい：{home}").format(
        language="日本語" if locale == "ja" else "English",
        home=home or _("未登録"))
    return [text(body, [tap("日本語", SetLanguage("ja")), tap("English", SetLanguage("en")),
                        tap(_("お住まいを変更"), ChangeHome()), say(_("ヘルプ"))])]


def language_set() -> list[Message]:
    return [text(_("日本語で表示します。"), menu_actions())]


def local_information(current: Sequence[Registration]) -> list[Message]:
    if not current:
        return [text(_("登録先からのお知らせは、このトークに届きます。まだ登録がないので、"
                       "まず「登録する」から登録先を選んでください。"), [say(_("登録する"))])]
    bubbles = []
    for registration in current[:MAX_CAROUSEL_BUBBLES]:
        entity = registration.entity
        contents = [{"type": "text", "text": place(entity), "weight": "bold", "wrap": True},
                    {"type": "text", "size": "sm", "color": MUTED_TEXT, "wrap": True,
                     "text": _("お知らせはこのトークに届きます。")}]
        footer = []
        if entity.community_url:
            if entity.community_premium_only and registration.kind != "premium":
                contents.append({"type": "text", "size": "xs", "color": FAINT_TEXT, "wrap": True,
                                 "text": _("プレミアム登録者向けのコミュニティがあります。")})
            else:
                footer.append({"type": "button", "style": "primary", "height": "sm",
                               "color": LINE_GREEN,
                               "action": {"type": "uri", "label": _("コミュニティに参加"),
                                          "uri": entity.community_url}})
        if entity.site_url:
            footer.append({"type": "button", "style": "link", "height": "sm",
                           "action": {"type": "uri", "label": _("公式サイト"),
                                      "uri": entity.site_url}})
        bubble = {"type": "bubble", "size": "kilo",
                  "body": {"type": "box", "layout": "vertical", "contents": contents}}
        if footer:
            bubble["footer"] = {"type": "box", "layout": "vertical", "contents": footer}
        bubbles.append(bubble)
    alt = _("地域の情報：{names}").format(names=listing(place(r.entity) for r in current))
    return [FlexMessage.from_dict({"type": "flex", "altText": clip(alt, MAX_ALT_TEXT),
                                   "contents": {"type": "carousel", "contents": bubbles}})]


def cancelled(was_busy: bool, actions: Sequence[Action] | None = None) -> list[Message]:
    body = (_("操作をやめました。途中まで入力した内容は保存していません"
              "（それまでに完了した登録や回答はそのままです）。") if was_busy
            else _("いまは進行中の操作はありません。"))
    return [text(body, menu_actions() if actions is None else actions)]


def not_understood(where: str | None, actions: Sequence[Action] | None = None) -> list[Message]:
    return [text(not_understood_body(where), menu_actions() if actions is None else actions)]


def not_understood_body(where: str | None) -> str:
    return _("すみません、うまく理解できませんでした。") + "\n" + (
        where or _("下のボタンかメニューから選んでください。"))


def stale_button() -> str:
    return _("このボタンは以前のやりとりのもので、今は使えません。")


def unknown_button() -> list[Message]:
    return [text(_("このボタンは使えません（古いメッセージのボタンかもしれません）。"
                   "下から選び直してください。"), menu_actions())]


def unsupported_message() -> list[Message]:
    return [text(_("ごめんなさい、このメッセージには対応していません。"
                   "文字か位置情報、またはボタンでお知らせください。"), menu_actions())]


def apology() -> list[Message]:
    return [text(_("申し訳ありません。処理中に問題が起きました。"
                   "少し時間をおいて、もう一度お試しください。"), menu_actions())]
