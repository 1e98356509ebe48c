"""The municipality a verified address lies in (R9), from the entities table.

An address starts with the prefecture's name, then the municipality's — with a district
(郡) between for towns and villages: 徳島県名西郡神山町神領… → 神山町. Designated cities'
wards follow the city (北海道札幌市中央区… → 札幌市), which is what a registration names.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services import entities
from bot.store.models import Entity, EntityKind

#: A district (郡) name before a town or village has one to six characters, and those may
#: include 市, 町, 村 or 区 (余市郡, 高市郡, 田村郡, 西村山郡, 東村山郡): every 郡 in reach
#: is tried, and the entity list decides which tail names a town.
MAX_DISTRICT_NAME = 6


def _normal(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def municipality_for(session: Session, address: str | None) -> Entity | None:
    """The municipality whose name follows the address's prefecture; None when unsure."""
    if not address:
        return None
    text = _normal(address)
    prefecture = next((row for row in entities.prefecture_rows() if text.startswith(row.name)), None)
    if prefecture is None:
        return None
    rest = text[len(prefecture.name):]
    candidates = session.scalars(select(Entity).where(
        Entity.prefecture_code == prefecture.code, Entity.kind == EntityKind.MUNICIPALITY)).all()
    tails = [rest] + [rest[at + 1:] for at in range(1, MAX_DISTRICT_NAME + 1) if rest[at:at + 1] == "郡"]
    matches = [entity for entity in candidates
               if any(tail.startswith(entity.name) for tail in tails)]
    # The longest name wins: 郡山市 over a shorter name that happens to be its prefix.
    return max(matches, key=lambda entity: len(entity.name), default=None)
