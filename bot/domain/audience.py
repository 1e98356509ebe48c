"""Who a broadcast or survey reaches: an entity's registrants, narrowed by kind, ties, home."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.relationship_survey import RELATIONSHIP

KINDS = ("basic", "premium")


@dataclass(frozen=True)
class Audience:
    kinds: tuple[str, ...] = KINDS
    relationships: tuple[str, ...] = ()   # any of these ties (R3 survey); () = no filter
    prefectures: tuple[str, ...] = ()     # prefecture codes of residence; () = no filter

    def __post_init__(self):
        if not self.kinds or set(self.kinds) - set(KINDS):
            raise ValueError(f"kinds must be among {KINDS}")
        if set(self.relationships) - set(RELATIONSHIP.choices):
            raise ValueError("unknown relationship type")
        if any(len(code) != 6 or not code.isdigit() for code in self.prefectures):
            raise ValueError("prefectures are 6-digit codes")

    def to_json(self) -> dict:
        return {"kinds": list(self.kinds), "relationships": list(self.relationships),
                "prefectures": list(self.prefectures)}

    @classmethod
    def from_json(cls, data: dict) -> Audience:
        return cls(tuple(data.get("kinds") or KINDS), tuple(data.get("relationships") or ()),
                   tuple(data.get("prefectures") or ()))
