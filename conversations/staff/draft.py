"""The activity a staff member is writing, kept in the state from question to question."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self

from conversations.engine import Draft


@dataclass
class ActivityDraft(Draft):
    entity: str  # the code of the entity it is written for
    title: str = ""
    category: str = ""
    designated: bool = False
    place: str = ""
    rotating: bool = False  # a code that changes on a screen, not a printed one
    #: The days given so far: (start, end) in ISO format.
    windows: list[list[str]] = field(default_factory=list)
    #: The day being given and its start, until its end is known.
    day: str | None = None
    start: str | None = None
    #: A further day is being given: place and kind are known from the first, and
    #: 「日程はこれで全部」 drops it.
    adding_day: bool = False

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> Self:
        draft = super().load(data)
        if "adding_day" not in data and "place" in data:
            draft.adding_day = True  # saved before the mode was written: a place meant a further day
        return draft

    @property
    def sessions(self) -> list[tuple[datetime, datetime]]:
        return [(datetime.fromisoformat(start), datetime.fromisoformat(end))
                for start, end in self.windows]
