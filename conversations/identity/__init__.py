"""「本人確認」/"Verify identity": the button to the verification page, and the status."""

from bot.i18n import N_
from conversations.engine import Command, Conversation
from conversations.identity import steps

IDENTITY = Conversation(
    name="identity",
    commands=(Command((N_("本人確認"),), steps.show),),
)
