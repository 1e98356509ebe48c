"""Messages of identity verification: the command's card and the results told to the chat."""

from __future__ import annotations

from urllib.parse import quote

from linebot.v3.messaging.models import FlexMessage, Message, URIAction

from bot.i18n import _, ngettext
from bot.i18n.dates import day
from bot.i18n.names import place
from bot.identity import confirmation
from bot.identity.records import IdentityStatus, Outcome
from bot.store.models import Entity
from conversations.common import MAX_ALT_TEXT, built, clip, help_button, label, say, text


def premium_button():
    """Straight on to the application (the premium conversation's command)."""
    return say(_("プレミアム登録"))


def verify_button():
    return say(_("本人確認"))


def share_with_guardian(guardian_url: str) -> URIAction:
    """LINE's share screen (a LINE URL scheme) with the link and a word for the guardian."""
    message = _("ふるさと住民のプレミアム登録に、保護者の同意をお願いします（72時間有効）。") + "\n" + guardian_url
    return built(URIAction, label=label(_("保護者にLINEで送る")),
                 uri="https://line.me/R/share?text=" + quote(message, safe=""))


def _uri_button(caption: str, uri: str, primary: bool = True) -> dict:
    return {"type": "button", "style": "primary" if primary else "link", "height": "sm",
            "color": "#1f4e99" if primary else None,
            "action": {"type": "uri", "label": label(caption), "uri": uri}}


def verification_card(status: IdentityStatus, link: str, guardian_link: str | None) -> list[Message]:
    """A card with the button that opens the verification page, and where the person stands."""
    about = _("プレミアム登録には、マイナンバーカードでの本人確認が必要です。"
              "デジタル認証アプリで、カードの氏名・住所・生年月日を確認します。")
    lines = [{"type": "text", "text": _("マイナンバーカードで本人確認"), "weight": "bold",
              "size": "md", "wrap": True}]
    if status.verified:
        lines.append({"type": "text", "wrap": True, "size": "sm", "text": _(
            "本人確認済みです（{date}）。カードを更新したときは、もう一度確認できます。").format(
                date=day(status.verified_at))})
        if status.minor:
            lines.append({"type": "text", "wrap": True, "size": "sm", "text": (
                _("保護者の同意：済み") if status.guardian_consented else _(
                    "保護者の同意：まだです。下のリンクを保護者の方に送って、同意していただいてください。"))})
    else:
        lines.append({"type": "text", "wrap": True, "size": "sm", "text": about})
    lines.append({"type": "text", "wrap": True, "size": "xs", "color": "#666666", "text": _(
        "マイナンバー（12桁の個人番号）や暗証番号は、このサービスには届かず、保存もしません。")})
    buttons = [_uri_button(_("もう一度確認する") if status.verified else _("本人確認に進む"), link)]
    if guardian_link:
        buttons.append(_uri_button(_("保護者の同意リンク"), guardian_link, primary=False))
    bubble = {"type": "bubble",
              "body": {"type": "box", "layout": "vertical", "spacing": "md", "contents": lines},
              "footer": {"type": "box", "layout": "vertical", "spacing": "sm",
                         "contents": [_drop_none(b) for b in buttons]}}
    alt = _("本人確認済みです。") if status.verified else about
    return [FlexMessage.from_dict({"type": "flex", "altText": clip(alt, MAX_ALT_TEXT),
                                   "contents": bubble})]


def _drop_none(button: dict) -> dict:
    return {key: value for key, value in button.items() if value is not None}


def unavailable() -> list[Message]:
    return [text(_("本人確認は現在ご利用いただけません。準備ができしだいお知らせします。"))]


def premium_at_home(home: Entity) -> str:
    """R5: premium already held at the verified home runs out; it cannot be renewed."""
    return _("{place}のプレミアム登録は有効期限まで続きますが、お住まいの市区町村のため、"
             "更新はできません。").format(place=place(home))


def result(outcome: str, residence: Entity | None = None, guardian_url: str | None = None,
           premium_home: Entity | None = None) -> list[Message]:
    """What the chat hears after the verification page (empty: nothing to say)."""
    at_home = "\n" + premium_at_home(premium_home) if premium_home is not None else ""
    if outcome == Outcome.VERIFIED:
        body = _("マイナンバーカードで本人確認ができました。")
        if residence is not None:
            body += "\n" + _("お住まいを{place}として登録しました。").format(place=place(residence))
        return [text(body + at_home + "\n" + _("続けてプレミアム登録を申し込めます。"),
                     [premium_button()])]
    if outcome == Outcome.NEEDS_GUARDIAN:
        return [text(_("本人確認ができました。18歳未満のため、プレミアム登録には保護者の同意が必要です。"
                       "次のリンクを保護者の方に送り、保護者ご自身のマイナンバーカードで同意していただいてください"
                       "（72時間有効）。\n{url}").format(url=guardian_url) + at_home,
                     [share_with_guardian(guardian_url), help_button()])]
    if outcome == Outcome.GUARDIAN_CONSENTED:
        return [text(_("保護者の方の同意が届きました。プレミアム登録に進めます。"), [premium_button()])]
    if outcome == "cancelled":
        return [text(_("本人確認を中止しました。もう一度行うときは「本人確認」と送ってください。"),
                     [verify_button()])]
    if outcome == Outcome.SUBJECT_TAKEN:
        return [text(_("このマイナンバーカードは、別のLINEアカウントで本人確認に使われているため、"
                       "本人確認できませんでした。") + "\n"
                     + _("お心当たりがない場合は、登録先の自治体にお問い合わせください。"),
                     [help_button()])]
    if outcome in ("provider_error", Outcome.INCOMPLETE):
        return [text(_("デジタル認証アプリとのやりとりで問題が起きたため、本人確認ができませんでした。"
                       "時間をおいて、もう一度「本人確認」と送ってください。"), [verify_button()])]
    return []


def confirmed(outcome: str, tries_left: int = 0, residence: Entity | None = None,
              guardian_url: str | None = None, premium_home: Entity | None = None) -> list[Message]:
    """The answer to a 本人確認コード sent in the chat (bot.identity.flow.confirm_from_chat)."""
    again = _("もう一度行うときは「本人確認」と送ってください。")
    if outcome == confirmation.WRONG_CODE and tries_left:
        return [text(ngettext("本人確認コードが違います。ブラウザに表示されたコードを確かめて、"
                              "もう一度送ってください（あと{count}回）。",
                              "本人確認コードが違います。ブラウザに表示されたコードを確かめて、"
                              "もう一度送ってください（あと{count}回）。",
                              tries_left).format(count=tries_left))]
    if outcome == confirmation.WRONG_CODE:
        return [text(_("本人確認コードが続けて違ったため、今回の本人確認は取り消し、"
                       "確認した内容は破棄しました。") + "\n" + again, [verify_button()])]
    if outcome == "expired":
        return [text(_("本人確認コードの有効期限が過ぎたため、確認した内容は破棄しました。") + "\n" + again,
                     [verify_button()])]
    if outcome == confirmation.NOTHING_WAITING:
        return [text(_("コードを待っている本人確認はありません。") + "\n" + again, [verify_button()])]
    return result(outcome, residence, guardian_url, premium_home)

