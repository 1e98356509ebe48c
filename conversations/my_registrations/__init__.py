"""My registrations: list, leave one (R2), delete all my data (R14)."""

from bot.i18n import N_
from conversations.engine import Command, Conversation, State
from conversations.my_registrations import messages, steps
from conversations.my_registrations.states import (
                                                   ConfirmDelete,
                                                   ConfirmLeave,
                                                   DeleteAll,
                                                   Keep,
                                                   Leave,
                                                   Mine,
)

MY_REGISTRATIONS = Conversation(
    name="mine",
    commands=(Command((N_("登録状況"), N_("登録の確認")), steps.show),),
    states={
        Mine.CONFIRM_LEAVE: State(steps.on_confirming, steps.prompt, messages.confirm_help),
        Mine.CONFIRM_DELETE: State(steps.on_confirming, steps.prompt, messages.confirm_help),
    },
    postbacks={Leave: steps.on_leave, ConfirmLeave: steps.on_confirm_leave,
               DeleteAll: steps.on_delete, ConfirmDelete: steps.on_confirm_delete,
               Keep: steps.on_keep},
)
