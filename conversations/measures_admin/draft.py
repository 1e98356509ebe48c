"""What the admin's dialogue keeps from question to question: a measure being added, or one
picked from the list to edit or retire. Each state reads its own kind, so which it is never
depends on the keys saved."""

from __future__ import annotations

from dataclasses import dataclass

from conversations.engine import Draft


@dataclass
class MeasureDraft(Draft):
    """A measure being added, field by field."""
    entity: str  # the code of the entity it is added to
    title: str = ""
    category: str = ""
    description: str = ""
    how_to_use: str = ""


@dataclass
class PickedMeasure(Draft):
    """A current measure picked from the list, to edit or retire."""
    entity: str
    id: int
    #: While editing: the field whose new value is asked for.
    field: str = ""
