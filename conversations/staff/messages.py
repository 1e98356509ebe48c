"""Staff messages: the activity questions, QR codes and posters, the list, the figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from linebot.v3.messaging.models import Action, DatetimePickerAction, FlexMessage, ImageMessage, Message

from bot.codes.links import ROTATING_LINK_SECONDS, ROTATING_SCREEN_SECONDS
from bot.domain.calendar import today_in_japan
from bot.i18n import _, _l
from bot.i18n.dates import span
from bot.i18n.names import place
from bot.i18n.survey import RELATIONSHIP_LABELS
from bot.services.statistics import ActivityFigures, EntityStatistics, prefecture_name
from bot.store.models import Activity, ActivitySession, ActivityStatus, Entity, Staff
from conversations.common import (
    MAX_ALT_TEXT,
    MAX_CAROUSEL_BUBBLES,
    MUTED_TEXT,
    bullet,
    cancel_button,
    clip,
    confirm,
    label,
    listing,
    menu_actions,
    say,
    tap,
    text,
)
from conversations.postback import pack
from conversations.staff.draft import ActivityDraft
from conversations.staff.states import (
    Category,
    CodeKind,
    ConfirmFinish,
    Create,
    Designated,
    Finish,
    ForEntity,
    KeepOpen,
    MoreDays,
    PickDay,
    PickTime,
    ShowCodes,
)

CATEGORY_LABELS = {
    "volunteer": _l("ボランティア"),
    "side_job": _l("副業・兼業"),
    "community_council": _l("地域の話し合い"),
    "disaster_volunteering": _l("災害ボランティア"),
    "event_help": _l("祭り・イベントの手伝い"),
    "other": _l("その他"),
}


def category_name(code: str) -> str:
    return str(CATEGORY_LABELS[code])


def staff_only() -> list[Message]:
    return [text(_("このメニューは自治体の職員の方専用です。職員の方は、運営から届いた"
                   "「スタッフ招待」のコードをこのトークに送ってください。"), menu_actions())]


def enrolled(staff: Staff) -> list[Message]:
    role = _("管理者") if staff.role == "admin" else _("職員")
    return [text(_("{place}の{role}として登録しました。下のメニューが職員用に切り替わります。"
                   "活動の作成、QRコードの発行、参加人数の確認ができます。").format(
                       place=place(staff.entity), role=role), staff_actions())]


def invitation_refused(problem: str) -> list[Message]:
    reason = {
        "unknown": _("この招待コードは見つかりませんでした。コードを確認して、そのまま送り直してください。"),
        "used": _("この招待コードはすでに使われています。招待コードは1回だけ使えます。"
                  "新しいコードを運営に依頼してください。"),
        "expired": _("この招待コードは有効期限が切れています。新しいコードを運営に依頼してください。"),
    }[problem]
    return [text(reason, menu_actions())]


def staff_actions() -> list[Action]:
    return [say(_("活動を作る")), say(_("活動一覧")), say(_("お知らせを送る")),
            say(_("アンケート一覧")), say(_("集計")), say(_("審査")), say(_("施策管理")),
            say(_("ヘルプ"))]


def staff_help() -> str:
    return _("職員の方は：「活動を作る」「活動一覧」（QRコード・締め切り）、「お知らせを送る」「送信状況」、"
             "「アンケートを作る」「アンケート一覧」（結果・CSV）、「集計」。") \
        + "\n" + _("「審査」… プレミアム登録の申請・更新の審査（承認・却下）。") \
        + "\n" + _("「施策管理」… サポート施策の追加・編集・終了（管理者）。窓口で住民の登録証のQRコードを"
                    "読み取ると、自分の団体での登録内容を確認できます。")


def choose_entity(roles: Sequence[Staff], action: str) -> list[Message]:
    return [text(_("どの団体として操作しますか？"),
                 [tap(place(s.entity), ForEntity(s.entity.code, action)) for s in roles[:12]])]


def ask_title(entity: Entity) -> list[Message]:
    return [text(_("{place}の活動を作ります。活動名を入力してください（例：「棚田の草刈り」）。")
                 .format(place=place(entity)), [cancel_button()])]


def title_problem() -> list[Message]:
    return [text(_("活動名は1〜60文字で入力してください。"), [cancel_button()])]


def ask_category(token: str) -> list[Message]:
    return [text(_("活動の種類を選んでください。"),
                 [tap(category_name(code), Category(code, token)) for code in CATEGORY_LABELS]
                 + [cancel_button()])]


def ask_designated(token: str) -> list[Message]:
    return [confirm(_("プレミアム登録の回数に数える「指定活動」にしますか？"),
                    tap(_("指定する"), Designated(1, token)),
                    tap(_("指定しない"), Designated(0, token)))]


def _enough_days(token: str, adding: bool) -> list[Action]:
    """While a further day is being added, the way out of adding it."""
    return [tap(_("日程はこれで全部"), MoreDays(0, token))] if adding else []


def ask_day(today: date, token: str, again: bool = False, adding: bool = False) -> list[Message]:
    body = (_("日付を選ぶか入力してください（例：12/5、2026-12-05）。") if not again
            else _("日付が読み取れませんでした。カレンダーで選ぶか「12/5」のように入力してください（今日以降）。"))
    picker = DatetimePickerAction(label=label(_("日付を選ぶ")), data=pack(PickDay(token)),
                                  mode="date", initial=today.isoformat(), min=today.isoformat())
    return [text(body, [picker, *_enough_days(token, adding), cancel_button()])]


def ask_time(which: str, token: str, again: bool = False,
             adding: bool = False) -> list[Message]:
    body = {"start": _("開始時刻を選ぶか入力してください（例：10:00）。"),
            "end": _("終了時刻を選ぶか入力してください（例：12:00）。")}[which]
    if again:
        body = _("時刻が読み取れませんでした。") + body
    picker = DatetimePickerAction(label=label(_("時刻を選ぶ")), data=pack(PickTime(token)),
                                  mode="time", initial="10:00" if which == "start" else "12:00")
    return [text(body, [picker, *_enough_days(token, adding), cancel_button()])]


def end_before_start() -> str:
    return _("終了時刻は開始時刻より後にしてください。")


def ask_place() -> list[Message]:
    return [text(_("場所を入力してください（例：「神山町役場 前庭」）。"), [cancel_button()])]


def ask_kind(token: str) -> list[Message]:
    return [text(_("受付のQRコードの種類を選んでください。\n"
                   "・印刷用：ポスターを掲示します（ふつうはこちら）\n"
                   "・画面表示：会場の画面に30秒ごとに変わるQRコードを表示します"
                   "（写真で回されるのを防ぎたいとき）"),
                 [tap(_("印刷用"), CodeKind(0, token)), tap(_("画面表示"), CodeKind(1, token)),
                  cancel_button()])]


def ask_more(windows: Sequence[tuple[datetime, datetime]], token: str) -> list[Message]:
    return [text(_("日程：") + "\n" + "\n".join(bullet(span(s, e)) for s, e in windows)
                 + "\n" + _("別の日にも開きますか？"),
                 [tap(_("別の日を追加"), MoreDays(1, token)),
                  tap(_("日程はこれで全部"), MoreDays(0, token)), cancel_button()])]


def summary(draft: ActivityDraft) -> str:
    lines = [_("活動名：{title}").format(title=draft.title),
             _("種類：{category}").format(category=category_name(draft.category)),
             _("指定活動：{yes}").format(yes=_("はい") if draft.designated else _("いいえ")),
             _("場所：{place}").format(place=draft.place),
             _("QRコード：{kind}").format(kind=_("画面表示（30秒ごとに更新）") if draft.rotating
                                          else _("印刷用")),
             _("日程：")] + [bullet(span(s, e)) for s, e in draft.sessions]
    return "\n".join(lines)


def ask_confirm(draft: ActivityDraft, token: str) -> list[Message]:
    return [text(summary(draft) + "\n\n" + _("この内容で作成しますか？"),
                 [tap(_("作成する"), Create(token)), cancel_button()])]


def created(activity: Activity) -> Message:
    return text(_("活動を作成しました。") + "\n" + _("「{title}」（{place}）").format(
        title=activity.title, place=activity.place))


def codes(activity: Activity, links: Sequence[tuple[ActivitySession, str, str, str]],
          rotating_links: Sequence[tuple[ActivitySession, str]]) -> list[Message]:
    """QR images and poster links (printed), or the rotating pages, of up to 3 sessions.

    `links` holds (session, image URL, poster PDF URL, poster PNG URL).
    """
    messages: list[Message] = []
    if rotating_links:
        lines = [_("会場の画面で、{minutes}分以内にこのリンクを開いてください。開いたブラウザだけが、"
                   "30秒ごとに変わるQRコードを{hours}時間表示できます。期限が切れたら「活動一覧」の"
                   "「QRコード」から新しいリンクを受け取れます：").format(
            minutes=ROTATING_LINK_SECONDS // 60, hours=ROTATING_SCREEN_SECONDS // 3600)]
        lines += [bullet(span(s.starts_at, s.ends_at)) + f"\n{url}" for s, url in rotating_links[:4]]
        return [text("\n".join(lines), staff_actions())]
    for session, image, _pdf, _png in links[:3]:
        messages.append(ImageMessage(originalContentUrl=image, previewImageUrl=image))
    lines = [_("QRコードを掲示してください。参加者がスマートフォンで読み取ると受付されます。"),
             _("印刷用ポスター（A4）：")]
    lines += [bullet(span(s.starts_at, s.ends_at)) + f"\n{pdf}" for s, _image, pdf, _png in links[:3]]
    if len(links) > 3:
        lines.append(_("ほかの日程のQRコードは「活動一覧」から表示できます。"))
    messages.append(text("\n".join(lines), staff_actions()))
    return messages


def activity_list(entity: Entity, activities: Sequence[Activity],
                  counts: dict[int, dict[int, int]]) -> list[Message]:
    if not activities:
        return [text(_("{place}の受付中の活動はありません。「活動を作る」から作成できます。")
                     .format(place=place(entity)), staff_actions())]
    bubbles = [_activity_bubble(a, counts[a.id]) for a in activities[:MAX_CAROUSEL_BUBBLES]]
    alt = _("活動一覧：{titles}").format(titles=listing(a.title for a in activities))
    return [text(_("{place}の受付中の活動です。").format(place=place(entity))),
            FlexMessage.from_dict({"type": "flex", "altText": clip(alt, MAX_ALT_TEXT),
                                   "contents": {"type": "carousel", "contents": bubbles}})]


def _activity_bubble(activity: Activity, per_session: dict[int, int]) -> dict:
    lines = [{"type": "text", "text": activity.title, "weight": "bold", "wrap": True},
             {"type": "text", "size": "sm", "color": MUTED_TEXT, "wrap": True,
              "text": (_("{category}・指定活動").format(category=category_name(activity.category))
                       if activity.designated else category_name(activity.category))},
             {"type": "text", "size": "sm", "color": MUTED_TEXT, "wrap": True,
              "text": activity.place}]
    for session in activity.sessions[:6]:
        lines.append({"type": "text", "size": "sm", "wrap": True,
                      "text": _("{when}：{n}人").format(when=span(session.starts_at, session.ends_at),
                                                       n=per_session.get(session.id, 0))})
    buttons = [tap(_("QRコード"), ShowCodes(activity.id)),
               tap(_("締め切る"), Finish(activity.id, ActivityStatus.CLOSED)),
               tap(_("中止する"), Finish(activity.id, ActivityStatus.CANCELLED))]
    return {"type": "bubble", "size": "kilo",
            "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": lines},
            "footer": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": [
                {"type": "button", "style": "secondary", "height": "sm", "action": b.to_dict()}
                for b in buttons]}}


def confirm_finish(activity: Activity, status: str, token: str) -> list[Message]:
    question = (_("「{title}」の受付を締め切りますか？これまでの参加記録は残ります。")
                if status == ActivityStatus.CLOSED else
                _("「{title}」を中止しますか？参加記録はプレミアム登録の回数に数えられなくなります。"))
    return [confirm(question.format(title=activity.title)[:240],
                    tap(_("はい"), ConfirmFinish(activity.id, status, token)),
                    tap(_("いいえ"), KeepOpen(token)))]


def finished(activity: Activity) -> list[Message]:
    body = (_("「{title}」の受付を締め切りました。") if activity.status == ActivityStatus.CLOSED
            else _("「{title}」を中止しました。"))
    return [text(body.format(title=activity.title), staff_actions())]


def kept_open() -> list[Message]:
    return [text(_("そのままにしました。"), staff_actions())]


def not_found() -> list[Message]:
    return [text(_("この活動は見つかりませんでした（ほかの団体の活動か、削除されたものです）。"),
                 staff_actions())]


def already_finished(activity: Activity) -> list[Message]:
    return [text(_("「{title}」はすでに受付を終えています。").format(title=activity.title),
                 staff_actions())]


#: How many relationship types and prefectures the chat lists; the CSV has them all.
TOP = 3
MAX_ACTIVITIES = 10


def figures(entity: Entity, stats: EntityStatistics, download_link: str) -> list[Message]:
    """A summary that reads on a phone; the link downloads every figure as CSV (1 hour)."""
    lines = [_("{place}の集計（{day}現在）").format(
                 place=place(entity), day=day_label(today_in_japan(stats.now))),
             "",
             _("■ 登録者（お住まいの方を除く）"),
             _("ベーシック：{n}人").format(n=stats.by_kind["basic"]),
             _("プレミアム：{n}人").format(n=stats.by_kind["premium"])]
    if entity.is_prefecture:
        lines.append(_("（うち市区町村からの同時登録：{n}人）").format(
            n=stats.by_origin["co_registration"]))
    lines += [_("新規登録：今月{this}人、先月{last}人").format(this=stats.this_month,
                                                       last=stats.last_month),
              "",
              _("■ つながり（多い順）"),
              *_ranked([(RELATIONSHIP_LABELS[k], n) for k, n in stats.by_relationship.items()]),
              "",
              _("■ お住まいの都道府県（多い順）"),
              *_ranked([(prefecture_name(code), n) for code, n in stats.by_prefecture.items()
                        if code is not None], none_yet=not stats.by_prefecture.get(None))]
    if stats.by_prefecture.get(None):  # last, whatever its size: it is no place
        lines.append(_("・{name}：{n}人").format(name=prefecture_name(None),
                                               n=stats.by_prefecture[None]))
    lines += ["",
              _("■ プレミアム候補：{n}人").format(n=stats.premium_candidates),
              _("過去12か月に指定活動に参加したベーシック登録者です。"),
              "",
              _("■ 指定活動への参加（過去12か月）"),
              _("1回：{n}人").format(n=stats.standing["1"]),
              _("2回：{n}人").format(n=stats.standing["2"]),
              _("3回以上：{n}人").format(n=stats.standing["3+"])]
    if stats.activities:
        lines += ["", _("■ 活動ごとの参加者")]
        lines += [_activity_line(a) for a in stats.activities[:MAX_ACTIVITIES]]
    lines += ["", _("■ すべての集計（CSV、1時間有効）"), download_link]
    return [text("\n".join(lines), staff_actions())]


def _ranked(counts: list[tuple[str, int]], none_yet: bool = True) -> list[str]:
    """The TOP largest non-zero counts, most first (ties keep their order); 「まだありません」
    for none, unless a line follows that says what there is."""
    found = sorted((item for item in counts if item[1]), key=lambda item: -item[1])[:TOP]
    if not found:
        return [_("・まだありません")] if none_yet else []
    return [_("・{name}：{n}人").format(name=name, n=n) for name, n in found]


def _activity_line(activity: ActivityFigures) -> str:
    line = _("・{title}：{n}人").format(title=activity.title, n=activity.people)
    if activity.sessions > 1:
        line += _("（{sessions}日程・延べ{check_ins}人）").format(sessions=activity.sessions,
                                                           check_ins=activity.check_ins)
    return line


def day_label(moment: date) -> str:
    return moment.isoformat()


def creation_help() -> str:
    return _("活動を作成しています。質問に答えるか、ボタンを押してください。やめるときは「キャンセル」です"
             "（作成途中の内容は保存されません）。")


def finish_help() -> str:
    return _("活動の受付を終えるかどうかを確認しています。「はい」か「いいえ」を押してください。")

