"""What the verification pages say, in the person's language (Japanese msgids, bot.i18n)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.i18n import _
from bot.i18n.names import place
from bot.identity import confirmation
from bot.identity.records import Outcome, Relationship
from bot.store.models import Entity
from conversations.identity import messages


@dataclass
class Page:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    outcome: str = "info"   # data-outcome on the page, for tests and styles
    good: bool = False


def title() -> str:
    return _("マイナンバーカードで本人確認")


def kept() -> str:
    return _("保存するのは、本人確認をした日時、生年月日、氏名（窓口での確認用）、"
             "住所から判定したお住まいの市区町村だけです。住所そのもの、マイナンバー（12桁の個人番号）、"
             "暗証番号、電子証明書は保存しません。")


def consent_page(already: str | None, line_name: str | None = None, in_chat: bool = False) -> Page:
    """`in_chat`: a signed link's page, which ends with a code sent in the account's chat."""
    page = Page(title(), [
        _("プレミアム登録には、マイナンバーカードでの本人確認が必要です。"
          "次の画面（デジタル認証アプリ）で、カードの氏名・住所・生年月日を確認します。"),
        kept(),
        _("お住まいの市区町村は、確認した住所で登録し直します。")])
    if in_chat:
        page.paragraphs.append(_("最後に、このページに表示される本人確認コードを、"
                                 "ご自分のLINEのトークから送ると、本人確認が終わります。"))
    if already:
        page.paragraphs.insert(0, _("本人確認済みです（{date}）。カードを更新したときなどは、"
                                    "もう一度確認できます。").format(date=already))
    if line_name:  # whose account the card will be recorded on: not yours? do not go on
        page.paragraphs.insert(0, _("LINEの「{name}」さんとして本人確認します。"
                                    "ご自分のLINEアカウントでなければ、先に進まないでください。")
                               .format(name=line_name))
    return page


def consent_button() -> str:
    return _("同意して本人確認に進む")


def guardian_page(minor_name: str | None, line_name: str | None = None) -> Page:
    who = minor_name or _("お子さま")
    page = Page(_("保護者の同意"), [
        _("{name}さんは18歳未満のため、プレミアム登録には保護者の同意が必要です。"
          "保護者の方ご自身のマイナンバーカードで本人確認をして、同意してください。").format(name=who),
        _("保存するのは、保護者の方の本人確認の識別子（このサービス専用のID）、続柄、同意した日時だけです。"
          "氏名・住所・マイナンバーは保存しません。")])
    if line_name:
        page.paragraphs.insert(0, _("LINEの「{name}」さんのための同意です。").format(name=line_name))
    return page


def relationships() -> list[tuple[str, str]]:
    return [(Relationship.PARENT.value, _("親権者")),
            (Relationship.LEGAL_GUARDIAN.value, _("未成年後見人")),
            (Relationship.OTHER.value, _("その他"))]


def relationship_question() -> str:
    return _("お子さまとのご関係")


def consent_checkbox(minor_name: str | None) -> str:
    return _("{name}さんのプレミアム登録に同意します").format(name=minor_name or _("お子さま"))


def guardian_button() -> str:
    return _("本人確認をして同意する")


def guardian_form_incomplete() -> str:
    return _("ご関係を選び、同意のチェックを入れてください。")


def consent_again() -> str:
    return _("安全のため、このページの内容を確かめてから、もう一度ボタンを押してください。")


def reopen_button() -> str:
    """A refused post from a browser without the page's cookie: open the page afresh."""
    return _("このページを開き直す")


def back_to_line() -> str:
    return _("LINEのトークに戻る")


def retry_button() -> str:
    return _("もう一度試す")


def guardian_link_intro() -> str:
    return _("次のリンクを保護者の方に送ってください（72時間有効。LINEのトークにも送りました）。")


def guardian_here_button() -> str:
    return _("保護者がこの端末で続ける")


def result_page(outcome: str, residence: Entity | None, replayed: bool, *,
                guardian: bool = False, premium_at_home: Entity | None = None) -> Page:
    if outcome == Outcome.VERIFIED:
        page = Page(_("本人確認ができました"), [_("LINEのトークに戻ると、プレミアム登録を申し込めます。")],
                    outcome, good=True)
        if residence is not None:
            page.paragraphs.insert(
                0, _("お住まいを{place}として登録しました。").format(place=place(residence)))
    elif outcome == Outcome.NEEDS_GUARDIAN:
        page = Page(_("本人確認ができました"), [
            _("18歳未満のため、プレミアム登録には保護者の同意が必要です。"
              "保護者の方が、ご自身のマイナンバーカードで本人確認をして同意します。"
              "同じ端末でも、別の端末でもかまいません。")], outcome, good=True)
    elif outcome == Outcome.GUARDIAN_CONSENTED:
        page = Page(_("同意を受け付けました"), [
            _("ありがとうございました。お子さまにLINEでお知らせしました。")], outcome, good=True)
    elif outcome == "cancelled":
        page = Page(_("本人確認を中止しました"), [
            _("何も保存していません。もう一度行うときは、下のボタンを押してください。")], outcome)
    elif outcome == Outcome.SUBJECT_TAKEN:
        page = Page(_("このカードは別のアカウントで使われています"), [
            _("このマイナンバーカードは、別のLINEアカウントで本人確認に使われています。"
              "1枚のカードで本人確認できるアカウントは1つだけです。"
              "お心当たりがない場合は、登録先の自治体にお問い合わせください。")], outcome)
    elif outcome == Outcome.GUARDIAN_IS_MINOR:
        page = Page(_("保護者の方は18歳以上の必要があります"), [
            _("確認したカードの方は18歳未満のため、同意を受け付けられませんでした。"
              "保護者の方ご自身のカードで、もう一度お試しください。")], outcome)
    elif outcome == Outcome.GUARDIAN_IS_SELF:
        page = Page(_("ご本人のカードでは同意できません"), [
            _("確認したカードは、お子さまご本人のものでした。"
              "保護者の方ご自身のカードで、もう一度お試しください。")], outcome)
    elif outcome == Outcome.GUARDIAN_NOT_NEEDED:
        page = Page(_("保護者の同意は不要です"), [
            _("お子さまの本人確認の状況が変わったため、同意は不要になりました。")], outcome)
    elif outcome == "expired":
        page = Page(_("この手続きは期限切れです"), [again(guardian)], outcome)
    elif outcome == confirmation.AWAITING:  # the code page, reloaded: it was shown once
        page = Page(_("LINEのトークで本人確認コードを送ってください"), [
            _("表示された本人確認コードを送ると、本人確認が終わります。"
              "コードがわからなくなったときは、LINEのトークで「本人確認」と送って、"
              "もう一度始めてください。")], outcome)
    elif outcome in (confirmation.WRONG_CODE, confirmation.SUPERSEDED):
        page = Page(_("この本人確認は取り消されました"), [
            _("本人確認コードが続けて違ったか、新しい本人確認が始まったため、"
              "確認した内容は破棄しました。"), again()], outcome)
    else:  # provider_error, incomplete
        page = Page(_("本人確認ができませんでした"), [
            _("デジタル認証アプリとのやりとりで問題が起きました。何も保存していません。"
              "時間をおいて、もう一度お試しください。")], "provider_error")
    if premium_at_home is not None:
        page.paragraphs.insert(1, messages.premium_at_home(premium_at_home))
    if replayed:
        page.paragraphs.insert(0, _("この手続きはすでに終わっています。"))
    return page


def confirm_in_chat_page(line_name: str | None, minutes: int, button: bool) -> Page:
    """One's own card, read in a browser that cannot show whose LINE account it is (a signed
    link's, which may have been forwarded; another browser than the one that consented):
    finish in LINE. The warning comes before the code: handing the code to someone else is
    the one way a card can end up on their account."""
    account = (_("LINEの「{name}」さんのトーク").format(name=line_name) if line_name
               else _("本人確認を始めたLINEのトーク"))
    send = _("{account}に、次の本人確認コードを{minutes}分以内に送ってください。").format(
        account=account, minutes=minutes)
    if button:
        send += _("下のボタンを押すと、コードが入力された状態でトークが開きます。")
    return Page(_("あと一歩です：LINEでコードを送ってください"), [
        _("安全のため、カードの情報は、本人確認を始めたLINEアカウントのトークに"
          "このコードが届いてから登録します。"),
        send,
        _("ご自分のLINEアカウントでなければ、コードを送ったり、人に教えたりしないでください。"
          "伝えると、あなたのカードの情報が他人のアカウントに登録されます。"
          "送られなければ、確認した内容は{minutes}分で破棄されます。").format(minutes=minutes)],
        "confirm_in_chat")


def send_code_button() -> str:
    return _("LINEを開いてコードを送る")


def code_by_hand(typed: str, button: bool) -> str:
    """The message to send, in words: for typing it when the button cannot be used."""
    if button:
        return _("ボタンが使えないときは、トークで「{text}」と送ってください。").format(text=typed)
    return _("トークで「{text}」と送ってください。").format(text=typed)


def again(guardian: bool = False) -> str:
    if guardian:  # only the minor can ask the bot for a guardian's link
        return _("このリンクを送ってくれたお子さまに、新しいリンクを送ってもらってください。")
    return _("LINEのトークで「本人確認」と送ると、新しいリンクが届きます。")


def refusal_page(reason: str, guardian: bool = False) -> Page:
    headings = {"used": _("このリンクはすでに使われています"),
                "expired": _("このリンクは期限切れです"),
                "invalid": _("このリンクは正しくありません"),
                "unavailable": _("本人確認は現在ご利用いただけません"),
                "unknown_person": _("このLINEアカウントはまだ登録されていません"),
                "unbound": _("このブラウザでは続けられません"),
                "unbound_guardian": _("このブラウザでは続けられません")}
    other_browser = _("この手続きは、始めたブラウザでしか続けられません。"
                      "安全のため、ここでは何も保存していません。")
    paragraphs = {"unavailable": [_("準備ができしだい、LINEでお知らせします。")],
                  "unknown_person": [_("LINEでこのアカウントを友だち追加してから、もう一度お試しください。")],
                  "unbound": [other_browser, _("お手数ですが、LINEのトークで「本人確認」と送り、"
                                               "届いたリンクからもう一度始めてください。")],
                  "unbound_guardian": [other_browser, again(guardian=True)]}
    return Page(headings[reason], paragraphs.get(reason, [again(guardian)]), reason)


def liff_strings() -> dict[str, str]:
    return {"working": _("準備しています…"),
            "line_needed": _("このページはLINEアプリの中で開いてください。"),
            "failed": _("うまくいきませんでした。"
                        "LINEのトークで「本人確認」と送って、もう一度お試しください。")}
