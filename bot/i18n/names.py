"""How entities are named to people, in their language."""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import current_locale
from bot.services.entities import prefecture_row
from bot.store.models import Entity
from conversations.common import MAX_LABEL, label


def place(entity: Entity) -> str:
    """神山町（徳島県） / Kamiyama-cho (Tokushima): the prefecture tells 府中市 from 府中市."""
    prefecture = prefecture_row(entity.prefecture_code)
    english = current_locale() == "en"
    if entity.is_prefecture:
        return prefecture.name_en if english else entity.name
    if english:
        return f"{entity.name_en or entity.name} ({prefecture.name_en})"
    return f"{entity.name}（{prefecture.name}）"


def short_name(entity: Entity) -> str:
    if current_locale() == "en":
        return (entity.name_en or entity.name) if not entity.is_prefecture \
            else prefecture_row(entity.code).name_en
    return entity.name


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
