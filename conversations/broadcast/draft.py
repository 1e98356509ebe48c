"""The news a staff member is composing, kept in the state from question to question."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.audience import Audience
from conversations.engine import Draft


@dataclass
class BroadcastDraft(Draft):
    entity: str  # the code of the entity it is sent from
    text: str = ""
    image: str | None = None  # a picture to go with it (`bot.services.media`)
    link: str | None = None
    #: The ties chosen so far, when the audience is narrowed by ties.
    ties: list[str] = field(default_factory=list)
    #: The audience chosen (`Audience.to_json`): set from the preview on.
    who: dict | None = None

    @property
    def audience(self) -> Audience:
        return Audience.from_json(self.who)  # type: ignore[arg-type]
