"""Broadcasts by staff: compose, choose the audience, preview, send now or later.

```mermaid
stateDiagram-v2
    [*] --> text: お知らせを送る (staff)
    text --> extra: the message
    extra --> audience: a photo / a link / なし
    audience --> relationships: つながりで絞る
    audience --> prefectures: お住まいで絞る
    relationships --> preview: 次へ
    prefectures --> preview: prefecture names
    audience --> preview: 全員 / ベーシック / プレミアム
    preview --> audience: 送り先を選び直す
    preview --> [*]: 今すぐ送る
    preview --> when: 日時を指定
    when --> [*]: a date and time → scheduled
```
"""

from __future__ import annotations

from enum import StrEnum

from conversations.postback import Postback, postback


class BroadcastState(StrEnum):
    TEXT = "news.text"
    EXTRA = "news.extra"
    AUDIENCE = "news.audience"
    RELATIONSHIPS = "news.relationships"
    PREFECTURES = "news.prefectures"
    PREVIEW = "news.preview"
    WHEN = "news.when"


@postback("news.for")
class NewsFor(Postback):
    code: str
    a: str  # "new" or "status"


@postback("news.none")
class NoExtra(Postback):
    t: str


@postback("news.to")
class PickAudience(Postback):
    kind: str  # all, basic, premium, ties, home
    t: str


@postback("news.tie")
class Tie(Postback):
    v: str
    t: str


@postback("news.ties")
class TiesDone(Postback):
    t: str


@postback("news.who")
class Rechoose(Postback):
    """Back from the preview to the choice of the audience."""
    t: str


@postback("news.now")
class SendNow(Postback):
    t: str


@postback("news.later")
class SendLater(Postback):
    t: str


@postback("news.at")
class PickedWhen(Postback):
    t: str


@postback("news.stop")
class CancelScheduled(Postback):
    id: int


@postback("news.resend")
class ResendRefused(Postback):
    """Queue again the recipients of broadcast `id` whom LINE refused (from the status)."""
    id: int


@postback("staff.news")
class MenuNews(Postback):
    """The staff's rich menu cell."""
