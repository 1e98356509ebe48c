"""Registration: its states and the postbacks its buttons send.

```mermaid
stateDiagram-v2
    [*] --> search: 登録する
    search --> search: name / prefecture / location / page
    search --> confirm: pick a participating entity
    confirm --> relationship: はい (basic + R2 co-registration)
    relationship --> frequency: 次へ / スキップ
    frequency --> helping: choose / スキップ
    helping --> residence.search: 次へ / スキップ
    residence.search --> [*]: confirmation card
```
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from conversations.postback import Postback, postback


class Reg(StrEnum):
    SEARCH = "registration.search"
    CONFIRM = "registration.confirm"
    RELATIONSHIP = "registration.relationship"
    FREQUENCY = "registration.frequency"
    HELPING = "registration.helping"


@postback("reg.prefs")
@dataclass(frozen=True)
class ListPrefectures(Postback):
    page: int
    t: str


@postback("reg.pref")
@dataclass(frozen=True)
class ListInPrefecture(Postback):
    code: str
    page: int
    t: str


@postback("reg.found")
@dataclass(frozen=True)
class SearchPage(Postback):
    page: int
    t: str


@postback("reg.pick")
@dataclass(frozen=True)
class PickEntity(Postback):
    code: str
    t: str


@postback("reg.yes")
@dataclass(frozen=True)
class ConfirmRegistration(Postback):
    code: str
    t: str


@postback("reg.no")
@dataclass(frozen=True)
class DeclineRegistration(Postback):
    t: str


@postback("reg.ans")
@dataclass(frozen=True)
class Answer(Postback):
    """A survey choice: toggles in a multiple-choice question, answers a single one."""
    q: str
    v: str
    t: str


@postback("reg.next")
@dataclass(frozen=True)
class NextQuestion(Postback):
    """Done with this question (keeping what was chosen), or skipping it."""
    q: str
    skip: int
    t: str
