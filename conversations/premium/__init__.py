"""Applying for premium: every rule explained with the person's figures (R4, R5, R7, R8)."""

from bot.i18n import N_
from conversations.engine import Command, Conversation, State
from conversations.premium import messages, steps
from conversations.premium.states import (
    Apply,
    ConfirmGiveUp,
    GiveUp,
    KeepPremium,
    MenuPremium,
    NotNow,
    PickPlace,
    PremiumState,
)

PREMIUM = Conversation(
    name="premium",
    commands=(Command((N_("プレミアム登録"), N_("プレミアム申請"), "Premium"), steps.start),),
    states={
        # A choice and the confirmations take only their buttons: anything typed is re-asked.
        PremiumState.CHOOSE: State(steps.ask_choice, messages.choose_help,
                                   postbacks={PickPlace: steps.on_pick}),
        PremiumState.CONFIRM: State(steps.ask_apply, messages.confirm_help,
                                    postbacks={Apply: steps.on_apply, NotNow: steps.on_not_now}),
        PremiumState.CONFIRM_GIVE_UP: State(
            steps.ask_give_up, messages.give_up_help,
            postbacks={ConfirmGiveUp: steps.on_confirm_give_up,
                       KeepPremium: steps.on_keep_premium}),
    },
    postbacks={GiveUp: steps.on_give_up, MenuPremium: lambda ctx, _pb: steps.start(ctx)},
)
