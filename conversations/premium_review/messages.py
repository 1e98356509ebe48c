"""Staff's review of premium requests: the queue with the system's judgement, the decisions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from linebot.v3.messaging.models import FlexMessage, Message

from bot.domain.checkin import twelve_months_before
from bot.domain.premium import MAX_PREMIUM_PLACES, Judgement, Unmet
from bot.i18n import _, _l, ngettext
from bot.i18n.dates import date_with_year, day, moment
from bot.i18n.names import place
from bot.store.models import Entity, PremiumRequest, PremiumRequestPurpose, Staff
from conversations.common import MAX_ALT_TEXT, MUTED_TEXT, cancel_button, clip, listing, tap, text
from conversations.premium_review.states import Approve, Decline, ReviewFor
from conversations.staff.messages import staff_actions

MAX_SHOWN = 10

UNMET_LABELS = {
    Unmet.NOT_PARTICIPATING: _l("受付停止中"),
    Unmet.NOT_REGISTERED: _l("登録なし"),
    Unmet.ACTIVITIES: _l("指定活動の回数"),
    Unmet.IDENTITY: _l("本人確認"),
    Unmet.GUARDIAN: _l("保護者の同意"),
    Unmet.HOME: _l("お住まいの市区町村"),
    Unmet.TOO_MANY_PLACES: _l("3か所の上限"),
}


def unmet_names(unmet: Sequence[Unmet]) -> str:
    return listing(str(UNMET_LABELS[u]) for u in unmet)


def choose_entity(roles: Sequence[Staff]) -> list[Message]:
    return [text(_("どの団体の審査をしますか？"),
                 [tap(place(s.entity), ReviewFor(s.entity.code)) for s in roles[:12]])]


def nothing_pending(entity: Entity) -> list[Message]:
    return [text(_("{place}の審査待ちの申請はありません。").format(place=place(entity)),
                 staff_actions())]


def activities_period(request: PremiumRequest,
                      judged_at: datetime) -> tuple[datetime, datetime]:
    """The 12 months whose activities decide: before the expiry for a renewal (as the expiry
    job counts them), before the judgement for an application."""
    registration = request.registration
    end = (registration.premium_until if request.purpose == PremiumRequestPurpose.RENEWAL
           and registration.premium_until is not None else judged_at)
    return twelve_months_before(end), end


def verdict(judgement: Judgement) -> str:
    return (_("条件を満たしています") if judgement.ok
            else _("満たしていない条件があります（{names}）").format(names=unmet_names(judgement.unmet)))


def judgement_lines(judgement: Judgement, period: tuple[datetime, datetime]) -> list[str]:
    """The system's judgement as figures, for staff to decide on."""
    identity = judgement.identity
    lines = [_("指定活動（{start}〜{end}）：{done}回／{required}回").format(
                 start=date_with_year(period[0]), end=date_with_year(period[1]),
                 done=judgement.progress.done, required=judgement.progress.required),
             _("本人確認：{state}").format(state=_("済み") if identity.verified else _("まだ"))]
    if identity.minor:
        lines.append(_("保護者の同意：{state}").format(
            state=_("済み") if identity.guardian_consented else _("まだ")))
    if judgement.home:
        lines.append(_("お住まいの市区町村です（プレミアム登録はできません）"))
    lines.append(_("プレミアム登録の数：承認すると{n}か所（上限{cap}か所）").format(
        n=len(judgement.counted_after), cap=MAX_PREMIUM_PLACES))
    lines.append(_("判定：{verdict}").format(verdict=verdict(judgement)))
    return lines


def changed_since(stored: Judgement, current: Judgement) -> str | None:
    """A line when what approving would judge now differs from the stored judgement."""
    if (stored.unmet, stored.progress.done) == (current.unmet, current.progress.done):
        return None
    return _("いまの状況：指定活動{done}回／{required}回、{verdict}").format(
        done=current.progress.done, required=current.progress.required,
        verdict=verdict(current))


class Shown(NamedTuple):
    """One request in the queue: the system's judgement when it was made, and now."""
    request: PremiumRequest
    name: str
    stored: Judgement | None
    current: Judgement
    own: bool
    #: When the judgement shown was made: the request's time if stored, else now.
    judged_at: datetime


def queue(entity: Entity, shown: Sequence[Shown], total: int) -> list[Message]:
    """The oldest requests, with the judgement staff decide on."""
    bubbles = [_bubble(item) for item in shown]
    intro = ngettext("{place}の審査待ちは{n}件です。", "{place}の審査待ちは{n}件です。",
                     total).format(place=place(entity), n=total)
    if total > len(shown):
        intro += "\n" + _("（古い順に{shown}件を表示しています）").format(shown=len(shown))
    alt = _("審査待ち：{names}").format(names=listing(item.name for item in shown))
    return [text(intro), FlexMessage.from_dict({
        "type": "flex", "altText": clip(alt, MAX_ALT_TEXT),
        "contents": {"type": "carousel", "contents": bubbles}})]


def purpose_name(request: PremiumRequest) -> str:
    return _("更新") if request.purpose == PremiumRequestPurpose.RENEWAL else _("新規申請")


def _bubble(item: Shown) -> dict:
    request, name = item.request, item.name
    lines = [{"type": "text", "text": name, "weight": "bold", "wrap": True},
             {"type": "text", "size": "sm", "color": MUTED_TEXT, "wrap": True,
              "text": _("{purpose}・{day}").format(purpose=purpose_name(request),
                                                  day=day(request.requested_at))},
             {"type": "text", "size": "sm", "color": MUTED_TEXT, "wrap": True,
              "text": _("システムの判定（{moment}）：").format(moment=moment(item.judged_at))}]
    lines += [{"type": "text", "size": "sm", "wrap": True, "text": line}
              for line in judgement_lines(item.stored or item.current,
                                          activities_period(request, item.judged_at))]
    changed = changed_since(item.stored, item.current) if item.stored is not None else None
    if changed:
        lines.append({"type": "text", "size": "sm", "wrap": True, "weight": "bold",
                      "text": changed})
    if item.own:  # staff never decide their own request
        lines.append({"type": "text", "size": "sm", "wrap": True, "color": "#B00020",
                      "text": _("ご自身の申請です。ほかの職員が審査します。")})
        return {"type": "bubble", "size": "kilo",
                "body": {"type": "box", "layout": "vertical", "spacing": "sm",
                         "contents": lines}}
    buttons = [tap(_("承認する"), Approve(request.id), display=_("{name}さんを承認する").format(name=name)),
               tap(_("却下する"), Decline(request.id), display=_("{name}さんを却下する").format(name=name))]
    return {"type": "bubble", "size": "kilo",
            "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": lines},
            "footer": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": [
                {"type": "button", "style": "primary" if i == 0 else "secondary", "height": "sm",
                 "action": b.to_dict()} for i, b in enumerate(buttons)]}}


def approved(request: PremiumRequest, name: str) -> list[Message]:
    return [text(_("{name}さんの{purpose}を承認しました。本人にお知らせしました。").format(
        name=name, purpose=purpose_name(request)), staff_actions())]


def ask_reason(name: str) -> list[Message]:
    return [text(_("{name}さんの申請を却下する理由を入力してください（本人に伝わります）。").format(
        name=name), [cancel_button()])]


def reason_problem(limit: int) -> list[Message]:
    return [text(_("理由は1〜{n}文字で入力してください。").format(n=limit), [cancel_button()])]


def declined(request: PremiumRequest, name: str) -> list[Message]:
    body = _("{name}さんの{purpose}を却下しました。理由を本人にお知らせしました。").format(
        name=name, purpose=purpose_name(request))
    if request.purpose == PremiumRequestPurpose.RENEWAL:
        body += "\n" + _("登録はベーシック登録に戻りました。")
    return [text(body, staff_actions())]


def cannot_approve(name: str, unmet: Sequence[Unmet]) -> list[Message]:
    return [text(_("{name}さんの申請は承認できません。満たしていない条件：{names}。"
                   "指定活動の回数以外の条件（本人確認・お住まい・3か所の上限）は職員の判断で"
                   "変えられません。却下して理由をお伝えください。").format(
                       name=name, names=unmet_names(unmet)), staff_actions())]


def own_request() -> list[Message]:
    return [text(_("ご自身の申請は審査できません。同じ団体のほかの職員に審査を依頼してください。"),
                 staff_actions())]


def not_found() -> list[Message]:
    return [text(_("この申請は見つかりませんでした（ほかの団体の申請か、すでに審査が終わっています）。"),
                 staff_actions())]


def withdrawn(name: str) -> list[Message]:
    return [text(_("{name}さんはこの登録をすでにやめているため、申請は取り下げになりました。").format(
        name=name), staff_actions())]


def reason_help() -> str:
    return _("申請を却下する理由を入力するところです。やめるときは「キャンセル」です。")
