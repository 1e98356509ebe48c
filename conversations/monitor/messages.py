"""Monitor survey messages: writing a survey, its audience, the invitation, answering, results."""

from __future__ import annotations

from collections.abc import Sequence

from linebot.v3.messaging.models import Action, FlexMessage, Message

from bot.domain import monitor_surveys as rules
from bot.domain.audience import Audience
from bot.i18n import _, _l, ngettext
from bot.i18n.dates import moment
from bot.i18n.names import place
from bot.services.monitor_surveys import Refusal, Results, rule
from bot.store.models import Entity, MonitorQuestion, MonitorSurvey, Staff, SurveyStatus
from conversations import audience_choice
from conversations.audience_choice import describe
from conversations.common import (
    FAINT_TEXT,
    LINE_GREEN,
    MAX_ALT_TEXT,
    MUTED_TEXT,
    cancel_button,
    clip,
    confirm,
    listing,
    menu_actions,
    say,
    tap,
    text,
)
from conversations.monitor.states import (
    Close,
    ConfirmClose,
    KeepOpen,
    MoreQuestions,
    NextQuestion,
    Pick,
    PickAudience,
    PickKind,
    PickTie,
    Send,
    SendDraft,
    SendNow,
    ShowResults,
    StartAnswering,
    SurveyFor,
    TiesPicked,
)

KIND_LABELS = {
    rules.Kind.SINGLE: _l("単一選択"),
    rules.Kind.MULTIPLE: _l("複数選択"),
    rules.Kind.RATING: _l("5段階評価"),
    rules.Kind.TEXT: _l("自由記述"),
}
STATUS_LABELS = {
    SurveyStatus.DRAFT: _l("下書き"),
    SurveyStatus.OPEN: _l("受付中"),
    SurveyStatus.CLOSED: _l("締め切り"),
}


def kind_name(kind: str) -> str:
    return str(KIND_LABELS[rules.Kind(kind)])


def survey_actions() -> list[Action]:
    """What staff can do next about surveys, as quick replies."""
    return [say(_("アンケートを作る")), say(_("アンケート一覧")), say(_("ヘルプ"))]


# Writing a survey ------------------------------------------------------------------------------

def choose_entity(roles: Sequence[Staff], action: str) -> list[Message]:
    return [text(_("どの団体として操作しますか？"),
                 [tap(place(s.entity), SurveyFor(s.entity.code, action)) for s in roles[:12]])]


def ask_title(entity: Entity) -> list[Message]:
    return [text(_("{place}の登録者へのアンケートを作ります。アンケートの題名を入力してください"
                   "（例：「移住体験ツアーについて」）。").format(place=place(entity)),
                 [cancel_button()])]


def title_problem() -> list[Message]:
    return [text(_("題名は1〜{n}文字で入力してください。").format(n=rules.MAX_TITLE),
                 [cancel_button()])]


def ask_kind(number: int, token: str) -> list[Message]:
    return [text(_("質問{n}の種類を選んでください。").format(n=number),
                 [tap(kind_name(kind), PickKind(kind.value, token)) for kind in rules.Kind]
                 + [cancel_button()])]


def ask_question(number: int, kind: str) -> list[Message]:
    return [text(_("質問{n}（{kind}）の文を入力してください（{limit}文字まで）。").format(
        n=number, kind=kind_name(kind), limit=rules.MAX_QUESTION_TEXT), [cancel_button()])]


def question_problem() -> list[Message]:
    return [text(_("質問の文は1〜{n}文字で入力してください。").format(n=rules.MAX_QUESTION_TEXT),
                 [cancel_button()])]


def ask_choices() -> list[Message]:
    return [text(_("選択肢を1行に1つずつ入力してください（{low}〜{high}個、それぞれ{n}文字まで）。\n"
                   "例：\nとても満足\n満足\nふつう\n不満").format(
                       low=rules.MIN_CHOICES, high=rules.MAX_CHOICES, n=rules.MAX_CHOICE_LENGTH),
                 [cancel_button()])]


def choices_problem(problem: rules.ChoiceProblem) -> list[Message]:
    reason = {
        rules.ChoiceProblem.TOO_FEW: _("選択肢は{low}個以上必要です。"),
        rules.ChoiceProblem.TOO_MANY: _("選択肢は{high}個までです。"),
        rules.ChoiceProblem.TOO_LONG: _("選択肢はそれぞれ{n}文字までです（ボタンに表示するため）。"),
        rules.ChoiceProblem.REPEATED: _("同じ選択肢が2回あります。"),
    }[problem].format(low=rules.MIN_CHOICES, high=rules.MAX_CHOICES, n=rules.MAX_CHOICE_LENGTH)
    return [text(reason + "\n" + _("選択肢を1行に1つずつ入力し直してください。"), [cancel_button()])]


def outline(title: str, questions: Sequence[rules.Question]) -> str:
    """The survey as staff check it: the title, then each question with its kind and choices."""
    lines = [_("「{title}」").format(title=title)]
    for number, question in enumerate(questions, start=1):
        lines.append(_("質問{n}（{kind}）：{text}").format(n=number, kind=kind_name(question.kind),
                                                      text=question.text))
        if question.choices:
            lines.append("　" + listing(question.choices))
    return "\n".join(lines)


def ask_more(title: str, questions: Sequence[rules.Question], token: str) -> list[Message]:
    actions = [tap(_("完成"), MoreQuestions(0, token)), cancel_button()]
    if len(questions) < rules.MAX_QUESTIONS:
        actions.insert(0, tap(_("質問を追加"), MoreQuestions(1, token)))
    body = outline(title, questions) + "\n\n" + _("質問を追加しますか？（{n}問まで）").format(
        n=rules.MAX_QUESTIONS)
    return [text(body, actions)]


def preview(survey: MonitorSurvey, token: str) -> list[Message]:
    body = (_("アンケートを下書きとして保存しました。") + "\n\n"
            + outline(survey.title, [rule(q) for q in survey.questions]) + "\n\n"
            + _("「送る」を押すと、送る相手を選べます。あとで送るときは「アンケート一覧」からどうぞ。"))
    return [text(body, [tap(_("送る"), Send(token)), cancel_button()])]


# Who receives it -------------------------------------------------------------------------------

def ask_audience(token: str) -> list[Message]:
    return audience_choice.ask_audience(token, PickAudience)


def ask_ties(chosen: Sequence[str], token: str) -> list[Message]:
    return audience_choice.ask_ties(chosen, token, PickTie, TiesPicked)


ask_prefectures = audience_choice.ask_prefectures
no_prefecture_found = audience_choice.no_prefecture_found


def invitation(survey: MonitorSurvey) -> FlexMessage:
    """What registrants receive: the survey and a button that starts answering it."""
    heading = _("{place}からアンケートのお願い").format(place=place(survey.entity))
    body = [{"type": "text", "text": heading, "size": "sm", "color": MUTED_TEXT, "wrap": True},
            {"type": "text", "text": survey.title, "weight": "bold", "wrap": True},
            {"type": "text", "size": "sm", "wrap": True,
             "text": _("質問は{n}問です。1問ずつ答えられ、答えたくない質問は飛ばせます。"
                       "回答は匿名で集計されます。").format(n=len(survey.questions))}]
    button = tap(_("回答する"), StartAnswering(survey.id))
    return FlexMessage.from_dict({
        "type": "flex", "altText": clip(_("{place}からアンケートのお願い：{title}").format(
            place=place(survey.entity), title=survey.title), MAX_ALT_TEXT),
        "contents": {"type": "bubble",
                     "body": {"type": "box", "layout": "vertical", "spacing": "sm",
                              "contents": body},
                     "footer": {"type": "box", "layout": "vertical", "contents": [
                         {"type": "button", "style": "primary", "color": LINE_GREEN,
                          "action": button.to_dict()}]}}})


def confirm_send(survey: MonitorSurvey, who: Audience, count: int, token: str) -> list[Message]:
    note = _("↑ プレビューです（まだ送っていません）。\n対象：{who}\n人数：{n}人").format(
        who=describe(who), n=count)
    actions = [tap(_("今すぐ送る"), SendNow(token)), cancel_button()]
    if count == 0:
        note += "\n" + _("対象の人がいません。条件を変えるときは「キャンセル」からやり直してください。")
        actions = [cancel_button()]
    return [invitation(survey), text(note, actions)]


def sent(survey: MonitorSurvey) -> list[Message]:
    return [text(_("「{title}」を送りました。回答の受付を始めます。結果は「アンケート一覧」から"
                   "見られます。").format(title=survey.title), survey_actions())]


def not_a_draft(survey: MonitorSurvey) -> list[Message]:
    return [text(_("「{title}」はすでに送ってあります。").format(title=survey.title),
                 survey_actions())]


# The list, results, closing ----------------------------------------------------------------------

def survey_list(entity: Entity, found: Sequence[MonitorSurvey],
                counts: dict[int, int]) -> list[Message]:
    if not found:
        return [text(_("{place}のアンケートはまだありません。「アンケートを作る」から作成できます。")
                     .format(place=place(entity)), survey_actions())]
    alt = _("アンケート一覧：{titles}").format(titles=listing(s.title for s in found))
    return [text(_("{place}のアンケート（新しい順）です。").format(place=place(entity)),
                 survey_actions()),
            FlexMessage.from_dict({"type": "flex", "altText": clip(alt, MAX_ALT_TEXT),
                                   "contents": {"type": "carousel", "contents": [
                                       _survey_bubble(s, counts.get(s.id, 0)) for s in found[:10]]}})]


def _survey_bubble(survey: MonitorSurvey, responses: int) -> dict:
    lines = [{"type": "text", "text": survey.title, "weight": "bold", "wrap": True},
             {"type": "text", "size": "sm", "color": MUTED_TEXT, "wrap": True,
              "text": _("{status}・{questions}・{responses}").format(
                  status=STATUS_LABELS[SurveyStatus(survey.status)],
                  questions=ngettext("質問{n}問", "質問{n}問", len(survey.questions)).format(
                      n=len(survey.questions)),
                  responses=ngettext("回答{n}件", "回答{n}件", responses).format(n=responses))},
             {"type": "text", "size": "xs", "color": FAINT_TEXT,
              "text": _("作成：{when}").format(when=moment(survey.created_at))}]
    if survey.status == SurveyStatus.DRAFT:
        buttons = [tap(_("送る"), SendDraft(survey.id))]
    else:
        buttons = [tap(_("結果"), ShowResults(survey.id))]
        if survey.status == SurveyStatus.OPEN:
            buttons.append(tap(_("締め切る"), Close(survey.id)))
    return {"type": "bubble", "size": "kilo",
            "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": lines},
            "footer": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": [
                {"type": "button", "style": "secondary", "height": "sm", "action": b.to_dict()}
                for b in buttons]}}


def _summary_lines(number: int, summary: rules.Summary) -> list[str]:
    question = summary.question
    lines = ["", _("質問{n}（{kind}）：{text}").format(n=number, kind=kind_name(question.kind),
                                                  text=rules.trim(question.text))]
    if question.kind == rules.Kind.RATING:
        average = "-" if summary.average is None else f"{summary.average:.1f}"
        lines.append(ngettext("平均：{average}（{n}人）", "平均：{average}（{n}人）",
                              summary.answered).format(average=average, n=summary.answered))
        lines.append(listing(_("{rating}：{n}").format(rating=rating, n=n) for rating, n in
                             reversed(list(zip(rules.RATINGS, summary.counts)))))
    elif question.kind == rules.Kind.TEXT:
        lines.append(_("回答：{n}件").format(n=summary.answered))
        lines += [_("・「{text}」").format(text=answer) for answer in summary.latest]
    else:
        lines += [_("・{choice}：{n}人").format(choice=choice, n=n)
                  for choice, n in zip(question.choices, summary.counts)]
    return lines


def results(found: Results, csv_url: str) -> list[Message]:
    survey = found.survey
    lines = [_("「{title}」の結果（{status}）").format(
                 title=survey.title, status=STATUS_LABELS[SurveyStatus(survey.status)]),
             _("回答数：{n}件（最後まで答えた人）").format(n=found.responses)]
    for number, summary in enumerate(found.summaries, start=1):
        lines += _summary_lines(number, summary)
    lines += ["", _("CSVファイル（1時間有効、回答者は匿名）：") + "\n" + csv_url]
    actions = [say(_("アンケート一覧"))]
    if survey.status == SurveyStatus.OPEN:
        actions.insert(0, tap(_("締め切る"), Close(survey.id)))
    return [text("\n".join(lines), actions)]


def not_sent_yet(survey: MonitorSurvey) -> list[Message]:
    return [text(_("「{title}」はまだ送っていないので、結果はありません。").format(title=survey.title),
                 [tap(_("送る"), SendDraft(survey.id)), say(_("アンケート一覧"))])]


def confirm_close(survey: MonitorSurvey, token: str) -> list[Message]:
    return [confirm(_("「{title}」の回答の受付を締め切りますか？これまでの回答は残ります。")
                    .format(title=survey.title),
                    tap(_("はい"), ConfirmClose(survey.id, token)), tap(_("いいえ"), KeepOpen(token)))]


def closed(survey: MonitorSurvey) -> list[Message]:
    return [text(_("「{title}」の回答の受付を締め切りました。").format(title=survey.title),
                 [tap(_("結果"), ShowResults(survey.id)), *survey_actions()])]


def kept_open() -> list[Message]:
    return [text(_("アンケートはそのまま受付を続けます。"), survey_actions())]


def already_closed(survey: MonitorSurvey) -> list[Message]:
    return [text(_("「{title}」はすでに締め切っています。").format(title=survey.title),
                 survey_actions())]


def not_found() -> list[Message]:
    return [text(_("このアンケートは見つかりませんでした（ほかの団体のものか、削除されたものです）。"),
                 survey_actions())]


def creation_help() -> str:
    return _("アンケートを作成しています。質問に答えるか、ボタンを押してください。やめるときは"
             "「キャンセル」です（「完成」の前なら何も保存されません。完成後は下書きが残ります）。")


def close_help() -> str:
    return _("アンケートを締め切るかどうかを確認しています。「はい」か「いいえ」を押してください。")


# Answering -------------------------------------------------------------------------------------

def started(survey: MonitorSurvey, first: MonitorQuestion) -> Message:
    body = _("{place}のアンケート「{title}」にご協力ください（全{n}問）。").format(
        place=place(survey.entity), title=survey.title, n=len(survey.questions))
    if first.position > 1:
        body = _("「{title}」の続きから答えます（質問{n}から）。").format(
            title=survey.title, n=first.position)
    return text(body)


def ask(question: MonitorQuestion, total: int, chosen: Sequence[int], token: str) -> list[Message]:
    """One question with its buttons: choices, ✓ toggles and 次へ, 1–5, or typing."""
    kind = rules.Kind(question.kind)
    body = _("質問{n}/{total}：{text}").format(n=question.position, total=total, text=question.text)
    hint = {rules.Kind.SINGLE: _("（1つ選んでください）"),
            rules.Kind.MULTIPLE: _("（いくつでも選べます。選び終わったら「次へ」）"),
            rules.Kind.RATING: _("（1〜5で選んでください。5がいちばん高い評価です）"),
            rules.Kind.TEXT: _("（文字で入力してください。{n}文字を超えた分は省かれます）").format(n=rules.MAX_FREE_TEXT)}
    body += "\n" + hint[kind]
    actions: list[Action] = []
    if kind.has_choices:
        for index, choice in enumerate(question.choices):
            mark = "✓ " if index in chosen else ""
            actions.append(tap(mark + choice, Pick(question.id, index, token), display=choice))
    elif kind == rules.Kind.RATING:
        actions += [tap(str(r), Pick(question.id, r, token)) for r in rules.RATINGS]
    if kind == rules.Kind.MULTIPLE:
        if chosen:
            body += "\n" + _("選択中：{choices}").format(
                choices=listing(question.choices[i] for i in chosen))
        actions.append(tap(_("次へ"), NextQuestion(question.id, 0, token)))
    actions += [tap(_("スキップ"), NextQuestion(question.id, 1, token)), cancel_button()]
    return [text(body, actions)]


def thanks(survey: MonitorSurvey) -> list[Message]:
    return [text(_("「{title}」へのご回答ありがとうございました。{place}の取り組みに活かします。")
                 .format(title=survey.title, place=place(survey.entity)), menu_actions())]


def preview_button_tapped() -> list[Message]:
    return [text(_("これはプレビューのボタンです。アンケートを送ると、受け取った方がこのボタンから回答できます。"))]


def refused(refusal: Refusal, survey: MonitorSurvey | None) -> list[Message]:
    title = survey.title if survey is not None else ""
    body = {
        Refusal.NOT_OPEN: _("このアンケートは見つかりませんでした。"),
        Refusal.CLOSED: _("「{title}」は締め切りました。ご協力いただこうとしてくださり、"
                          "ありがとうございます。"),
        Refusal.NOT_REGISTRANT: _("このアンケートには、{place}からお送りした方だけが回答できます。"),
        Refusal.ALREADY_ANSWERED: _("「{title}」にはすでに回答いただいています。ありがとうございました。"),
    }[refusal]
    where = place(survey.entity) if survey is not None else ""
    return [text(body.format(title=title, place=where), menu_actions())]


def answering_help() -> str:
    return _("アンケートに回答中です。ボタンで選ぶか、自由記述の質問には文字で答えてください。"
             "答えたくない質問は「スキップ」、中断するときは「キャンセル」です"
             "（続きは、お知らせの「回答する」からいつでも答えられます）。")
