"""The inactivity prompt's answer (R8): one button, no states.

```mermaid
flowchart LR
    clock([inactivity job]) -- "「登録を続けますか？」" --> person
    person -- "taps 登録を続ける (any time)" --> kept([registrations kept])
```

The tap needs no conversation token: it is valid whenever it comes, and like every event it
counts as access, which is what keeps the registrations.
"""

from __future__ import annotations

from conversations.postback import Postback, postback


@postback("keep.reg")
class KeepRegistration(Postback):
    pass
