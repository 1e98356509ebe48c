"""Places as buttons: one label per place, unique and within LINE's 20 characters."""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n.names import place, short_name
from bot.store.models import Entity
from conversations.common import MAX_LABEL, label


def place_labels(entities: Sequence[Entity]) -> list[str]:
    """Button labels for a list of places, unique and within LINE's 20 characters.

    The full `place` when it fits; else the bare name, with the prefecture only where two
    places share a name.
    """
    names = [short_name(e) for e in entities]
    labels = []
    for entity, name in zip(entities, names):
        full = place(entity)
        if len(full) <= MAX_LABEL:
            labels.append(full)
        elif names.count(name) == 1:
            labels.append(label(name))
        else:
            labels.append(label(full))
    return labels
