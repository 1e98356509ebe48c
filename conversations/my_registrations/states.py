"""My registrations: the list, leaving one (R2 cascade), deleting all my data (R14).

```mermaid
stateDiagram-v2
    [*] --> list: 登録状況
    list --> confirm_leave: 登録をやめる
    confirm_leave --> [*]: はい (ended, co-registration too) / いいえ
    list --> confirm_delete: すべてのデータを削除
    confirm_delete --> [*]: 削除する / やめる
```
"""

from __future__ import annotations

from enum import StrEnum

from conversations.postback import Postback, postback


class MyRegistrationsState(StrEnum):
    CONFIRM_LEAVE = "mine.confirm_leave"
    CONFIRM_DELETE = "mine.confirm_delete"


@postback("mine.leave")
class Leave(Postback):
    """Asks to end one registration; works from any old list, checked against the database."""
    id: int


@postback("mine.leave.yes")
class ConfirmLeave(Postback):
    id: int
    t: str


@postback("mine.delete")
class DeleteAll(Postback):
    pass


@postback("mine.delete.yes")
class ConfirmDelete(Postback):
    t: str


@postback("mine.keep")
class Keep(Postback):
    t: str
