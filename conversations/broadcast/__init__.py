"""Staff send information to their registrants (R11): compose, audience, preview, send."""

from bot.i18n import N_
from conversations.broadcast import messages, steps
from conversations.broadcast.states import (
    BroadcastState,
    CancelScheduled,
    MenuNews,
    NewsFor,
    NoExtra,
    PickAudience,
    PickedWhen,
    Rechoose,
    ResendRefused,
    SendLater,
    SendNow,
    Tie,
    TiesDone,
)
from conversations.engine import Command, Conversation, State

_help = messages.compose_help

BROADCAST = Conversation(
    name="news",
    commands=(Command((N_("お知らせを送る"),), steps.start, for_staff=True),
              Command((N_("送信状況"),), steps.status, for_staff=True)),
    states={
        BroadcastState.TEXT: State(steps.ask_text, _help, on_text=steps.on_text),
        # A picture, a link, or 「なし」; a place sent here is neither, and told so.
        BroadcastState.EXTRA: State(steps.ask_extra, _help, postbacks={NoExtra: steps.on_no_extra},
                                    on_text=steps.on_extra_link, on_photo=steps.on_extra_photo,
                                    on_location=steps.on_extra_location),
        BroadcastState.AUDIENCE: State(steps.ask_audience, _help,
                                       postbacks={PickAudience: steps.on_audience}),
        BroadcastState.RELATIONSHIPS: State(steps.ask_ties, _help,
                                            postbacks={Tie: steps.on_tie, TiesDone: steps.on_ties_done}),
        BroadcastState.PREFECTURES: State(steps.ask_prefectures, _help, on_text=steps.on_prefectures),
        BroadcastState.PREVIEW: State(steps.show_preview, _help,
                                      postbacks={SendNow: steps.on_send_now, SendLater: steps.on_send_later,
                                                 Rechoose: steps.on_rechoose}),
        BroadcastState.WHEN: State(steps.ask_when, _help, postbacks={PickedWhen: steps.on_when_picked},
                                   on_text=steps.on_when_typed),
    },
    postbacks={NewsFor: steps.on_for, CancelScheduled: steps.on_cancel_scheduled,
               ResendRefused: steps.on_resend_refused,
               MenuNews: lambda ctx, _pb: steps.start(ctx)},
)
