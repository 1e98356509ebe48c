"""How entities are named to people, in their language."""

from __future__ import annotations

from bot.i18n import current_locale
from bot.services.entities import prefecture_row
from bot.store.models import Entity


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
