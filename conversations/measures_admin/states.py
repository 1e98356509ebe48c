"""Support measures, managed by an entity's admin staff in the chat (R6).

```mermaid
stateDiagram-v2
    [*] --> [*]: 施策管理 (admin) → the list; not admin → refused
    [*] --> title: 施策を追加
    title --> category --> description --> how --> confirm
    confirm --> [*]: 登録する → saved / やめる
    [*] --> edit_field: 編集する (from the list)
    edit_field --> edit_value: title, description, how to use
    edit_field --> edit_category: category
    edit_value --> [*]: saved
    edit_category --> [*]: saved
    [*] --> retire: 終了する (from the list)
    retire --> [*]: 終了する → hidden from residents / やめる
```

Every text is judged by `bot.domain.support`: a return gift (返礼品, goods sent to the person
without a visit) is refused with R6's reason and the question is asked again.
"""

from __future__ import annotations

from enum import StrEnum

from conversations.postback import Postback, postback


class MeasureState(StrEnum):
    TITLE = "measures.title"
    CATEGORY = "measures.category"
    DESCRIPTION = "measures.description"
    HOW = "measures.how"
    CONFIRM = "measures.confirm"
    EDIT_FIELD = "measures.edit_field"
    EDIT_VALUE = "measures.edit_value"
    EDIT_CATEGORY = "measures.edit_category"
    RETIRE = "measures.retire"


@postback("ms.for")
class MeasuresFor(Postback):
    """Which entity an admin of several manages."""
    code: str


@postback("ms.add")
class AddMeasure(Postback):
    code: str


@postback("ms.cat")
class PickCategory(Postback):
    v: str
    t: str


@postback("ms.save")
class SaveMeasure(Postback):
    t: str


@postback("ms.edit")
class EditMeasure(Postback):
    """From the list: works from any old list, checked against the database."""
    id: int


@postback("ms.field")
class EditField(Postback):
    f: str
    t: str


@postback("ms.retire")
class RetireMeasure(Postback):
    id: int


@postback("ms.retire.yes")
class ConfirmRetire(Postback):
    id: int
    t: str


@postback("ms.keep")
class KeepMeasure(Postback):
    t: str
