"""Messages of the premium application: every rule with the person's own figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from linebot.v3.messaging.models import Action, FlexMessage, Message

from bot.domain.checkin import twelve_months_before
from bot.domain.premium import MAX_PREMIUM_PLACES, Judgement, Unmet
from bot.i18n import _
from bot.i18n.dates import date_with_year
from bot.i18n.names import place
from bot.store.models import Entity, Registration, RenewalMode
from conversations.common import (
    LINE_GREEN,
    MAX_ALT_TEXT,
    MUTED_TEXT,
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
from conversations.places import place_labels
from conversations.premium.states import Apply, ConfirmGiveUp, KeepPremium, NotNow, PickPlace

OK, MISSING = "✅", "❌"


def nothing_to_apply_for() -> list[Message]:
    return [text(_("プレミアム登録は、ふるさと住民登録をしている市区町村・都道府県に申し込めます。"
                   "まず「登録する」から登録してください。"), [say(_("登録する")), say(_("ヘルプ"))])]


def all_premium(current: Sequence[Registration], until_text) -> list[Message]:
    lines = [_("登録先はすべてプレミアム登録です。")]
    lines += [_("・{place}：{until}まで").format(place=place(r.entity), until=until_text(r))
              for r in current]
    return [text("\n".join(lines), [say(_("登録証")), *menu_actions()[:5]])]


def choose(registrations: Sequence[Registration], token: str) -> list[Message]:
    places = [r.entity for r in registrations[:12]]
    return [text(_("どの登録先にプレミアム登録を申し込みますか？"),
                 [tap(name, PickPlace(entity.code, token), display=place(entity))
                  for name, entity in zip(place_labels(places), places)] + [cancel_button()])]


def under_review(entity: Entity, requested_on: str) -> list[Message]:
    return [text(_("{place}へのプレミアム登録の申請は審査中です（{day}に申請）。"
                   "結果はこのトークでお知らせします。").format(place=place(entity), day=requested_on),
                 menu_actions())]


# Premium already: until when, the renewal's figures, what happens at expiry -------------------

def renewal_activities_line(entity: Entity, judgement: Judgement, until: datetime) -> str:
    """R4 as the judgement at expiry counts it: the 12 months before `until`."""
    progress = judgement.progress
    figures = _("{place}の指定活動への参加（{start}〜{end}）：{done}回／{required}回").format(
        place=place(entity), start=date_with_year(twelve_months_before(until)),
        end=date_with_year(until), done=progress.done, required=progress.required)
    if progress.reached:
        return f"{OK} {figures}"
    return f"{MISSING} {figures}\n" + _(
        "　有効期限の{end}までに、あと{n}回必要です。{place}が指定する活動に参加し、"
        "会場のQRコードを読み取ってください。{start}より前の参加は数えません。").format(
        end=date_with_year(until), n=progress.missing, place=place(entity),
        start=date_with_year(twelve_months_before(until)))


def renewal_rule_lines(entity: Entity, judgement: Judgement, until: datetime) -> list[str]:
    """R4 over the year before `until`, then the other rules where they fail."""
    return rule_lines(renewal_activities_line(entity, judgement, until), entity, judgement)


def rule_lines(activities: str, entity: Entity, judgement: Judgement) -> list[str]:
    """R4 always (the figure people watch), the other rules only where they fail."""
    lines = [activities]
    if {Unmet.IDENTITY, Unmet.GUARDIAN} & set(judgement.unmet):
        lines.append(identity_line(judgement))
    if judgement.home:
        lines.append(home_line(entity, judgement))
    if Unmet.NOT_PARTICIPATING in judgement.unmet:
        lines.append(_("❌ {place}は現在ふるさと住民登録の受付をしていません。").format(
            place=place(entity)))
    return lines


def at_expiry(entity: Entity, judgement: Judgement) -> str:
    """What the clock will do at expiry (R8), in the entity's renewal mode."""
    if entity.renewal_mode == RenewalMode.MANUAL:
        return _("期限を迎えると、{place}の職員が更新を審査します。"
                 "審査が終わるまでは、プレミアム登録のままです。").format(place=place(entity))
    if judgement.ok:
        return _("いまの条件のままなら、期限の日に自動で1年間更新されます。")
    return _("期限の日までに条件を満たすと自動で1年間更新されます。"
             "満たさない場合はベーシック登録に戻ります。")


def under_review_since(entity: Entity, until: datetime) -> str:
    return _("{place}のプレミアム登録は{date}に有効期限を迎えました。いま{place}の職員が"
             "更新を審査しています。結果が出るまでプレミアム登録のままです。").format(
        place=place(entity), date=date_with_year(until))


def premium_outlook(registration: Registration, judgement: Judgement,
                    reviewing: bool) -> str:
    """「プレミアム登録」 where the person is premium already: until when, the renewal's
    figures over the 12 months before the expiry, and what happens then."""
    entity, until = registration.entity, registration.premium_until
    head = _("{place}はプレミアム登録です（{until}まで有効）。").format(
        place=place(entity), until=date_with_year(until))
    if reviewing:
        return head + "\n" + under_review_since(entity, until)
    return "\n\n".join([head + "\n" + _("更新の条件（期限の日に、それまでの12か月で判定します）："),
                        "\n".join(renewal_rule_lines(entity, judgement, until)),
                        at_expiry(entity, judgement)])


def premium_status(outlooks: Sequence[str], activities_missing: bool) -> list[Message]:
    actions = ([say(_("活動履歴"))] if activities_missing else []) + [
        say(_("登録証")), say(_("サポート施策")), say(_("登録状況")), say(_("ヘルプ"))]
    return [text("\n\n".join(outlooks), actions)]


def co_registered_premium(registration: Registration) -> list[Message]:
    return [text(_("{place}は、同じ都道府県の市区町村のプレミアム登録に伴って、"
                   "すでにプレミアム登録になっています。").format(place=place(registration.entity)),
                 menu_actions())]


# The rules, one line each --------------------------------------------------------------------

def activities_line(entity: Entity, judgement: Judgement) -> str:
    progress = judgement.progress
    figures = _("{place}の指定活動への参加（過去12か月）：{done}回／{required}回").format(
        place=place(entity), done=progress.done, required=progress.required)
    if progress.reached:
        return f"{OK} {figures}"
    return f"{MISSING} {figures}\n" + _(
        "　あと{n}回必要です。{place}が指定する活動に参加し、会場のQRコードを読み取ってください。"
        "参加した活動は「活動履歴」で確認できます。").format(n=progress.missing, place=place(entity))


def identity_line(judgement: Judgement) -> str:
    identity = judgement.identity
    if not identity.verified:
        return f"{MISSING} " + _("マイナンバーカードでの本人確認：まだです") + "\n" + _(
            "　下の「本人確認をする」から、マイナンバーカードで本人確認をしてください。")
    line = f"{OK} " + _("マイナンバーカードでの本人確認：済み")
    if identity.minor and not identity.guardian_consented:
        line += "\n" + f"{MISSING} " + _("保護者の同意：まだです") + "\n" + _(
            "　18歳未満の方のプレミアム登録には、保護者の同意が必要です。下のボタンのページから、"
            "保護者の方にご自身のマイナンバーカードで同意していただいてください。")
    elif identity.minor:
        line += "\n" + f"{OK} " + _("保護者の同意：済み")
    return line


def home_line(entity: Entity, judgement: Judgement) -> str:
    if judgement.home:
        return f"{MISSING} " + _("{place}はお住まいの市区町村です。お住まいの市区町村には"
                                 "プレミアム登録できません（ベーシック登録はそのまま続きます）。"
                                 ).format(place=place(entity))
    return f"{OK} " + _("お住まいの市区町村ではありません")


def cap_line(judgement: Judgement, names: dict[str, str]) -> str:
    now = [names.get(code, code) for code in judgement.counted_now]
    after = len(judgement.counted_after)
    if Unmet.TOO_MANY_PLACES in judgement.unmet:
        return f"{MISSING} " + _("プレミアム登録は1人{cap}か所までです。いまの{n}か所：{names}").format(
            cap=MAX_PREMIUM_PLACES, n=len(now), names=listing(now)) + "\n" + _(
            "　どれかのプレミアム登録をやめると申し込めます（「登録状況」から）。"
            "都道府県のプレミアム登録は、その都道府県の市区町村にプレミアム登録があれば数に入りません。")
    line = f"{OK} " + _("プレミアム登録の数：申し込むと{n}か所（上限{cap}か所）").format(n=after, cap=MAX_PREMIUM_PLACES)
    if now:
        line += "\n" + _("　いま：{names}").format(names=listing(now))
    replaced = [names.get(code, code) for code in judgement.replaced]
    if replaced:
        line += "\n" + _("　{names}は、同じ都道府県の市区町村がプレミアム登録になると数に入らなくなります。"
                         ).format(names=listing(replaced))
    return line


def rules_text(entity: Entity, judgement: Judgement, names: dict[str, str]) -> str:
    return "\n".join([activities_line(entity, judgement), identity_line(judgement),
                      home_line(entity, judgement), cap_line(judgement, names)])


# What the person gets ------------------------------------------------------------------------

def verification_button(url: str, guardian: bool) -> FlexMessage:
    """A URI button to the verification page; a guardian's link is also shown to pass on."""
    body = (_("保護者の方にこのリンクを開いてもらい、保護者ご自身のマイナンバーカードで同意の手続きを"
              "していただいてください（72時間有効です）。") if guardian
            else _("マイナンバーカードで本人確認をします（スマートフォンのカードリーダーを使います）。"
                   "終わると結果がこのトークに届きます。"))
    button = _("保護者の同意へ") if guardian else _("本人確認をする")
    lines = [{"type": "text", "text": body, "wrap": True, "size": "sm"}]
    if guardian:
        lines.append({"type": "text", "text": url, "wrap": True, "size": "xs", "color": MUTED_TEXT})
    return FlexMessage.from_dict({
        "type": "flex", "altText": clip(body, MAX_ALT_TEXT),
        "contents": {"type": "bubble",
                     "body": {"type": "box", "layout": "vertical", "contents": lines},
                     "footer": {"type": "box", "layout": "vertical", "contents": [
                         {"type": "button", "style": "primary", "color": LINE_GREEN,
                          "action": {"type": "uri", "label": label(button), "uri": url}}]}}})


def not_yet(entity: Entity, judgement: Judgement, names: dict[str, str],
            verification_url: str | None, others: bool) -> list[Message]:
    """What is missing for premium at `entity`, and how to get there."""
    head = _("{place}のプレミアム登録の条件です。").format(place=place(entity))
    if Unmet.NOT_PARTICIPATING in judgement.unmet:
        return [text(_("{place}は現在ふるさと住民登録を受け付けていないため、"
                       "プレミアム登録の申し込みもできません。").format(place=place(entity)),
                     menu_actions())]
    if Unmet.NOT_REGISTERED in judgement.unmet:
        return [text(_("{place}には登録していません。プレミアム登録の前に、"
                       "まず「登録する」からベーシック登録をしてください。").format(place=place(entity)),
                     [say(_("登録する")), say(_("ヘルプ"))])]
    actions: list[Action] = []
    if Unmet.ACTIVITIES in judgement.unmet:
        actions.append(say(_("活動履歴")))
    if others:
        actions.append(say(_("プレミアム登録")))
    actions += [say(_("登録状況")), say(_("ヘルプ"))]
    replies: list[Message] = [text(head + "\n\n" + rules_text(entity, judgement, names) + "\n\n"
                                   + _("条件がそろうと申し込めます。"), actions)]
    if verification_url and (Unmet.IDENTITY in judgement.unmet or Unmet.GUARDIAN in judgement.unmet):
        replies.append(verification_button(verification_url, Unmet.IDENTITY not in judgement.unmet))
    return replies


def ask_confirm(entity: Entity, judgement: Judgement, names: dict[str, str], manual: bool,
                token: str) -> list[Message]:
    about = _("プレミアム登録は1年間有効です。{place}のサポート施策（交通費の支援、公共施設の住民料金など）を"
              "受けられます。").format(place=place(entity))
    review = ("\n" + _("{place}では、申し込みを職員が審査します。").format(place=place(entity))
              if manual else "")
    question = _("{place}にプレミアム登録を申し込みますか？").format(place=place(entity))
    return [text(_("{place}のプレミアム登録の条件をすべて満たしています。").format(place=place(entity))
                 + "\n\n" + rules_text(entity, judgement, names) + "\n\n" + about + review),
            confirm(question, tap(_("申し込む"), Apply(entity.code, token),
                                  display=_("プレミアム登録を申し込む")),
                    tap(_("やめる"), NotNow(token), display=_("申し込まない")))]


def granted(registration: Registration, co_registration: Registration | None,
            until: str) -> Message:
    body = _("{place}のプレミアム登録が完了しました。有効期限は{until}です。").format(
        place=place(registration.entity), until=until)
    if co_registration is not None:
        body += "\n" + _("{prefecture}も同時にプレミアム登録になりました（同時登録）。").format(
            prefecture=place(co_registration.entity))
    body += "\n" + _("窓口では下の登録証を見せてください。「サポート施策」で使える施策を確認できます。")
    return text(body, [say(_("サポート施策")), say(_("登録証")), say(_("登録状況"))])


def requested(entity: Entity, activities_to_confirm: bool = False) -> list[Message]:
    body = _("{place}へのプレミアム登録の申し込みを受け付けました。職員が審査します。"
             "結果はこのトークでお知らせします。").format(place=place(entity))
    if activities_to_confirm:
        body += "\n" + _("指定活動への参加は、職員が記録を確認して判断します。")
    return [text(body, menu_actions())]


def ask_staff_confirm(entity: Entity, judgement: Judgement, names: dict[str, str],
                      token: str) -> list[Message]:
    """Manual mode, only activities short (R4 "or by staff"): staff may confirm them."""
    head = _("{place}のプレミアム登録の条件です。").format(place=place(entity))
    note = _("QRコードで記録された指定活動の回数が足りませんが、{place}では申し込みを職員が審査し、"
             "参加を職員が確認できれば認められることがあります。").format(place=place(entity))
    question = _("{place}にプレミアム登録を申し込みますか？").format(place=place(entity))
    return [text(head + "\n\n" + rules_text(entity, judgement, names) + "\n\n" + note),
            confirm(question, tap(_("申し込む"), Apply(entity.code, token),
                                  display=_("プレミアム登録を申し込む")),
                    tap(_("やめる"), NotNow(token), display=_("申し込まない")))]


def not_now() -> list[Message]:
    return [text(_("申し込みはしませんでした。いつでも「プレミアム登録」から申し込めます。"),
                 menu_actions())]


def choose_help() -> str:
    return _("プレミアム登録を申し込む登録先を選んでいるところです。ボタンで選んでください。"
             "やめるときは「キャンセル」です。")


def confirm_help() -> str:
    return _("プレミアム登録を申し込むかどうかを伺っています。「申し込む」か「やめる」を選んでください。")


# Giving up premium (R2 told beforehand) -------------------------------------------------------

def confirm_give_up(registration: Registration, falls_back: Registration | None,
                    prefecture_stays: Registration | None, token: str) -> list[Message]:
    lines = [_("{place}のプレミアム登録をやめて、ベーシック登録に戻しますか？").format(
                 place=place(registration.entity)),
             _("サポート施策は受けられなくなります。登録とお知らせはそのまま続きます。"
               "もう一度プレミアム登録するには、改めて申し込みが必要です。")]
    if falls_back is not None:
        lines.append(_("{prefecture}のプレミアム登録（同時登録）も、ベーシック登録に戻ります。").format(
            prefecture=place(falls_back.entity)))
    elif prefecture_stays is not None:
        lines.append(_("{prefecture}のプレミアム登録はそのまま続きます"
                       "（直接申し込んだものか、ほかの市区町村のプレミアム登録に伴うものです）。").format(
            prefecture=place(prefecture_stays.entity)))
    return [text("\n".join(lines)),
            confirm(_("プレミアム登録をやめますか？"),
                    tap(_("プレミアムをやめる"), ConfirmGiveUp(registration.id, token),
                        display=_("プレミアム登録をやめる")),
                    tap(_("やめない"), KeepPremium(token), display=_("プレミアム登録を続ける")))]


def gave_up(registration: Registration, fell_back: Registration | None) -> list[Message]:
    body = _("{place}はベーシック登録に戻りました。").format(place=place(registration.entity))
    if fell_back is not None:
        body += "\n" + _("{prefecture}もベーシック登録に戻りました。").format(
            prefecture=place(fell_back.entity))
    return [text(body, menu_actions())]


def premium_kept() -> list[Message]:
    return [text(_("プレミアム登録はそのままです。"), menu_actions())]


def not_premium() -> list[Message]:
    return [text(_("このプレミアム登録は見つかりませんでした（すでにベーシック登録に戻っているか、"
                   "ほかの方の登録です）。"), [say(_("登録状況")), say(_("ヘルプ"))])]


def give_up_help() -> str:
    return _("プレミアム登録をやめるかどうかを伺っています。ボタンで選んでください。"
             "やめるときは「キャンセル」です。")
