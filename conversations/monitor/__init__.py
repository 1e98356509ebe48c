"""Monitor surveys (自治体独自アンケート, R11): staff write, send and read them; residents answer."""

from bot.i18n import N_
from conversations.engine import Command, Conversation, State
from conversations.monitor import messages, steps
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
    SurveyAnsweringState,
    SurveyFor,
    SurveyWritingState,
    TiesPicked,
)

_writing = messages.creation_help

MONITOR = Conversation(
    name="monitor",
    commands=(Command((N_("アンケートを作る"),), steps.start, for_staff=True),
              Command((N_("アンケート一覧"),), steps.survey_list, for_staff=True)),
    states={
        SurveyWritingState.TITLE: State(steps.ask_title, _writing, on_text=steps.on_title),
        SurveyWritingState.KIND: State(steps.ask_kind, _writing, postbacks={PickKind: steps.on_kind}),
        SurveyWritingState.QUESTION: State(steps.ask_question, _writing, on_text=steps.on_question),
        SurveyWritingState.CHOICES: State(steps.ask_choices, _writing, on_text=steps.on_choices),
        SurveyWritingState.MORE: State(steps.ask_more, _writing,
                                       postbacks={MoreQuestions: steps.on_more}),
        SurveyWritingState.PREVIEW: State(steps.show_preview, _writing, postbacks={Send: steps.on_send}),
        SurveyWritingState.AUDIENCE: State(steps.ask_audience, _writing,
                                           postbacks={PickAudience: steps.on_audience}),
        SurveyWritingState.TIES: State(steps.ask_ties, _writing,
                                       postbacks={PickTie: steps.on_tie,
                                                  TiesPicked: steps.on_ties_picked}),
        SurveyWritingState.PREFECTURES: State(steps.ask_prefectures, _writing,
                                              on_text=steps.on_prefectures),
        SurveyWritingState.CONFIRM: State(steps.confirm_send, _writing,
                                          postbacks={SendNow: steps.on_send_now}),
        SurveyWritingState.CLOSE: State(steps.ask_close, messages.close_help,
                                        postbacks={ConfirmClose: steps.on_confirm_close,
                                                   KeepOpen: steps.on_keep_open}),
    },
    postbacks={
        SurveyFor: steps.on_for,
        SendDraft: steps.on_send_draft,
        ShowResults: steps.on_results,
        Close: steps.on_close,
    },
)

_answering = messages.answering_help
_answer = {Pick: steps.on_pick, NextQuestion: steps.on_next}

MONITOR_ANSWER = Conversation(
    name="monitor_answer",
    states={
        # A single choice or a rating: one tap, or the choice typed.
        SurveyAnsweringState.CHOICE: State(steps.ask_current_question, _answering, postbacks=_answer,
                                           on_text=steps.on_choice_typed),
        # ✓ toggles, then 次へ.
        SurveyAnsweringState.MULTIPLE: State(steps.ask_current_question, _answering, postbacks=_answer,
                                             on_text=steps.on_choice_typed),
        SurveyAnsweringState.TEXT: State(steps.ask_current_question, _answering,
                                         postbacks={NextQuestion: steps.on_next},
                                         on_text=steps.on_text_answer),
    },
    postbacks={StartAnswering: steps.on_start_answering},
)
