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
        Monitor.TITLE: State(steps.prompt, _writing, on_input=steps.on_title),
        Monitor.KIND: State(steps.prompt, _writing, on_input=steps.buttons_only),
        Monitor.QUESTION: State(steps.prompt, _writing, on_input=steps.on_question),
        Monitor.CHOICES: State(steps.prompt, _writing, on_input=steps.on_choices),
        Monitor.MORE: State(steps.prompt, _writing, on_input=steps.buttons_only),
        Monitor.PREVIEW: State(steps.prompt, _writing, on_input=steps.buttons_only),
        Monitor.AUDIENCE: State(steps.prompt, _writing, on_input=steps.buttons_only),
        Monitor.TIES: State(steps.prompt, _writing, on_input=steps.buttons_only),
        Monitor.PREFECTURES: State(steps.prompt, _writing, on_input=steps.on_prefectures),
        Monitor.CONFIRM: State(steps.prompt, _writing, on_input=steps.buttons_only),
        Monitor.CLOSE: State(steps.prompt, messages.close_help, on_input=steps.buttons_only),
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
        Answering.CHOICE: State(steps.prompt, _answering, on_input=steps.on_choice_input),
        Answering.MULTIPLE: State(steps.prompt, _answering, on_input=steps.on_choice_input),
        Answering.TEXT: State(steps.prompt, _answering, on_input=steps.on_text_answer),
    },
    postbacks={
        StartAnswering: steps.on_start_answering,
        Pick: steps.on_pick,
        NextQuestion: steps.on_next,
    },
)
