"""What the clock tells people about their premium registration (R8): reminders before expiry,
and the outcome at expiry. Pure builders; the rule lines are the premium application's own, so
the person reads the same explanation in both places."""

from __future__ import annotations

from datetime import datetime

from linebot.v3.messaging.models import Message

from bot.domain.premium import Judgement, Unmet
from bot.i18n import _
from bot.i18n.names import place
from bot.services.card import valid_until
from bot.store.models import Entity
from conversations.common import say, text
from conversations.premium.messages import (
    activities_line,
    at_expiry,
    home_line,
    identity_line,
    renewal_rule_lines,
    under_review_since,
)


def _rule_lines(entity: Entity, judgement: Judgement) -> list[str]:
    """R4 always (the figure people watch), the other rules only where they fail."""
    lines = [activities_line(entity, judgement)]
    if {Unmet.IDENTITY, Unmet.GUARDIAN} & set(judgement.unmet):
        lines.append(identity_line(judgement))
    if judgement.home:
        lines.append(home_line(entity, judgement))
    if Unmet.NOT_PARTICIPATING in judgement.unmet:
        lines.append(_("❌ {place}は現在ふるさと住民登録の受付をしていません。").format(
            place=place(entity)))
    return lines


def reminder(entity: Entity, until: datetime, days: int, judgement: Judgement) -> list[Message]:
    """`judgement` counts R4 over the 12 months before `until`: what the judgement at expiry
    will see, so the reminder says what is still missing by then."""
    head = _("{place}のプレミアム登録の有効期限は{date}です（あと{days}日）。").format(
        place=place(entity), date=valid_until(until), days=days)
    body = "\n\n".join([head, "\n".join(renewal_rule_lines(entity, judgement, until)),
                        at_expiry(entity, judgement)])
    # 「プレミアム登録」 shows the same figures again, whenever the person wants to look.
    return [text(body, [say(_("プレミアム登録")), say(_("活動履歴")), say(_("登録状況"))])]


def renewed(entity: Entity, until: datetime) -> list[Message]:
    return [text(_("{place}のプレミアム登録を更新しました。新しい有効期限は{date}です。").format(
        place=place(entity), date=valid_until(until)), [say(_("登録証")), say(_("登録状況"))])]


def reverted(entity: Entity, judgement: Judgement,
             prefecture: Entity | None) -> list[Message]:
    body = _("{place}のプレミアム登録は有効期限を迎え、更新の条件を満たしていないため、"
             "ベーシック登録に戻りました。").format(place=place(entity))
    if prefecture is not None:
        body += "\n" + _("{place}のプレミアム登録も、同時登録のためベーシック登録に戻りました。").format(
            place=place(prefecture))
    body += "\n\n" + "\n".join(_rule_lines(entity, judgement)) + "\n\n" + _(
        "条件を満たせば、いつでも「プレミアム登録」からもう一度申し込めます。")
    return [text(body, [say(_("プレミアム登録")), say(_("活動履歴"))])]


def under_review(entity: Entity, until: datetime) -> list[Message]:
    return [text(under_review_since(entity, until), [say(_("登録状況"))])]
