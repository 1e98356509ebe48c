"""Support for residents (R6): their support measures, their registration card, and the
counter check that staff make by scanning the card's QR code. No dialogue state: every turn
answers at once.

```mermaid
stateDiagram-v2
    [*] --> [*]: サポート施策 → premium: the measures of their entities / basic: what premium would bring
    [*] --> [*]: 登録証 → the card with a fresh QR code (10 minutes)
    [*] --> [*]: 登録証確認 <code> (staff of the entity) → name, entity, kind, valid until
```
"""

from __future__ import annotations

from conversations.postback import Postback, postback


@postback("menu.card")
class MenuCard(Postback):
    """The residents' rich menu cell."""
