"""Broadcast messages: composing, the audience, the preview, delivery counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from linebot.v3.messaging.models import DatetimePickerAction, Message

from bot.domain.audience import Audience
from bot.i18n import _
from bot.i18n.dates import moment_seen_from
from bot.i18n.names import place
from bot.store.models import Broadcast, BroadcastStatus, Entity
from conversations import audience_choice
from conversations.broadcast.states import (
    CancelScheduled,
    NoExtra,
    PickAudience,
    PickedWhen,
    Rechoose,
    SendLater,
    SendNow,
    Tie,
    TiesDone,
)
from conversations.common import cancel_button, label, say, tap, text
from conversations.postback import pack

MAX_TEXT = 2000


def ask_text(entity: Entity) -> list[Message]:
    return [text(_("{place}の登録者へお知らせを送ります。本文を入力してください（{n}文字まで）。")
                 .format(place=place(entity), n=MAX_TEXT), [cancel_button()])]


def text_too_long(length: int) -> list[Message]:
    return [text(_("本文が長すぎます（{length}文字）。{n}文字までにしてください。").format(
        length=length, n=MAX_TEXT), [cancel_button()])]


def ask_extra(token: str) -> list[Message]:
    return [text(_("写真を送るか、リンク（https://…）を入力すると、お知らせに添えられます。"
                   "添えないときは「なし」を押してください。"),
                 [tap(_("なし"), NoExtra(token)), cancel_button()])]


def extra_problem(token: str) -> list[Message]:
    return [text(_("写真として読み取れないか、https:// で始まるリンクではありませんでした。"
                   "もう一度送るか「なし」を押してください。"),
                 [tap(_("なし"), NoExtra(token)), cancel_button()])]


def ask_audience(token: str) -> list[Message]:
    return audience_choice.ask_audience(token, PickAudience)


def ask_ties(chosen: Sequence[str], token: str) -> list[Message]:
    return audience_choice.ask_ties(chosen, token, Tie, TiesDone)


ask_prefectures = audience_choice.ask_prefectures
no_prefecture_found = audience_choice.no_prefecture_found
describe = audience_choice.describe


def preview(content: list[Message], who: Audience, count: int, token: str) -> list[Message]:
    note = _("↑ プレビューです（まだ送っていません）。\n対象：{who}\n人数：{n}人").format(
        who=describe(who), n=count)
    sending = [tap(_("今すぐ送る"), SendNow(token)), tap(_("日時を指定"), SendLater(token))]
    if count == 0:
        note += "\n" + _("対象の人がいません。「送り先を選び直す」から条件を変えられます。")
        sending = []
    return [*content, text(note, [*sending, tap(_("送り先を選び直す"), Rechoose(token)),
                                  cancel_button()])]


def _when_picker(now: datetime, token: str) -> DatetimePickerAction:
    return DatetimePickerAction(label=label(_("日時を選ぶ")), data=pack(PickedWhen(token)),
                                mode="datetime", min=now.strftime("%Y-%m-%dT%H:%M"))


def ask_when(now: datetime, token: str) -> list[Message]:
    return [text(_("送る日時を選ぶか、「12/24 10:00」のように入力してください（日本時間）。"),
                 [_when_picker(now, token), cancel_button()])]


def when_problem(now: datetime, token: str) -> list[Message]:
    return [text(_("日時が読み取れないか、過去の日時です。日時を選ぶか、"
                   "「12/24 10:00」のように入力してください。"),
                 [_when_picker(now, token), cancel_button()])]


def accepted(broadcast: Broadcast, scheduled: bool, now: datetime) -> list[Message]:
    body = (_("{when}に送ります（予約しました）。").format(
                when=moment_seen_from(broadcast.send_at, now))
            if scheduled else _("送信を受け付けました。まもなく届きます。"))
    body += "\n" + _("届いた数は「送信状況」で確認できます。")
    return [text(body, [say(_("送信状況")), say(_("お知らせを送る"))])]


def status_name(status: str, pending: int = 0) -> str:
    """The broadcast's state as staff think of it: a queued one is "sending" until the
    last of its messages has left."""
    if status == BroadcastStatus.QUEUED:
        return _("送信中") if pending else _("送信完了")
    return {BroadcastStatus.SCHEDULED: _("予約中"), BroadcastStatus.SENDING: _("送信準備中"),
            BroadcastStatus.CANCELLED: _("取り消し")}[status]


def delivery_status(entity: Entity, items: Sequence[tuple[Broadcast, dict]],
                    now: datetime) -> list[Message]:
    if not items:
        return [text(_("{place}から送ったお知らせはまだありません。").format(place=place(entity)),
                     [say(_("お知らせを送る"))])]
    lines = [_("{place}のお知らせ（新しい順）").format(place=place(entity))]
    cancellable = []
    for broadcast, counts in items:
        lines.append("")
        lines.append(f"#{broadcast.id} {broadcast.summary}")
        status = status_name(broadcast.status, counts.get("pending", 0))
        when = moment_seen_from(broadcast.send_at, now)
        if broadcast.status in (BroadcastStatus.SCHEDULED, BroadcastStatus.CANCELLED):
            # Not sent: who the recipients are is settled only when it is.
            lines.append(_("{status}・{when}・対象：{who}").format(
                status=status, when=when, who=describe(Audience.from_json(broadcast.audience))))
            if broadcast.status == BroadcastStatus.SCHEDULED:
                cancellable.append(broadcast)
        else:
            lines.append(_("{status}・{when}・対象{n}人").format(
                status=status, when=when, n=broadcast.recipients))
            lines.append(_("届いた：{sent}人　送信待ち：{pending}人　失敗：{failed}人").format(
                sent=counts.get("sent", 0), pending=counts.get("pending", 0),
                failed=counts.get("failed", 0)))
            skipped = broadcast.recipients - sum(counts.values())
            if broadcast.status == BroadcastStatus.QUEUED and skipped > 0:
                lines.append(_("ブロック・データ削除のため送らなかった：{n}人").format(n=skipped))
    actions = [tap(_("#{id}を取り消す").format(id=b.id), CancelScheduled(b.id)) for b in cancellable[:5]]
    return [text("\n".join(lines), [*actions, say(_("お知らせを送る"))])]


def cancelled_scheduled(broadcast: Broadcast) -> list[Message]:
    return [text(_("#{id}の予約を取り消しました。").format(id=broadcast.id), [say(_("送信状況"))])]


def cannot_cancel() -> list[Message]:
    return [text(_("このお知らせは取り消せません（すでに送信が始まっているか、ほかの団体のものです）。"),
                 [say(_("送信状況"))])]


def compose_help() -> str:
    return _("お知らせを作成しています。質問に答えるか、ボタンを押してください。やめるときは「キャンセル」です"
             "（まだ何も送られません）。")
