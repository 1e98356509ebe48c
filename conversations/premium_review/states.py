"""Staff review premium requests of their entity (renewal mode `manual`, R8).

```mermaid
stateDiagram-v2
    [*] --> [*]: 審査 → the entity's pending requests with the system's judgement
    [*] --> [*]: 承認する → granted / renewed, the person is told (outbox)
    [*] --> reason: 却下する
    reason --> [*]: the reason typed → declined, the person is told (outbox)
```
"""

from __future__ import annotations

from enum import StrEnum

from conversations.postback import Postback, postback


class ReviewState(StrEnum):
    REASON = "premium_review.reason"


@postback("review.for")
class ReviewFor(Postback):
    """Which entity a member of staff of several reviews for."""
    code: str


@postback("review.yes")
class Approve(Postback):
    """Works from any list; the request is checked against the staff's own entities."""
    id: int


@postback("review.no")
class Decline(Postback):
    id: int


@postback("staff.reviews")
class MenuReviews(Postback):
    """The staff's rich menu cell."""
