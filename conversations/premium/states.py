"""Applying for premium (R4, R5, R7, R8): choose a registration, see every rule, confirm.

```mermaid
stateDiagram-v2
    [*] --> choose: プレミアム登録 (several basic registrations)
    [*] --> confirm: one registration, every rule holds
    [*] --> [*]: a rule does not hold → what is missing and how to get there
    [*] --> confirm: manual mode, only activities short → staff may confirm them (R4)
    choose --> confirm: a place where every rule holds
    choose --> [*]: a rule does not hold → explained
    confirm --> [*]: 申し込む → premium + card (auto) / staff review (manual)
    confirm --> [*]: やめる
    [*] --> confirm_give_up: 登録状況 → プレミアムをやめる (R2 told beforehand)
    confirm_give_up --> [*]: プレミアムをやめる → basic, the prefecture falls back / やめない
```
"""

from __future__ import annotations

from enum import StrEnum

from conversations.postback import Postback, postback


class PremiumState(StrEnum):
    CHOOSE = "premium.choose"
    CONFIRM = "premium.confirm"
    CONFIRM_GIVE_UP = "premium.confirm_give_up"


@postback("prem.pick")
class PickPlace(Postback):
    code: str
    t: str


@postback("prem.apply")
class Apply(Postback):
    code: str
    t: str


@postback("prem.keep")
class NotNow(Postback):
    t: str


@postback("prem.giveup")
class GiveUp(Postback):
    """From the list of 「登録状況」; checked against the database, so any old list works."""
    id: int


@postback("prem.giveup.yes")
class ConfirmGiveUp(Postback):
    id: int
    t: str


@postback("prem.giveup.no")
class KeepPremium(Postback):
    t: str


@postback("menu.premium")
class MenuPremium(Postback):
    """The residents' rich menu cell."""
