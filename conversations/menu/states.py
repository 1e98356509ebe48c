"""The menu: what the rich menu and typed commands reach from anywhere."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.postback import Postback, postback


@postback("menu.register")
@dataclass(frozen=True)
class MenuRegister(Postback):
    pass


@postback("menu.mine")
@dataclass(frozen=True)
class MenuMine(Postback):
    pass


@postback("menu.local")
@dataclass(frozen=True)
class MenuLocal(Postback):
    pass


@postback("menu.settings")
@dataclass(frozen=True)
class MenuSettings(Postback):
    pass


@postback("menu.help")
@dataclass(frozen=True)
class MenuHelp(Postback):
    pass


@postback("set.lang")
@dataclass(frozen=True)
class SetLanguage(Postback):
    locale: str


@postback("set.home")
@dataclass(frozen=True)
class ChangeHome(Postback):
    pass
