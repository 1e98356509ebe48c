"""What is reachable from anywhere: the rich menu, help, cancel, settings."""

from bot.i18n import N_
from conversations.engine import Command, Conversation
from conversations.menu import steps
from conversations.menu.states import (
    ChangeHome,
    MenuHelp,
    MenuLocal,
    MenuMine,
    MenuRegister,
    MenuSettings,
    SetLanguage,
)
from conversations.my_registrations import steps as mine
from conversations.registration import steps as registration


def _switch_to(locale):
    return lambda ctx: steps.set_language(ctx, SetLanguage(locale))


MENU = Conversation(
    name="menu",
    commands=(
        Command((N_("ヘルプ"), N_("使い方"), "?", "？"), steps.show_help),
        Command((N_("キャンセル"), N_("やめる"), N_("中止")), steps.cancel),
        Command((N_("地域の情報"),), steps.local_information),
        Command((N_("設定"), N_("言語")), steps.show_settings),
        Command(("English",), _switch_to("en")),
        Command(("日本語",), _switch_to("ja")),
    ),
    postbacks={
        MenuRegister: lambda ctx, _pb: registration.start(ctx),
        MenuMine: lambda ctx, _pb: mine.show(ctx),
        MenuLocal: lambda ctx, _pb: steps.local_information(ctx),
        MenuSettings: lambda ctx, _pb: steps.show_settings(ctx),
        MenuHelp: lambda ctx, _pb: steps.show_help(ctx),
        SetLanguage: steps.set_language,
        ChangeHome: steps.change_home,
    },
)
