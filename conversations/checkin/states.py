"""Check-in: a code arrives (typed by the QR's link, in a photo, or from the LIFF page).

```mermaid
stateDiagram-v2
    [*] --> [*]: valid code, registered → checked in + progress
    [*] --> register: valid code, not registered here
    register --> [*]: 登録してチェックイン → basic registration + check-in / やめる
```
"""

from __future__ import annotations

from enum import StrEnum

from conversations.postback import Postback, postback


class CheckInState(StrEnum):
    REGISTER = "checkin.register"


@postback("chk.reg")
class RegisterAndCheckIn(Postback):
    t: str


@postback("chk.no")
class NotNow(Postback):
    t: str


@postback("menu.activities")
class MenuActivities(Postback):
    pass
