"""Monitor surveys (自治体独自アンケート, R11): staff write, send and read them; residents answer."""

from bot.i18n import N_
from conversations.engine import Command, Conversation, State
from conversations.monitor import messages, steps
from conversations.monitor.states import (
                                          Answering,
                                          Close,
                                          ConfirmClose,
                                          KeepOpen,
                                          Monitor,
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

_writing = messages.creation_help

MONITOR = Conversation(
    name="monitor",
    commands=(Command((N_("アンケートを作る"),), steps.start, for_staff=True),
              Command((N_("アンケート一覧"),), steps.survey_list, for_staff=True)),
    states={
        Monitor.TITLE: State(steps.on_title, steps.prompt, _writing),
        Monitor.KIND: State(steps.buttons_only, steps.prompt, _writing),
        Monitor.QUESTION: State(steps.on_question, steps.prompt, _writing),
        Monitor.CHOICES: State(steps.on_choices, steps.prompt, _writing),
        Monitor.MORE: State(steps.buttons_only, steps.prompt, _writing),
        Monitor.PREVIEW: State(steps.buttons_only, steps.prompt, _writing),
        Monitor.AUDIENCE: State(steps.buttons_only, steps.prompt, _writing),
        Monitor.TIES: State(steps.buttons_only, steps.prompt, _writing),
        Monitor.PREFECTURES: State(steps.on_prefectures, steps.prompt, _writing),
        Monitor.CONFIRM: State(steps.buttons_only, steps.prompt, _writing),
        Monitor.CLOSE: State(steps.buttons_only, steps.prompt, messages.close_help),
    },
    postbacks={
        SurveyFor: steps.on_for,
        PickKind: steps.on_kind,
        MoreQuestions: steps.on_more,
        Send: steps.on_send,
        SendDraft: steps.on_send_draft,
        PickAudience: steps.on_audience,
        PickTie: steps.on_tie,
        TiesPicked: steps.on_ties_picked,
        SendNow: steps.on_send_now,
        ShowResults: steps.on_results,
        Close: steps.on_close,
        ConfirmClose: steps.on_confirm_close,
        KeepOpen: steps.on_keep_open,
    },
)

_answering = messages.answering_help

MONITOR_ANSWER = Conversation(
    name="monitor_answer",
    states={
        Answering.CHOICE: State(steps.on_choice_input, steps.prompt, _answering),
        Answering.MULTIPLE: State(steps.on_choice_input, steps.prompt, _answering),
        Answering.TEXT: State(steps.on_text_answer, steps.prompt, _answering),
    },
    postbacks={
        StartAnswering: steps.on_start_answering,
        Pick: steps.on_pick,
        NextQuestion: steps.on_next,
    },
)
