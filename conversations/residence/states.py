"""Where the person lives (R9): asked after registering and from the settings.

```mermaid
stateDiagram-v2
    [*] --> search: after the survey / 設定 → お住まい
    search --> search: name (several found) / location (a guess to confirm)
    search --> [*]: picked / スキップ → card or "saved"
```
"""

from __future__ import annotations

from enum import StrEnum

from conversations.postback import Postback, postback


class Home(StrEnum):
    SEARCH = "residence.search"


@postback("home.pick")
class PickHome(Postback):
    code: str
    t: str


@postback("home.skip")
class SkipHome(Postback):
    t: str
