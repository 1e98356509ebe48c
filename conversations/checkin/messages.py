"""Check-in's messages: the outcome in plain words (R12), progress toward premium (R4)."""

from __future__ import annotations

from linebot.v3.messaging.models import Message

from bot.domain.checkin import Progress, Refusal, window
from bot.i18n import _, ngettext
from bot.i18n.dates import moment, span
from bot.i18n.names import place
from bot.services.attendance import Attended, Outcome, Result
from bot.store.models import Entity
from conversations.checkin.states import NotNow, RegisterAndCheckIn
from conversations.common import confirm, menu_actions, say, tap, text


def outcome_text(result: Result) -> str:
    """One sentence on what happened to this code; also the LIFF page's answer."""
    if result.outcome is Outcome.INVALID:
        return _("このQRコードは読み取れましたが、正しいチェックイン用のコードではありません"
                 "（改ざんされたか、別のものです）。会場のスタッフにお知らせください。")
    activity, session = result.activity, result.session
    title = activity.title
    if result.outcome is Outcome.CHECKED_IN:
        return _("「{title}」（{when}）の参加を受け付けました。").format(
            title=title, when=span(session.starts_at, session.ends_at))
    if result.outcome is Outcome.ALREADY:
        return _("「{title}」はすでに受付済みです。二重には数えられません。").format(title=title)
    if result.outcome is Outcome.NEEDS_REGISTRATION:
        return _("「{title}」に参加するには、{place}へのふるさと住民登録（ベーシック登録）が必要です。"
                 ).format(title=title, place=place(result.entity))
    opens = window(session.starts_at, session.ends_at)
    return {
        Refusal.NOT_YET: _("「{title}」の受付はまだ始まっていません（受付開始：{opens}）。"),
        Refusal.EXPIRED: _("「{title}」の受付は終わりました（受付は{closes}まででした）。"),
        Refusal.CANCELLED: _("「{title}」は中止になりました。"),
        Refusal.CLOSED: _("「{title}」の受付は締め切られました。"),
        Refusal.OLD_ROTATING_CODE: _("このQRコードは古くなっています。会場の画面に表示されている"
                                     "最新のQRコードを読み取ってください。"),
        Refusal.WRONG_SESSION: _("このQRコードは正しくありません。会場のスタッフにお知らせください。"),
    }[result.refusal].format(title=title, opens=moment(opens.opens), closes=moment(opens.closes))


def progress_text(entity: Entity, progress: Progress, designated: bool) -> str:
    lines = [_("{place}の指定活動への参加（過去12か月）：{done}回／{required}回").format(
        place=place(entity), done=progress.done, required=progress.required)]
    if not designated:
        lines.append(_("※この活動はプレミアム登録の回数には数えられない活動です。"))
    if progress.reached:
        lines.append(_("プレミアム登録に必要な活動回数を満たしました。"))
        lines.append(_("プレミアム登録は、マイナンバーカードで本人確認をしたうえで、"
                       "交通費の支援や公共施設の住民料金などのサポートを受けられる登録です"
                       "（1人3か所まで）。「プレミアム登録」から申し込めます。"))
    else:
        lines.append(ngettext("あと{n}回でプレミアム登録に必要な回数になります。",
                              "あと{n}回でプレミアム登録に必要な回数になります。",
                              progress.missing).format(n=progress.missing))
    return "\n".join(lines)


def outcome(result: Result) -> list[Message]:
    body = outcome_text(result)
    if result.outcome in (Outcome.CHECKED_IN, Outcome.ALREADY):
        body += "\n\n" + progress_text(result.entity, result.progress, result.activity.designated)
        if result.progress.reached:
            return [text(body, [say(_("プレミアム登録")), *menu_actions()])]
        return [text(body, menu_actions())]
    return [text(body, menu_actions())]


def offer_registration(result: Result, token: str) -> list[Message]:
    question = outcome_text(result) + "\n" + _("登録してチェックインしますか？")
    return [confirm(question, tap(_("登録して参加"), RegisterAndCheckIn(token),
                                  display=_("登録してチェックインする")),
                    tap(_("やめる"), NotNow(token)))]


def not_checked_in() -> list[Message]:
    return [text(_("チェックインはしませんでした。登録しないと参加の記録は残りません。"), menu_actions())]


def register_help() -> str:
    return _("チェックインの前に登録するかどうかを伺っています。ボタンで選んでください。")


def photo_unreadable() -> list[Message]:
    return [text(_("画像を読み取れませんでした。QRコードの写真をもう一度送ってください。"), menu_actions())]


def no_code_in_photo() -> list[Message]:
    return [text(_("写真からQRコードが見つかりませんでした。明るい場所で、QRコード全体が"
                   "画面に収まるように撮って送ってください。スマートフォンのカメラで直接読み取る方法もあります。"),
                 menu_actions())]


def not_a_check_in_code() -> list[Message]:
    return [text(_("このQRコードは活動のチェックイン用ではないようです。会場に掲示されているQRコードを"
                   "読み取ってください。"), menu_actions())]


def history(done: list[tuple[Entity, list[Attended]]], progress: dict[int, Progress]) -> list[Message]:
    if not done:
        return [text(_("まだ参加した活動はありません。活動の会場でQRコードを読み取ると、ここに記録されます。"),
                     menu_actions())]
    blocks = []
    for entity, attended in done[:10]:
        standing = progress[entity.id]
        lines = [_("■ {place}（指定活動 過去12か月：{done}／{required}回）").format(
            place=place(entity), done=standing.done, required=standing.required)]
        for item in attended[:10]:
            mark = "★" if item.designated else _("・")
            lines.append(f"{mark} {moment(item.starts_at)} {item.title}")
        blocks.append("\n".join(lines))
    legend = _("★はプレミアム登録の回数に数えられる指定活動です。")
    return [text(_("あなたの活動履歴") + "\n\n" + "\n\n".join(blocks) + "\n\n" + legend, menu_actions())]
