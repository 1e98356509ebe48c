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

from dataclasses import dataclass, field
from enum import StrEnum

from conversations.engine import Draft
from conversations.postback import Postback, postback


class RegistrationState(StrEnum):
    SEARCH = "registration.search"
    CONFIRM = "registration.confirm"
    RELATIONSHIP = "registration.relationship"
    FREQUENCY = "registration.frequency"
    HELPING = "registration.helping"


@dataclass
class SearchDraft(Draft):
    """The search whose results are on screen, to page through them; None when the list on
    screen is not a search's (the prefectures', a prefecture's, the nearby places')."""
    query: str | None = None


@dataclass
class SurveyDraft(Draft):
    """The relationship survey after registering: which registration it is about, and what
    is ticked so far in the question open (its state says which question that is)."""
    registration: int
    #: The registered entity's code, named in every question.
    code: str
    chosen: list[str] = field(default_factory=list)


@postback("reg.prefs")
class ListPrefectures(Postback):
    page: int
    t: str


@postback("reg.pref")
class ListInPrefecture(Postback):
    code: str
    page: int
    t: str


@postback("reg.found")
class SearchPage(Postback):
    page: int
    t: str


@postback("reg.pick")
class PickEntity(Postback):
    code: str
    t: str


@postback("reg.yes")
class ConfirmRegistration(Postback):
    code: str
    t: str


@postback("reg.no")
class DeclineRegistration(Postback):
    t: str


@postback("reg.ans")
class Answer(Postback):
    """A survey choice: toggles in a multiple-choice question, answers a single one."""
    q: str
    v: str
    t: str


@postback("reg.next")
class NextQuestion(Postback):
    """Done with this question (keeping what was chosen), or skipping it."""
    q: str
    skip: int
    t: str
