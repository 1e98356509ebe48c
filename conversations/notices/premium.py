"""What people and staff are told of premium registrations outside their own chat turn (R8):
reminders before expiry and the outcome at expiry (the clock), a request for the entity's
staff to review, and the staff's decision. The rule lines are the premium application's own,
so the person reads the same explanation in both places."""

from __future__ import annotations

from datetime import datetime

from linebot.v3.messaging.models import Message
from sqlalchemy.orm import Session

from bot.delivery import outbox
from bot.domain.premium import Judgement
from bot.i18n import _, use_locale
from bot.i18n.dates import date_with_year
from bot.i18n.names import place
from bot.services import premium
from bot.services.people import locale_of
from bot.store.models import Entity, PremiumRequest, PremiumRequestPurpose, PremiumRequestStatus
from conversations.card import card_without_qr
from conversations.common import quick_reply, say, text
from conversations.premium.messages import (
    activities_line,
    at_expiry,
    renewal_rule_lines,
    rule_lines,
    under_review_since,
)

# From the clock ---------------------------------------------------------------------------------


def reminder(entity: Entity, until: datetime, days: int, judgement: Judgement) -> list[Message]:
    """`judgement` counts R4 over the 12 months before `until`: what the judgement at expiry
    will see, so the reminder says what is still missing by then."""
    head = _("{place}のプレミアム登録の有効期限は{date}です（あと{days}日）。").format(
        place=place(entity), date=date_with_year(until), days=days)
    body = "\n\n".join([head, "\n".join(renewal_rule_lines(entity, judgement, until)),
                        at_expiry(entity, judgement)])
    # 「プレミアム登録」 shows the same figures again, whenever the person wants to look.
    return [text(body, [say(_("プレミアム登録")), say(_("活動履歴")), say(_("登録状況"))])]


def renewed(entity: Entity, until: datetime) -> list[Message]:
    return [text(_("{place}のプレミアム登録を更新しました。新しい有効期限は{date}です。").format(
        place=place(entity), date=date_with_year(until)), [say(_("登録証")), say(_("登録状況"))])]


def reverted(entity: Entity, judgement: Judgement,
             prefecture: Entity | None) -> list[Message]:
    body = _("{place}のプレミアム登録は有効期限を迎え、更新の条件を満たしていないため、"
             "ベーシック登録に戻りました。").format(place=place(entity))
    if prefecture is not None:
        body += "\n" + _("{place}のプレミアム登録も、同時登録のためベーシック登録に戻りました。").format(
            place=place(prefecture))
    unmet = rule_lines(activities_line(entity, judgement), entity, judgement)
    body += "\n\n" + "\n".join(unmet) + "\n\n" + _(
        "条件を満たせば、いつでも「プレミアム登録」からもう一度申し込めます。")
    return [text(body, [say(_("プレミアム登録")), say(_("活動履歴"))])]


def under_review(entity: Entity, until: datetime) -> list[Message]:
    return [text(under_review_since(entity, until), [say(_("登録状況"))])]


# Staff review (renewal mode `manual`) -----------------------------------------------------------

def review_requested(entity: Entity, purpose: str) -> list[Message]:
    body = (_("{place}へのプレミアム登録の申請が届きました。") if purpose == PremiumRequestPurpose.APPLICATION
            else _("{place}のプレミアム登録の更新が審査待ちです。")).format(place=place(entity))
    return [text(body + "\n" + _("「審査」で内容を確認し、承認または却下してください。"),
                 [say(_("審査"))])]


def decision(session: Session, request: PremiumRequest) -> list[Message]:
    """The staff's decision on `request`, for the person who asked."""
    where = place(request.entity)
    renewal = request.purpose == PremiumRequestPurpose.RENEWAL
    if request.status == PremiumRequestStatus.APPROVED:
        until = request.registration.premium_until
        body = (_("{place}のプレミアム登録の更新が承認されました。") if renewal
                else _("{place}のプレミアム登録が承認されました。")).format(place=where)
        if until is not None:
            body += "\n" + _("有効期限：{date}").format(date=date_with_year(until))
        # Read later than the QR code's 10 minutes: a card without it, a fresh one on request.
        card = card_without_qr(session, request.person)
        card.quick_reply = quick_reply([say(_("登録証"))])
        return [text(body), card]
    body = (_("{place}のプレミアム登録の更新は承認されませんでした。ベーシック登録に戻りました。")
            if renewal else _("{place}のプレミアム登録の申請は承認されませんでした。")).format(place=where)
    if request.reason:
        body += "\n" + _("理由：{reason}").format(reason=request.reason)
    return [text(body, [say(_("プレミアム登録")), say(_("登録状況"))])]


def tell_reviewers(session: Session, queued: premium.Queued, now: datetime) -> None:
    """A new request, to each member of the entity's staff who may decide it."""
    if not queued.new:
        return  # pending already: they were told when it came
    request = queued.request
    for reviewer in premium.reviewers(session, request):
        with use_locale(locale_of(reviewer)):
            outbox.push(session, reviewer.line_user_id,
                        review_requested(request.entity, request.purpose), now)


def tell_decision(session: Session, request: PremiumRequest, now: datetime) -> None:
    """The decision, to the person who asked (nothing for a request withdrawn meanwhile)."""
    person = request.person
    decided = request.status in (PremiumRequestStatus.APPROVED, PremiumRequestStatus.DECLINED)
    if decided and person.line_user_id:
        with use_locale(locale_of(person)):
            outbox.push(session, person.line_user_id, decision(session, request), now)
