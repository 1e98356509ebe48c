"""Residents' view of support measures (R6), and the counter check's answers to staff."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from linebot.v3.messaging.models import Action, Message

from bot.domain import support as rules
from bot.i18n import N_, _
from bot.i18n.dates import clock, date_with_year
from bot.i18n.names import place
from bot.store.models import Entity, Registration, RegistrationKind, SupportMeasure
from conversations.card import kind_and_validity
from conversations.common import MAX_TEXT, clip, listing, menu_actions, say, text
from conversations.my_registrations.messages import kind_name

#: msgids, so that a typed category name is understood in every language (bot.i18n.in_every_locale).
CATEGORY_LABELS = {
    "travel": N_("交通費の支援"),
    "lodging": N_("宿泊費の支援"),
    "workspace": N_("仕事場の利用料支援"),
    "facility_rates": N_("公共施設の住民料金"),
    "evacuation": N_("災害時の避難受け入れ"),
    "in_person_service": N_("その他の現地サービス"),
}
#: Replies carry at most 5 messages; the last one holds the quick replies.
MAX_BLOCK_MESSAGES = 4
#: In the "what premium would bring" list, a description is cut to this many characters.
TEASER = 60


def category_name(code: str) -> str:
    msgid = CATEGORY_LABELS.get(code)
    return _(msgid) if msgid is not None else code


def refusal_text(reason: rules.Refusal) -> str:
    """Why a measure cannot be saved, in plain words (R6 for the return-gift cases)."""
    why_visit = _("サポート施策は、プレミアム登録者が現地を訪れて利用するもの（交通費・宿泊費・"
                  "仕事場の支援、公共施設の住民料金、災害時の避難受け入れ、その他の現地での"
                  "サービス）に限られます。訪問せずに品物が届く「返礼品」は制度上認められていません。")
    return {
        rules.Refusal.RETURN_GIFT: _("返礼品（お礼の品）はサポート施策として登録できません。") + "\n" + why_visit,
        rules.Refusal.SHIPPED_GOODS: _("品物を送る・届ける内容は、訪問せずに受け取れる返礼品にあたるため"
                                       "登録できません。") + "\n" + why_visit,
        rules.Refusal.UNKNOWN_CATEGORY: _("その種類はありません。次から選んでください：{names}").format(
            names=listing(category_name(c) for c in rules.CATEGORIES)),
        rules.Refusal.EMPTY: _("内容が空です。文字で入力してください。"),
        rules.Refusal.TOO_LONG: _("長すぎます。施策名は{title}文字まで、説明と使い方は{text}文字までです。"
                                  ).format(title=rules.MAX_TITLE, text=rules.MAX_TEXT),
    }[reason]


def measure_block(measure: SupportMeasure) -> str:
    return "\n".join([
        _("【{category}】{title}").format(category=category_name(measure.category),
                                         title=measure.title),
        measure.description,
        _("使い方：{how}").format(how=measure.how_to_use),
    ])


def _teaser(measure: SupportMeasure) -> str:
    return _("・【{category}】{title}：{description}").format(
        category=category_name(measure.category), title=measure.title,
        description=clip(measure.description, TEASER))


def _premium_block(registration: Registration, measures: Sequence[SupportMeasure]) -> str:
    head = _("■ {place}（{kind}）").format(place=place(registration.entity),
                                         kind=kind_and_validity(registration))
    if not measures:
        return head + "\n" + _("まだサポート施策は登録されていません。")
    return head + "\n\n" + "\n\n".join(measure_block(m) for m in measures)


def _basic_block(entity: Entity, measures: Sequence[SupportMeasure], home: bool) -> str:
    head = _("■ {place}").format(place=place(entity))
    if home:
        return head + "\n" + _("お住まいの市区町村のため、ここではプレミアム登録はできません。")
    if not measures:
        return head + "\n" + _("まだサポート施策は登録されていません。")
    return head + "\n" + "\n".join(_teaser(m) for m in measures)


def _pack(blocks: Sequence[str]) -> list[str]:
    """Blocks joined into at most MAX_BLOCK_MESSAGES texts within LINE's length limit."""
    bodies: list[str] = []
    for block in blocks:
        if bodies and len(bodies[-1]) + 2 + len(block) <= MAX_TEXT:
            bodies[-1] += "\n\n" + block
        elif len(bodies) < MAX_BLOCK_MESSAGES:
            bodies.append(block)
        else:
            bodies[-1] = clip(bodies[-1] + "\n\n" + block, MAX_TEXT)
    return bodies


def measures_view(premium: Sequence[Registration], basic: Sequence[Registration],
                  measures: dict[int, list[SupportMeasure]], home_id: int | None) -> list[Message]:
    """What the person can use now (premium), and what premium would bring (basic)."""
    blocks: list[str] = []
    actions: list[Action] = []
    if premium:
        blocks.append(_("プレミアム登録で受けられるサポート施策です。利用するときは、窓口で"
                        "「登録証」のQRコードを見せてください。"))
        blocks += [_premium_block(r, measures.get(r.entity_id, [])) for r in premium]
        actions.append(say(_("登録証")))
    if basic:
        blocks.append(_("ベーシック登録の登録先で、プレミアム登録をすると受けられるサポートです。"))
        blocks += [_basic_block(r.entity, measures.get(r.entity_id, []), r.entity_id == home_id)
                   for r in basic]
        blocks.append(_("プレミアム登録には、過去12か月にその登録先の指定活動に決められた回数参加していることと、"
                        "マイナンバーカードでの本人確認が必要です（1人3か所まで）。申し込むときは"
                        "「プレミアム登録」と送ってください。"))
        actions.append(say(_("プレミアム登録")))
    bodies = _pack(blocks)
    return [*(text(body) for body in bodies[:-1]), text(bodies[-1], actions + menu_actions())]


def nothing_registered() -> list[Message]:
    return [text(_("まだどこにも登録していません。サポート施策は、登録した市区町村・都道府県で"
                   "プレミアム登録をすると受けられます。まずは「登録する」から登録してください。"),
                 [say(_("登録する")), say(_("ヘルプ"))])]


# The counter check (staff) ----------------------------------------------------------------------

def card_for_staff_only() -> list[Message]:
    return [text(_("これは「ふるさと住民登録証」の確認用のQRコードです。自治体の窓口で職員が読み取って、"
                   "登録の内容を確かめるためのものです。ご自身の登録証は「登録証」と送ると表示されます。"),
                 [say(_("登録証")), *menu_actions()])]


def card_code_invalid() -> list[Message]:
    return [text(_("このQRコードは正しい登録証のコードではありません（改ざんされたか、別のものです）。"
                   "登録の確認はできません。ご本人に「登録証」と送ってもらい、新しいQRコードを"
                   "読み取ってください。"), [say(_("ヘルプ"))])]


def card_code_expired(expires_at: datetime) -> list[Message]:
    return [text(_("この登録証のQRコードは有効期限（{time}）が過ぎています。登録の確認はできません。"
                   "ご本人に「登録証」と送ってもらい、新しいQRコードを読み取ってください。").format(
                       time=clock(expires_at)), [say(_("ヘルプ"))])]


def not_registered_here(entities: Sequence[Entity]) -> list[Message]:
    return [text(_("この方は{places}には登録されていません。").format(
        places=listing(place(e) for e in entities)), [say(_("ヘルプ"))])]


def holder(name: str | None, display_name: str | None) -> str:
    if name:
        return _("氏名：{name}（マイナンバーカードで本人確認済み）").format(name=name)
    return _("名前：{name}（LINEの表示名です。本人確認前のため、身分証などでご確認ください）").format(
        name=display_name or _("名前なし"))


def validity(registration: Registration, now: datetime) -> str:
    if registration.kind != RegistrationKind.PREMIUM:
        return _("有効期限：なし（ベーシック登録）")
    if registration.premium_until is None:
        return _("有効期限：不明")
    until = date_with_year(registration.premium_until)
    if registration.premium_until <= now:
        return _("有効期限：{date}まで（期限を過ぎています。更新の手続き中です）").format(date=until)
    return _("有効期限：{date}まで").format(date=until)


def card_confirmed(who: str, found: Sequence[Registration], now: datetime) -> list[Message]:
    blocks = [_("登録を確認しました。"), who]
    for registration in found:
        blocks.append("\n".join([_("登録先：{place}").format(place=place(registration.entity)),
                                 _("種類：{kind}").format(kind=kind_name(registration.kind)),
                                 validity(registration, now)]))
    return [text("\n\n".join(blocks), [say(_("ヘルプ"))])]
