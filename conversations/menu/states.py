"""The menu: what the rich menu and typed commands reach from anywhere."""

from __future__ import annotations

from conversations.postback import Postback, postback


@postback("menu.register")
class MenuRegister(Postback):
    pass


@postback("menu.mine")
class MenuMine(Postback):
    pass


@postback("menu.local")
class MenuLocal(Postback):
    pass


@postback("menu.settings")
class MenuSettings(Postback):
    pass


@postback("menu.help")
class MenuHelp(Postback):
    pass


@postback("set.lang")
class SetLanguage(Postback):
    locale: str


@postback("set.home")
class ChangeHome(Postback):
    pass
