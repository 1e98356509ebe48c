"""Staff's review of premium requests: the queue with the system's judgement, the decisions."""

from __future__ import annotations

from collections.abc import Sequence

from linebot.v3.messaging.models import FlexMessage, Message

from bot.domain.premium import CAP, Judgement, Unmet
from bot.i18n import _, _l
from bot.models import Entity, PremiumRequest, PremiumRequestPurpose, Staff
from conversations.common import MAX_ALT_TEXT, cancel_button, clip, listing, tap, text
from conversations.dates import day
from conversations.names import place
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
    Unmet.CAP: _l("3か所の上限"),
}


def unmet_names(unmet: Sequence[Unmet]) -> str:
    return listing(str(UNMET_LABELS[u]) for u in unmet)


def choose_entity(roles: Sequence[Staff]) -> list[Message]:
    return [text(_("どの団体の審査をしますか？"),
                 [tap(place(s.entity), ReviewFor(s.entity.code)) for s in roles[:12]])]


def nothing_pending(entity: Entity) -> list[Message]:
    return [text(_("{place}の審査待ちの申請はありません。").format(place=place(entity)),
                 staff_actions())]


def judgement_lines(judgement: Judgement) -> list[str]:
    """The system's judgement as figures, for staff to decide on."""
    identity = judgement.identity
    lines = [_("指定活動（過去12か月）：{done}回／{required}回").format(
                 done=judgement.progress.done, required=judgement.progress.required),
             _("本人確認：{state}").format(state=_("済み") if identity.verified else _("まだ"))]
    if identity.minor:
        lines.append(_("保護者の同意：{state}").format(
            state=_("済み") if identity.guardian_consented else _("まだ")))
    if judgement.home:
        lines.append(_("お住まいの市区町村です（プレミアム登録はできません）"))
    lines.append(_("プレミアム登録の数：承認すると{n}か所（上限{cap}か所）").format(
        n=len(judgement.counted_after), cap=CAP))
    lines.append(_("判定：条件を満たしています") if judgement.ok
                 else _("判定：満たしていない条件があります（{names}）").format(
                     names=unmet_names(judgement.unmet)))
    return lines


def queue(entity: Entity, shown: Sequence[tuple[PremiumRequest, str, Judgement]],
          total: int) -> list[Message]:
    """The oldest requests as (request, the applicant's name, the system's judgement now)."""
    bubbles = [_bubble(request, name, judgement) for request, name, judgement in shown]
    intro = _("{place}の審査待ちは{n}件です。").format(place=place(entity), n=total)
    if total > len(shown):
        intro += "\n" + _("（古い順に{shown}件を表示しています）").format(shown=len(shown))
    alt = _("審査待ち：{names}").format(names=listing(name for _r, name, _j in shown))
    return [text(intro), FlexMessage.from_dict({
        "type": "flex", "altText": clip(alt, MAX_ALT_TEXT),
        "contents": {"type": "carousel", "contents": bubbles}})]


def purpose_name(request: PremiumRequest) -> str:
    return _("更新") if request.purpose == PremiumRequestPurpose.RENEWAL else _("新規申請")


def _bubble(request: PremiumRequest, name: str, judgement: Judgement) -> dict:
    lines = [{"type": "text", "text": name, "weight": "bold", "wrap": True},
             {"type": "text", "size": "sm", "color": "#555555", "wrap": True,
              "text": _("{purpose}・{day}").format(purpose=purpose_name(request),
                                                  day=day(request.requested_at))}]
    lines += [{"type": "text", "size": "sm", "wrap": True, "text": line}
              for line in judgement_lines(judgement)]
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


def not_found() -> list[Message]:
    return [text(_("この申請は見つかりませんでした（ほかの団体の申請か、すでに審査が終わっています）。"),
                 staff_actions())]


def withdrawn(name: str) -> list[Message]:
    return [text(_("{name}さんはこの登録をすでにやめているため、申請は取り下げになりました。").format(
        name=name), staff_actions())]


def reason_help() -> str:
    return _("申請を却下する理由を入力するところです。やめるときは「キャンセル」です。")
