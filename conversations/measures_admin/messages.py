"""Messages of the admin's support-measure management (R6)."""

from __future__ import annotations

from collections.abc import Sequence

from linebot.v3.messaging.models import Action, FlexMessage, Message

from bot.domain import support as rules
from bot.i18n import _
from bot.i18n.names import place
from bot.store.models import Entity, Staff, SupportMeasure
from conversations.common import (
    LINE_GREEN,
    MAX_ALT_TEXT,
    MAX_CAROUSEL_BUBBLES,
    MUTED_TEXT,
    cancel_button,
    clip,
    confirm,
    say,
    tap,
    text,
)
from conversations.measures_admin.draft import MeasureDraft
from conversations.measures_admin.states import (
    AddMeasure,
    ConfirmRetire,
    EditField,
    EditMeasure,
    KeepMeasure,
    MeasuresFor,
    PickCategory,
    RetireMeasure,
    SaveMeasure,
)
from conversations.support.messages import CATEGORY_LABELS, category_name, measure_block, refusal_text


def _what_next() -> list[Action]:
    return [say(_("施策管理")), say(_("ヘルプ"))]


def field_name(field: str) -> str:
    return {"title": _("施策名"), "category": _("種類"), "description": _("説明"),
            "how_to_use": _("使い方")}[field]


def admin_only() -> list[Message]:
    return [text(_("サポート施策の管理は、自治体の管理者の方だけができます。管理者に依頼してください。"),
                 [say(_("ヘルプ"))])]


def choose_entity(roles: Sequence[Staff]) -> list[Message]:
    return [text(_("どの団体のサポート施策を管理しますか？"),
                 [tap(place(r.entity), MeasuresFor(r.entity.code)) for r in roles[:12]])]


def _bubble(measure: SupportMeasure) -> dict:
    return {"type": "bubble", "size": "kilo",
            "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": [
                {"type": "text", "text": measure.title, "weight": "bold", "wrap": True},
                {"type": "text", "text": category_name(measure.category), "size": "sm",
                 "color": LINE_GREEN, "wrap": True},
                {"type": "text", "text": clip(measure.description, 200), "size": "sm",
                 "color": MUTED_TEXT, "wrap": True}]},
            "footer": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": [
                {"type": "button", "style": "secondary", "height": "sm",
                 "action": tap(_("編集する"), EditMeasure(measure.id),
                               display=_("「{title}」を編集する").format(title=measure.title)
                               ).to_dict()},
                {"type": "button", "style": "link", "height": "sm",
                 "action": tap(_("終了する"), RetireMeasure(measure.id),
                               display=_("「{title}」を終了する").format(title=measure.title)
                               ).to_dict()}]}}


def measure_list(entity: Entity, measures: Sequence[SupportMeasure]) -> list[Message]:
    actions = [tap(_("施策を追加"), AddMeasure(entity.code)), say(_("ヘルプ"))]
    if not measures:
        return [text(_("{place}のサポート施策はまだありません。「施策を追加」から登録できます。"
                       "プレミアム登録者が現地を訪れて使うもの（交通費・宿泊費・仕事場の支援、"
                       "公共施設の住民料金、避難の受け入れなど）が対象です。").format(place=place(entity)),
                     actions)]
    shown = measures[:MAX_CAROUSEL_BUBBLES]
    intro = _("{place}のサポート施策は{n}件です。").format(place=place(entity), n=len(measures))
    if len(measures) > MAX_CAROUSEL_BUBBLES:
        intro += "\n" + _("（最初の{shown}件を表示しています）").format(shown=MAX_CAROUSEL_BUBBLES)
    carousel = FlexMessage.from_dict({
        "type": "flex", "altText": clip(intro, MAX_ALT_TEXT),
        "contents": {"type": "carousel", "contents": [_bubble(m) for m in shown]}})
    return [carousel, text(intro, actions)]


def ask_title(entity: Entity) -> list[Message]:
    return [text(_("{place}のサポート施策を追加します。施策名を入力してください"
                   "（例：「帰省・来訪の交通費補助」）。").format(place=place(entity)),
                 [cancel_button()])]


def ask_category(token: str) -> list[Message]:
    return [text(_("種類を選んでください。返礼品（品物を送るもの）の種類はありません。"),
                 [tap(category_name(code), PickCategory(code, token)) for code in CATEGORY_LABELS]
                 + [cancel_button()])]


def ask_description() -> list[Message]:
    return [text(_("施策の内容を説明してください（{n}文字まで）。").format(n=rules.MAX_TEXT),
                 [cancel_button()])]


def ask_how() -> list[Message]:
    return [text(_("使い方を入力してください（例：「窓口で登録証のQRコードを見せてください」）。"),
                 [cancel_button()])]


def refused(reason: rules.Refusal) -> list[Message]:
    return [text(refusal_text(reason) + "\n" + _("もう一度入力してください。"), [cancel_button()])]


def category_refused(token: str) -> list[Message]:
    """Someone typed 返礼品 (or the like) as the category: why not, then the catalogue again."""
    return [text(refusal_text(rules.Refusal.RETURN_GIFT)), *ask_category(token)]


def summary(title: str, category: str, description: str, how_to_use: str) -> str:
    return "\n".join([_("【{category}】{title}").format(category=category_name(category), title=title),
                      description, _("使い方：{how}").format(how=how_to_use)])


def confirm_measure(draft: MeasureDraft, token: str) -> list[Message]:
    body = summary(draft.title, draft.category, draft.description, draft.how_to_use)
    return [text(_("この内容で登録します。") + "\n\n" + body),
            confirm(_("登録しますか？登録すると、プレミアム登録者に表示されます。"),
                    tap(_("登録する"), SaveMeasure(token), display=_("施策を登録する")),
                    tap(_("やめる"), KeepMeasure(token)))]


def saved(measure: SupportMeasure) -> list[Message]:
    return [text(_("「{title}」を登録しました。").format(title=measure.title),
                 _what_next())]


def ask_field(measure: SupportMeasure, token: str) -> list[Message]:
    return [text(_("「{title}」のどこを変えますか？").format(title=measure.title) + "\n\n"
                 + measure_block(measure),
                 [tap(field_name(f), EditField(f, token))
                  for f in ("title", "category", "description", "how_to_use")]
                 + [cancel_button()])]


def ask_value(field: str, current: str) -> list[Message]:
    return [text(_("新しい{field}を入力してください。今の内容：\n{current}").format(
        field=field_name(field), current=current), [cancel_button()])]


def updated(measure: SupportMeasure) -> list[Message]:
    return [text(_("「{title}」を更新しました。").format(title=measure.title) + "\n\n"
                 + measure_block(measure), _what_next())]


def confirm_retire(measure: SupportMeasure, token: str) -> list[Message]:
    return [confirm(_("「{title}」を終了しますか？住民の方には表示されなくなります。").format(
        title=measure.title),
        tap(_("終了する"), ConfirmRetire(measure.id, token), display=_("施策を終了する")),
        tap(_("やめる"), KeepMeasure(token)))]


def retired(measure: SupportMeasure) -> list[Message]:
    return [text(_("「{title}」を終了しました。住民の方には表示されなくなりました。").format(
        title=measure.title), _what_next())]


def kept() -> list[Message]:
    return [text(_("変更はしませんでした。"), _what_next())]


def not_found() -> list[Message]:
    return [text(_("この施策は見つかりませんでした（終了したか、あなたの団体の施策ではありません）。"),
                 _what_next())]


def add_help() -> str:
    return _("サポート施策を登録している途中です。質問に答えてください。返礼品（訪問せずに届く品物）は"
             "登録できません。やめるときは「キャンセル」です。")


def edit_help() -> str:
    return _("サポート施策を編集している途中です。ボタンで選ぶか、新しい内容を入力してください。"
             "やめるときは「キャンセル」です。")


def retire_help() -> str:
    return _("施策を終了するかどうかを伺っています。ボタンで選んでください。")
