"""Broadcast messages: composing, the audience, the preview, delivery counts."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from linebot.v3.messaging.models import DatetimePickerAction, Message

from bot.domain.audience import Audience
from bot.domain.calendar import JST
from bot.i18n import _
from bot.i18n.dates import moment_seen_from
from bot.i18n.names import place
from bot.store.models import (
    Broadcast,
    BroadcastStatus,
    Entity,
    OutboxFailure,
    OutboxPause,
    OutboxPauseReason,
)
from conversations import audience_choice
from conversations.broadcast.states import (
    CancelScheduled,
    NoExtra,
    PickAudience,
    PickedWhen,
    Rechoose,
    ResendRefused,
    SendLater,
    SendNow,
    Tie,
    TiesDone,
)
from conversations.common import cancel_button, clip, label, say, tap, text
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
                                mode="datetime",
                                min=now.astimezone(JST).strftime("%Y-%m-%dT%H:%M"))


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


@dataclass(frozen=True)
class Delivery:
    """What became of one broadcast's messages so far, as the outbox counts them."""

    broadcast: Broadcast
    counts: Mapping[str, int]  # recipients pending, sent, failed (rows resent not counted)
    failures: Mapping[OutboxFailure, int] = field(default_factory=dict)  # failed, by why
    refusal: str | None = None  # LINE's words for one refused row
    #: Refused recipients whose message is still kept (not purged after the retention period).
    resendable_people: int = 0

    @property
    def pending(self) -> int:
        return self.counts.get("pending", 0)

    @property
    def refused(self) -> int:
        return self.failures.get(OutboxFailure.REFUSED, 0)

    @property
    def expired(self) -> int:
        return self.failures.get(OutboxFailure.EXPIRED, 0)

    @property
    def resent(self) -> int:
        return self.failures.get(OutboxFailure.RESENT, 0)

    @property
    def finished(self) -> bool:
        """Every recipient is queued and none is waiting: what failed stays failed."""
        return self.broadcast.status == BroadcastStatus.QUEUED and not self.pending

    @property
    def resendable(self) -> bool:
        """Refused recipients, and nothing of it still going out: a resend is safe (LINE
        did not act on a refused request) and cannot overtake a try in flight."""
        return self.finished and self.resendable_people > 0


def status_name(delivery: Delivery, pause: OutboxPause | None = None) -> str:
    """The broadcast's state as staff think of it: "sent" only once every recipient it was
    sent to got it; one still waiting while the whole queue is paused says so."""
    status = delivery.broadcast.status
    if status not in (BroadcastStatus.QUEUED, BroadcastStatus.SENDING):
        return {BroadcastStatus.SCHEDULED: _("予約中"),
                BroadcastStatus.CANCELLED: _("取り消し")}[status]
    if delivery.pending and pause is not None:
        return _("一時停止中")
    if status == BroadcastStatus.SENDING:
        return _("送信準備中")
    if delivery.pending:
        return _("送信中")
    if not delivery.counts.get("failed", 0):
        return _("送信完了")
    return _("一部届かず") if delivery.counts.get("sent", 0) else _("送信できず")


#: LINE's reason for a refusal is shown this long at most.
REFUSAL_LENGTH = 120


def line_says(error: str) -> str:
    """LINE's reason for a refusal, shortened: `400 {"message": …, "details": [{…}]}` →
    `400 The request body has 1 error(s) (messages[0].text: May not be empty)`."""
    status, _space, body = error.partition(" ")
    if not status.isdigit():
        status, body = "", error
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if isinstance(answer, dict) and isinstance(answer.get("message"), str):
        words = answer["message"]
        details = answer.get("details")
        if isinstance(details, list) and details and isinstance(details[0], dict):
            first = details[0]
            words += " ({})".format(": ".join(str(first[key]) for key in ("property", "message")
                                              if first.get(key)))
    else:
        words = body
    return clip(" ".join(part for part in (status, words.strip()) if part), REFUSAL_LENGTH)


def resend_label(broadcast: Broadcast) -> str:
    return _("#{id}の未達分を再送").format(id=broadcast.id)


def paused_because(pause: OutboxPause, now: datetime) -> str:
    if pause.reason == OutboxPauseReason.UNAUTHORIZED:
        return _("LINEがこのアカウントの接続情報（アクセストークン）を受け付けていないため、"
                 "{since}から送信を止めています。運営担当者に連絡してください。"
                 "直り次第、続きを自動で送ります。").format(since=moment_seen_from(pause.since, now))
    if pause.resume_at > now:
        return _("LINEの送信制限のため少し待っています（{at}ごろ再開します）。").format(
            at=moment_seen_from(pause.resume_at, now))
    return _("LINEの送信制限のため少し待っています（まもなく再開します）。")


def _outcome(delivery: Delivery, pause: OutboxPause | None, now: datetime) -> list[str]:
    """Why some were not reached, in plain words, and what can be done about it."""
    lines = []
    if delivery.pending and pause is not None:
        lines.append(paused_because(pause, now))
    if delivery.refused and delivery.refusal:
        lines.append(_("LINEが受け付けなかった：{n}人（LINEの応答：{reason}）").format(
            n=delivery.refused, reason=line_says(delivery.refusal)))
    elif delivery.refused:
        lines.append(_("LINEが受け付けなかった：{n}人").format(n=delivery.refused))
    if delivery.expired:
        lines.append(_("届いたか確認できなかった：{n}人（二重に届かないよう、再送しません）").format(
            n=delivery.expired))
    if delivery.resendable:
        lines.append(_("→「{button}」で、受け付けられなかった人にもう一度送れます（二重には届きません）。"
                       "同じ理由でまた断られるときは、内容を見直して新しいお知らせとして送ってください。")
                     .format(button=resend_label(delivery.broadcast)))
    elif delivery.refused:
        lines.append(_("→ 送信が終わると、受け付けられなかった人へ再送できます。"))
    return lines


def delivery_status(entity: Entity, deliveries: Sequence[Delivery], pause: OutboxPause | None,
                    now: datetime) -> list[Message]:
    if not deliveries:
        return [text(_("{place}から送ったお知らせはまだありません。").format(place=place(entity)),
                     [say(_("お知らせを送る"))])]
    lines = [_("{place}のお知らせ（新しい順）").format(place=place(entity))]
    cancellable, resendable = [], []
    for delivery in deliveries:
        broadcast, counts = delivery.broadcast, delivery.counts
        lines.append("")
        lines.append(f"#{broadcast.id} {broadcast.summary}")
        status = status_name(delivery, pause)
        when = moment_seen_from(broadcast.send_at, now)
        if broadcast.status in (BroadcastStatus.SCHEDULED, BroadcastStatus.CANCELLED):
            # Not sent: who the recipients are is settled only when it is.
            lines.append(_("{status}・{when}・対象：{who}").format(
                status=status, when=when, who=describe(Audience.from_json(broadcast.audience))))
            if broadcast.status == BroadcastStatus.SCHEDULED:
                cancellable.append(broadcast)
            continue
        lines.append(_("{status}・{when}・対象{n}人").format(
            status=status, when=when, n=broadcast.recipients))
        lines.append(_("届いた：{sent}人　送信待ち：{pending}人　失敗：{failed}人").format(
            sent=counts.get("sent", 0), pending=counts.get("pending", 0),
            failed=counts.get("failed", 0)))
        skipped = broadcast.recipients - sum(counts.values())
        if broadcast.status == BroadcastStatus.QUEUED and skipped > 0:
            lines.append(_("ブロック・データ削除のため送らなかった：{n}人").format(n=skipped))
        lines.extend(_outcome(delivery, pause, now))
        if delivery.resendable:
            resendable.append(broadcast)
    actions = [*(tap(_("#{id}を取り消す").format(id=b.id), CancelScheduled(b.id))
                 for b in cancellable[:5]),
               *(tap(resend_label(b), ResendRefused(b.id)) for b in resendable[:5])]
    return [text("\n".join(lines), [*actions, say(_("お知らせを送る"))])]


def cancelled_scheduled(broadcast: Broadcast) -> list[Message]:
    return [text(_("#{id}の予約を取り消しました。").format(id=broadcast.id), [say(_("送信状況"))])]


def cannot_cancel() -> list[Message]:
    return [text(_("このお知らせは取り消せません（すでに送信が始まっているか、ほかの団体のものです）。"),
                 [say(_("送信状況"))])]


def resent(broadcast: Broadcast, queued: int) -> list[Message]:
    return [text(_("#{id}で届かなかった{n}人に、もう一度送ります。届いた数は「送信状況」で確認できます。")
                 .format(id=broadcast.id, n=queued), [say(_("送信状況"))])]


def already_resent(broadcast: Broadcast) -> list[Message]:
    return [text(_("#{id}の未達分はすでに再送しました。今回は何も送っていません。").format(
        id=broadcast.id), [say(_("送信状況"))])]


def nobody_to_resend(broadcast: Broadcast) -> list[Message]:
    return [text(_("#{id}には再送できる相手がいません（ブロック・データ削除をした人や、"
                   "記録の保存期間を過ぎた分には送りません）。今回は何も送っていません。").format(
        id=broadcast.id), [say(_("送信状況"))])]


def resend_after_sending(broadcast: Broadcast) -> list[Message]:
    return [text(_("#{id}はまだ送信中のため、再送していません。送信が終わってから、もう一度押してください。").format(
        id=broadcast.id), [say(_("送信状況"))])]


def cannot_resend() -> list[Message]:
    return [text(_("このお知らせは再送できません（ほかの団体のものです）。"), [say(_("送信状況"))])]


def compose_help() -> str:
    return _("お知らせを作成しています。質問に答えるか、ボタンを押してください。やめるときは「キャンセル」です"
             "（まだ何も送られません）。")
