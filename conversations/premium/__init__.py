"""Applying for premium: every rule explained with the person's figures (R4, R5, R7, R8)."""

from bot.i18n import N_
from conversations.engine import Command, Conversation, State
from conversations.premium import messages, steps
from conversations.premium.states import (
    Apply,
    Applying,
    ConfirmGiveUp,
    GiveUp,
    KeepPremium,
    MenuPremium,
    NotNow,
    PickPlace,
)

PREMIUM = Conversation(
    name="premium",
    commands=(Command((N_("プレミアム登録"), N_("プレミアム申請"), "Premium"), steps.start),),
    states={
        Applying.CHOOSE: State(steps.prompt, messages.choose_help, on_input=steps.buttons_only),
        Applying.CONFIRM: State(steps.prompt, messages.confirm_help, on_input=steps.buttons_only),
        Applying.CONFIRM_GIVE_UP: State(steps.prompt, messages.give_up_help, on_input=steps.buttons_only),
    },
    postbacks={PickPlace: steps.on_pick, Apply: steps.on_apply, NotNow: steps.on_not_now,
               GiveUp: steps.on_give_up, ConfirmGiveUp: steps.on_confirm_give_up,
               KeepPremium: steps.on_keep_premium,
               MenuPremium: lambda ctx, _pb: steps.start(ctx)},
)
