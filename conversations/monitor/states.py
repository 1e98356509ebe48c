"""Monitor surveys (自治体独自アンケート, R11): staff write and send them, residents answer.

Staff write a survey, choose who receives it (as broadcasts do), list, close and read it:

```mermaid
stateDiagram-v2
    [*] --> title: アンケートを作る (staff of the entity)
    title --> kind: the title
    kind --> question: 単一選択 / 複数選択 / 5段階評価 / 自由記述
    question --> choices: the question (single, multiple)
    question --> more: the question (rating, free text)
    choices --> more: 2–10 choices, one per line
    more --> kind: 質問を追加 (up to 10)
    more --> preview: 完成 → saved as a draft
    preview --> audience: 送る
    audience --> ties: つながりで絞る
    audience --> prefectures: お住まいで絞る
    audience --> confirm: 全員 / ベーシック / プレミアム
    ties --> confirm: 次へ
    prefectures --> confirm: prefecture names
    confirm --> [*]: 今すぐ送る → a broadcast inviting them; the survey opens
    [*] --> audience: 送る (a draft in アンケート一覧)
    [*] --> close: 締め切る (アンケート一覧)
    close --> [*]: はい / いいえ
```
(The state keeps the survey being written, then the saved one being sent: `draft.py`.)

Residents answer one question at a time, from the invitation's button:

```mermaid
stateDiagram-v2
    [*] --> choice: 回答する (a registrant, survey open, not yet finished)
    [*] --> [*]: closed / not a registrant / already answered
    choice --> choice: single choice or 1–5, or スキップ
    choice --> multiple
    multiple --> multiple: ✓ toggles
    multiple --> text: 次へ / スキップ
    text --> [*]: the last question answered or skipped → thank you
```
(Any answer state leads to the next question's state; an interrupted response resumes after
its last answer.)
"""

from __future__ import annotations

from enum import StrEnum

from conversations.postback import Postback, postback


class SurveyWritingState(StrEnum):
    TITLE = "monitor.title"
    KIND = "monitor.kind"
    QUESTION = "monitor.question"
    CHOICES = "monitor.choices"
    MORE = "monitor.more"
    PREVIEW = "monitor.preview"
    AUDIENCE = "monitor.audience"
    TIES = "monitor.ties"
    PREFECTURES = "monitor.prefectures"
    CONFIRM = "monitor.confirm"
    CLOSE = "monitor.close"


class SurveyAnsweringState(StrEnum):
    CHOICE = "monitor_answer.choice"       # single choice and 1–5 ratings: one tap
    MULTIPLE = "monitor_answer.multiple"   # ✓ toggles, then 次へ
    TEXT = "monitor_answer.text"           # typed


# Staff -----------------------------------------------------------------------------------------

@postback("mon.for")
class SurveyFor(Postback):
    """Which entity a staff member of several acts for: `a` is "new" or "list"."""
    code: str
    a: str


@postback("mon.kind")
class PickKind(Postback):
    k: str
    t: str


@postback("mon.more")
class MoreQuestions(Postback):
    add: int
    t: str


@postback("mon.send")
class Send(Postback):
    t: str


@postback("mon.draft")
class SendDraft(Postback):
    id: int


@postback("mon.to")
class PickAudience(Postback):
    kind: str  # all, basic, premium, ties, home
    t: str


@postback("mon.tie")
class PickTie(Postback):
    v: str
    t: str


@postback("mon.ties")
class TiesPicked(Postback):
    t: str


@postback("mon.now")
class SendNow(Postback):
    t: str


@postback("mon.res")
class ShowResults(Postback):
    id: int


@postback("mon.close")
class Close(Postback):
    id: int


@postback("mon.close.yes")
class ConfirmClose(Postback):
    id: int
    t: str


@postback("mon.close.no")
class KeepOpen(Postback):
    t: str


# Residents -------------------------------------------------------------------------------------

@postback("ans.start")
class StartAnswering(Postback):
    """The invitation's button: works at any time, for the survey's registrants."""
    id: int


@postback("ans.pick")
class Pick(Postback):
    """A choice's index or a rating: answers a single one, toggles a multiple one."""
    q: int
    v: int
    t: str


@postback("ans.next")
class NextQuestion(Postback):
    """Done with this question (keeping what was chosen), or skipping it."""
    q: int
    skip: int
    t: str
