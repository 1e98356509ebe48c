"""How entities are named to people, in their language."""

from __future__ import annotations

from bot.entities import prefecture_row
from bot.i18n import current_locale
from bot.models import Entity


def place(entity: Entity) -> str:
    """神山町（徳島県） / 徳島県 — the prefecture tells same-name towns apart (府中市, 伊達市)."""
    prefecture = prefecture_row(entity.prefecture_code)
    english = current_locale() == "en"
    if entity.is_prefecture:
        return f"{entity.name} ({prefecture.name_en})" if english else entity.name
    if english:
        return f"{entity.name} ({prefecture.name_en})"
    return f"{entity.name}（{prefecture.name}）"
