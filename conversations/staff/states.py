"""Staff: enrolment by invitation, creating activities, listing them, the figures.

```mermaid
stateDiagram-v2
    [*] --> title: 活動を作る (staff of the entity)
    title --> category --> designated --> day --> start --> end --> place --> kind
    kind --> more: printed / rotating code
    more --> day: 別の日を追加
    more --> confirm: 日程はこれで全部
    confirm --> [*]: 作成する → QR codes and posters
    [*] --> finish: 締め切る / 中止する (from the list)
    finish --> [*]: はい / いいえ
```
"""

from __future__ import annotations

from enum import StrEnum

from conversations.postback import Postback, postback


class ActivityState(StrEnum):
    TITLE = "staff.title"
    CATEGORY = "staff.category"
    DESIGNATED = "staff.designated"
    DAY = "staff.day"
    START = "staff.start"
    END = "staff.end"
    PLACE = "staff.place"
    KIND = "staff.kind"
    MORE = "staff.more"
    CONFIRM = "staff.confirm"
    FINISH = "staff.finish"


@postback("staff.new")
class MenuNewActivity(Postback):
    pass


@postback("staff.list")
class MenuActivityList(Postback):
    pass


@postback("staff.stats")
class MenuFigures(Postback):
    pass


@postback("staff.for")
class ForEntity(Postback):
    """Which entity a staff member of several acts for: `a` is new, list or stats."""
    code: str
    a: str


@postback("act.cat")
class Category(Postback):
    v: str
    t: str


@postback("act.des")
class Designated(Postback):
    yes: int
    t: str


@postback("act.day")
class PickDay(Postback):
    t: str


@postback("act.time")
class PickTime(Postback):
    t: str


@postback("act.kind")
class CodeKind(Postback):
    rotating: int
    t: str


@postback("act.more")
class MoreDays(Postback):
    add: int
    t: str


@postback("act.create")
class Create(Postback):
    t: str


@postback("act.qr")
class ShowCodes(Postback):
    id: int


@postback("act.end")
class Finish(Postback):
    id: int
    status: str


@postback("act.end.yes")
class ConfirmFinish(Postback):
    id: int
    status: str
    t: str


@postback("act.end.no")
class KeepOpen(Postback):
    t: str
