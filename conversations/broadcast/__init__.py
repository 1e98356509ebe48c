"""Staff send information to their registrants (R11): compose, audience, preview, send."""

from bot.i18n import N_
from conversations.broadcast import messages, steps
from conversations.broadcast.states import (
                                            Audience,
                                            CancelScheduled,
                                            MenuNews,
                                            News,
                                            NewsFor,
                                            NoExtra,
                                            PickedWhen,
                                            Rechoose,
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
        News.TEXT: State(steps.prompt, _help, on_input=steps.on_text),
        News.EXTRA: State(steps.prompt, _help, on_input=steps.on_extra, takes_photos=True),
        News.AUDIENCE: State(steps.prompt, _help, on_input=steps.buttons_only),
        News.RELATIONSHIPS: State(steps.prompt, _help, on_input=steps.buttons_only),
        News.PREFECTURES: State(steps.prompt, _help, on_input=steps.on_prefectures),
        News.PREVIEW: State(steps.prompt, _help, on_input=steps.buttons_only),
        News.WHEN: State(steps.prompt, _help, on_input=steps.on_when_typed),
    },
    postbacks={NewsFor: steps.on_for, NoExtra: steps.on_no_extra, Audience: steps.on_audience,
               Rechoose: steps.on_rechoose, Tie: steps.on_tie, TiesDone: steps.on_ties_done,
               SendNow: steps.on_send_now,
               SendLater: steps.on_send_later, PickedWhen: steps.on_when_picked,
               CancelScheduled: steps.on_cancel_scheduled,
               MenuNews: lambda ctx, _pb: steps.start(ctx)},
)
