"""Support for residents (R6): support measures, the registration card, the counter check."""

from bot.codes import card_codes
from bot.i18n import N_
from conversations.engine import Command, Conversation, Pattern
from conversations.support import steps
from conversations.support.states import MenuCard

SUPPORT = Conversation(
    name="support",
    commands=(
        Command((N_("サポート施策"), N_("サポート")), steps.show_measures),
        Command((N_("登録証"),), steps.show_card),
    ),
    patterns=(Pattern(card_codes.find_token, steps.on_card_code),),
    postbacks={MenuCard: lambda ctx, _pb: steps.show_card(ctx)},
)
