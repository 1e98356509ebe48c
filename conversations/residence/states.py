"""Where the person lives (R9): asked after registering and from the settings.

```mermaid
stateDiagram-v2
    [*] --> search: after the survey / 設定 → お住まい
    search --> search: name (several found) / location (a guess to confirm)
    search --> [*]: picked / スキップ → card or "saved"
```
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from conversations.engine import Draft
from conversations.postback import Postback, postback


class ResidenceState(StrEnum):
    SEARCH = "residence.search"


@dataclass
class HomeQuestion(Draft):
    """The question open: asked as the last one after registering (`after_registration`,
    then the registration card follows) or from the settings (None)."""
    after_registration: int | None = None


@postback("home.pick")
class PickHome(Postback):
    code: str
    t: str


@postback("home.skip")
class SkipHome(Postback):
    t: str
