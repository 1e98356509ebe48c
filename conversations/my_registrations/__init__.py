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
    MyRegistrationsState,
)

MY_REGISTRATIONS = Conversation(
    name="mine",
    commands=(Command((N_("登録状況"), N_("登録の確認")), steps.show),),
    states={
        # Confirmations take only their buttons: anything typed is re-asked.
        MyRegistrationsState.CONFIRM_LEAVE: State(
            steps.ask_leave, messages.confirm_help,
            postbacks={ConfirmLeave: steps.on_confirm_leave}),
        MyRegistrationsState.CONFIRM_DELETE: State(
            steps.ask_delete, messages.confirm_help,
            postbacks={ConfirmDelete: steps.on_confirm_delete}),
    },
    postbacks={Leave: steps.on_leave, DeleteAll: steps.on_delete, Keep: steps.on_keep},
)
