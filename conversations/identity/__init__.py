"""「本人確認」/"Verify identity": the button to the verification page, and the status."""

from bot.i18n import N_
from bot.identity import confirmation
from conversations.engine import Command, Conversation, Pattern
from conversations.identity import steps

IDENTITY = Conversation(
    name="identity",
    commands=(Command((N_("本人確認"),), steps.show),),
    patterns=(Pattern(confirmation.find_code, steps.on_code),),
)
