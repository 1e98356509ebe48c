"""Registration's messages: asking where, listing candidates, confirming, the relationship survey."""

from __future__ import annotations

from collections.abc import Sequence

from linebot.v3.messaging.models import Action, Message

from bot.domain import relationship_survey
from bot.i18n import _, _l, ngettext
from bot.i18n.names import place, short_name
from bot.i18n.survey import RELATIONSHIP_LABELS
from bot.store.models import Entity
from conversations.common import (
    PAGE_SIZE,
    bullet,
    cancel_button,
    confirm,
    listing,
    menu_actions,
    page,
    paginate,
    say,
    share_location,
    tap,
    text,
)
from conversations.places import place_labels
from conversations.registration.states import (
    Answer,
    ConfirmRegistration,
    DeclineRegistration,
    ListInPrefecture,
    ListPrefectures,
    NextQuestion,
    PickEntity,
    SearchPage,
)

CHOICE_LABELS = {
    "relationship": RELATIONSHIP_LABELS,  # the statistics name the answers in the same words
    "frequency": {
        "monthly": _l("月に1回以上"),
        "several_a_year": _l("年に数回"),
        "once_a_year": _l("年に1回くらい"),
        "rarely": _l("数年に1回"),
        "never": _l("まだ行ったことがない"),
    },
    "helping": {
        "events": _l("祭り・イベントの手伝い"),
        "volunteering": _l("ボランティア"),
        "disaster": _l("災害時の支援"),
        "side_job": _l("副業・兼業"),
        "community": _l("地域の話し合い"),
        "local_products": _l("特産品を買う"),
        "promotion": _l("魅力の発信"),
        "not_now": _l("今は考えていない"),
    },
}


def choice_label(question: str, value: str) -> str:
    return str(CHOICE_LABELS[question][value])


def ask_where(token: str) -> list[Message]:
    return [text(
        _("どの市区町村（または都道府県）に登録しますか？\n"
          "・名前の一部を入力（例：「神山」「かみやま」）\n"
          "・都道府県から選ぶ\n"
          "・位置情報を送って近くから探す"),
        [tap(_("都道府県から選ぶ"), ListPrefectures(0, token)), share_location(),
         cancel_button()])]


def where_help() -> str:
    return _("登録先を探しています。市区町村名の一部を漢字かひらがなで入力するか、"
             "「都道府県から選ぶ」「位置情報を送る」を使ってください。"
             "やめるときは「キャンセル」と送ってください。")


def no_match(query: str, token: str) -> list[Message]:
    return [text(_("「{query}」に当てはまる市区町村が見つかりませんでした。"
                   "別の書き方（ひらがな・漢字）で入力するか、都道府県から選んでください。")
                 .format(query=query[:40]),
                 [tap(_("都道府県から選ぶ"), ListPrefectures(0, token)), share_location(),
                  cancel_button()])]


def candidates(found: Sequence[Entity], number: int, token: str) -> list[Message]:
    """Search results: a list in the text, one quick reply each, participating ones first."""
    shown, has_previous, has_next = paginate(found, number, PAGE_SIZE)
    lines = [bullet(place(e)) + ("" if e.participating else _("（未参加）")) for e in shown]
    intro = ngettext("{n}件見つかりました。登録先を選んでください。",
                     "{n}件見つかりました。登録先を選んでください。", len(found)).format(n=len(found))
    actions: list[Action] = [tap(name, PickEntity(e.code, token))
                             for e, name in zip(shown, place_labels(shown))]
    return [text(intro + "\n" + "\n".join(lines),
                 page(actions, SearchPage(number - 1, token) if has_previous else None,
                      SearchPage(number + 1, token) if has_next else None)
                 + [cancel_button()])]


def nearby(found: Sequence[tuple[Entity, float]], token: str) -> list[Message]:
    if not found:
        return [text(_("近くに参加している市区町村はまだありません。"
                       "名前を入力するか、都道府県から選んでください。"),
                     [tap(_("都道府県から選ぶ"), ListPrefectures(0, token)), cancel_button()])]
    lines = [_("・{place}（約{km}km）").format(place=place(e), km=round(km)) for e, km in found]
    return [text(_("近くの参加市区町村です。登録先を選んでください。") + "\n" + "\n".join(lines),
                 [tap(name, PickEntity(e.code, token))
                  for (e, _km), name in zip(found, place_labels([e for e, _km in found]))]
                 + [cancel_button()])]


def prefectures(found: Sequence[Entity], number: int, token: str) -> list[Message]:
    if not found:
        return [text(_("現在、登録を受け付けている自治体はまだありません。"
                       "参加が始まったらお知らせできるよう、このままお待ちください。"))]
    shown, has_previous, has_next = paginate(found, number, PAGE_SIZE)
    actions: list[Action] = [tap(short_name(p), ListInPrefecture(p.code, 0, token))
                             for p in shown]
    return [text(_("都道府県を選んでください（登録を受け付けている自治体のある都道府県です）。"),
                 page(actions, ListPrefectures(number - 1, token) if has_previous else None,
                      ListPrefectures(number + 1, token) if has_next else None)
                 + [cancel_button()])]


def in_prefecture(prefecture: Entity, found: Sequence[Entity], number: int,
                  token: str) -> list[Message]:
    if not found:
        return [text(_("{prefecture}では、まだどの自治体も登録を受け付けていません。")
                     .format(prefecture=place(prefecture)),
                     [tap(_("都道府県から選ぶ"), ListPrefectures(0, token)), cancel_button()])]
    shown, has_previous, has_next = paginate(found, number, PAGE_SIZE)
    actions: list[Action] = [
        tap(_("{name}に直接").format(name=short_name(e)) if e.is_prefecture else short_name(e),
            PickEntity(e.code, token)) for e in shown]
    return [text(_("{prefecture}で登録を受け付けている自治体です。選んでください。")
                 .format(prefecture=place(prefecture)),
                 page(actions, ListInPrefecture(prefecture.code, number - 1, token) if has_previous else None,
                      ListInPrefecture(prefecture.code, number + 1, token) if has_next else None)
                 + [cancel_button()])]


def not_participating(entity: Entity, token: str) -> list[Message]:
    return [text(_("{place}は、まだふるさと住民登録に参加していません（参加するかどうかは"
                   "各自治体が決めます）。参加している自治体から選んでください。")
                 .format(place=place(entity)),
                 [tap(_("都道府県から選ぶ"), ListPrefectures(0, token)), share_location(),
                  cancel_button()])]


def already_registered(entity: Entity) -> list[Message]:
    return [text(_("{place}にはすでに登録しています。").format(place=place(entity)),
                 [say(_("登録状況")), say(_("登録する"))])]


def confirm_registration(entity: Entity, prefecture: Entity | None, token: str) -> list[Message]:
    question = _("{place}にベーシック登録しますか？").format(place=place(entity))
    if prefecture is not None:
        question += "\n" + _("{prefecture}にも同時に登録されます。").format(prefecture=place(prefecture))
    return [confirm(question,
                    tap(_("登録する"), ConfirmRegistration(entity.code, token)),
                    tap(_("やめる"), DeclineRegistration(token)))]


def confirm_help() -> str:
    return _("登録の確認をしています。「登録する」か「やめる」を押してください。")


def declined() -> list[Message]:
    return [text(_("登録はしませんでした。"), menu_actions())]


def registered_basic(entity: Entity, co_registered: Entity | None) -> str:
    """Where the person is now registered (and co-registered, R2): also said at a check-in."""
    body = _("{place}にベーシック登録しました。").format(place=place(entity))
    if co_registered is not None:
        body += "\n" + _("{prefecture}にも同時に登録しました。").format(prefecture=place(co_registered))
    return body


def registered(entity: Entity, co_registered: Entity | None) -> Message:
    body = registered_basic(entity, co_registered)
    body += "\n\n" + _("続けて、つながりについて3つ質問します（お住まいの市区町村をまだ"
                       "伺っていなければ、最後にもう1つ）。答えたくない質問は「スキップ」で飛ばせます。")
    return text(body)


QUESTION_TEXT = {
    "relationship": _l("{place}とはどんなつながりがありますか？（いくつでも選べます。"
                       "選び終わったら「次へ」）"),
    "frequency": _l("{place}をどのくらい訪れますか？"),
    "helping": _l("{place}のためにどんなことで関わりたいですか？（いくつでも選べます。"
                  "選び終わったら「次へ」）"),
}


def ask_question(code: str, entity: Entity, chosen: Sequence[str], token: str) -> list[Message]:
    question = relationship_survey.QUESTIONS[code]
    body = str(QUESTION_TEXT[code]).format(place=place(entity))
    # 次へ and スキップ first: a phone shows the first few quick replies, and there are up to 11.
    actions: list[Action] = []
    if question.multiple:
        if chosen:
            body += "\n" + _("選択中：{choices}").format(
                choices=listing(choice_label(code, v) for v in chosen))
        actions.append(tap(_("次へ"), NextQuestion(code, 0, token)))
    actions.append(tap(_("スキップ"), NextQuestion(code, 1, token)))
    for value in question.choices:
        name = choice_label(code, value)
        mark = "✓ " if value in chosen else ""
        actions.append(tap(mark + name, Answer(code, value, token), display=name))
    return [text(body, actions)]


def survey_help() -> str:
    return _("つながりについてのアンケート中です。ボタンで答えてください。"
             "答えたくない質問は「スキップ」、やめるときは「キャンセル」です"
             "（登録はそのまま残ります）。")
