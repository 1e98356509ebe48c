"""Messages of "my registrations": the card, the list, the confirmations."""

from __future__ import annotations

from collections.abc import Sequence

from linebot.v3.messaging.models import FlexMessage, Message

from bot.i18n import _
from bot.i18n.dates import date_with_year
from bot.i18n.names import place
from bot.store.models import Origin, Registration, RegistrationKind
from conversations.common import (
    FAINT_TEXT,
    LINE_GREEN,
    MAX_ALT_TEXT,
    MAX_CAROUSEL_BUBBLES,
    MUTED_TEXT,
    clip,
    confirm,
    listing,
    menu_actions,
    say,
    tap,
    text,
)
from conversations.my_registrations.states import (
    ConfirmDelete,
    ConfirmLeave,
    DeleteAll,
    Keep,
    Leave,
)
from conversations.premium.states import GiveUp


def kind_name(kind: str) -> str:
    return _("プレミアム登録") if kind == RegistrationKind.PREMIUM else _("ベーシック登録")


def how(registration: Registration) -> str:
    if registration.origin == Origin.CO_REGISTRATION:
        return _("市区町村への登録に伴う同時登録")
    return _("直接登録")


def since(registration: Registration) -> str:
    return _("{date}から").format(date=date_with_year(registration.registered_at))


def _line(registration: Registration) -> dict:
    return {"type": "box", "layout": "vertical", "margin": "md", "contents": [
        {"type": "text", "text": place(registration.entity), "weight": "bold", "wrap": True},
        {"type": "text", "size": "sm", "color": MUTED_TEXT, "wrap": True,
         "text": _("{kind}・{how}").format(kind=kind_name(registration.kind),
                                          how=how(registration))},
        {"type": "text", "size": "xs", "color": FAINT_TEXT, "text": since(registration)},
    ]}


def registrations_card(current: Sequence[Registration]) -> FlexMessage:
    """The confirmation card: what the person is registered for, right now."""
    names = listing(place(r.entity) for r in current)
    alt = _("登録内容：{names}").format(names=names) if current else _("登録はありません")
    body = [{"type": "text", "text": _("あなたのふるさと住民登録"), "weight": "bold",
             "size": "lg", "color": LINE_GREEN, "wrap": True}]
    body += [_line(r) for r in current[:20]]
    if not current:
        body.append({"type": "text", "text": _("登録はまだありません。"), "wrap": True})
    footer = [
        {"type": "button", "style": "primary", "color": LINE_GREEN,
         "action": say(_("ほかにも登録する")).to_dict()},
        {"type": "button", "style": "link", "action": say(_("登録状況")).to_dict()},
    ]
    return FlexMessage.from_dict({
        "type": "flex", "altText": clip(alt, MAX_ALT_TEXT),
        "contents": {"type": "bubble",
                     "body": {"type": "box", "layout": "vertical", "contents": body},
                     "footer": {"type": "box", "layout": "vertical", "spacing": "sm",
                                "contents": footer}}})


def registrations_list(current: Sequence[Registration]) -> list[Message]:
    """One bubble per registration with its own "leave" button, then a bubble of actions."""
    if not current:  # someone who left keeps the right to erase what is stored (R14)
        return [text(_("登録中の自治体はありません。「登録する」から始められます。\n"
                       "お名前などあなたのデータを消したいときは「すべてのデータを削除」を押してください。"),
                     [say(_("登録する")), tap(_("すべてのデータを削除"), DeleteAll()),
                      say(_("ヘルプ"))])]
    bubbles = [_registration_bubble(r) for r in current[:MAX_CAROUSEL_BUBBLES - 1]]
    bubbles.append(_actions_bubble())
    intro = text(_("登録は{n}件です。").format(n=len(current))
                 + ("\n" + _("（最初の{shown}件を表示しています）").format(shown=MAX_CAROUSEL_BUBBLES - 1)
                    if len(current) > MAX_CAROUSEL_BUBBLES - 1 else ""))
    alt = _("登録状況：{names}").format(names=listing(place(r.entity) for r in current))
    return [intro, FlexMessage.from_dict({
        "type": "flex", "altText": clip(alt, MAX_ALT_TEXT),
        "contents": {"type": "carousel", "contents": bubbles}}),
        text(_("ほかに何をしますか？"), menu_actions())]


def _registration_bubble(registration: Registration) -> dict:
    buttons = [{"type": "button", "style": "secondary", "height": "sm",
                "action": tap(_("登録をやめる"), Leave(registration.id),
                              display=_("{place}の登録をやめる").format(
                                  place=place(registration.entity))).to_dict()}]
    if registration.kind == RegistrationKind.PREMIUM \
            and registration.premium_origin != Origin.CO_REGISTRATION:
        # Giving up premium only: back to basic, with R2's effect told beforehand.
        buttons.insert(0, {"type": "button", "style": "secondary", "height": "sm",
                           "action": tap(_("プレミアムをやめる"), GiveUp(registration.id),
                                         display=_("{place}のプレミアム登録をやめる").format(
                                             place=place(registration.entity))).to_dict()})
    return {"type": "bubble", "size": "kilo",
            "body": {"type": "box", "layout": "vertical", "contents": [_line(registration)]},
            "footer": {"type": "box", "layout": "vertical", "spacing": "sm",
                       "contents": buttons}}


def _actions_bubble() -> dict:
    return {"type": "bubble", "size": "kilo",
            "body": {"type": "box", "layout": "vertical", "contents": [
                {"type": "text", "text": _("そのほかの操作"), "weight": "bold"},
                {"type": "text", "size": "sm", "wrap": True, "color": MUTED_TEXT,
                 "text": _("ほかの自治体への登録や、すべてのデータの削除ができます。")}]},
            "footer": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": [
                {"type": "button", "style": "primary", "color": LINE_GREEN, "height": "sm",
                 "action": say(_("登録する")).to_dict()},
                {"type": "button", "style": "link", "height": "sm",
                 "action": tap(_("すべてのデータを削除"), DeleteAll()).to_dict()}]}}


def confirm_leave(registration: Registration, cascade: Sequence[Registration],
                  token: str) -> list[Message]:
    question = _("{place}の登録をやめますか？").format(place=place(registration.entity))
    if cascade:
        question += "\n" + _("{names}への同時登録も終わります。").format(
            names=listing(place(r.entity) for r in cascade))
    return [confirm(question, tap(_("登録をやめる"), ConfirmLeave(registration.id, token)),
                    tap(_("続ける"), Keep(token), display=_("登録を続ける")))]


def left(registration: Registration, cascade: Sequence[Registration]) -> list[Message]:
    body = _("{place}の登録をやめました。").format(place=place(registration.entity))
    if cascade:
        body += "\n" + _("{names}への同時登録も終わりました。").format(
            names=listing(place(r.entity) for r in cascade))
    return [text(body, menu_actions())]


def kept() -> list[Message]:
    return [text(_("登録はそのままです。"), menu_actions())]


def not_yours() -> list[Message]:
    return [text(_("この登録は見つかりませんでした（すでに終わっているか、ほかの方の登録です）。"
                   "最新の登録状況を表示します。"))]


def confirm_delete(count: int, token: str) -> list[Message]:
    question = (_("すべてのデータを削除しますか？{n}件の登録が終わり、アンケートの回答・"
                  "お住まい・お名前が消去されます。元に戻せません。").format(n=count) if count
                else _("すべてのデータを削除しますか？アンケートの回答・お住まい・お名前が消去されます。"
                       "元に戻せません。"))
    return [confirm(question, tap(_("削除する"), ConfirmDelete(token),
                                  display=_("すべてのデータを削除する")),
                    tap(_("やめる"), Keep(token), display=_("削除しない")))]


def deleted() -> list[Message]:
    return [text(_("あなたのデータを削除しました。ご利用ありがとうございました。"
                   "友だち登録はそのままなので、いつでも新しく登録できます。"),
                 [say(_("登録する"))])]


def confirm_help() -> str:
    return _("確認の途中です。ボタンで選んでください。やめるときは「キャンセル」です。")
