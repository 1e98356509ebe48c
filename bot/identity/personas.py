"""The sandbox provider's test personas, in place of a physical card (テストカード代替機能).

Ages are counted from today, so the 17- and 14-year-olds stay minors whenever the demo runs.
Every persona's userinfo also carries a 12-digit `individual_number`, which a real provider
must never send: it is there to prove that the service drops it (R13).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.domain.calendar import years_later


@dataclass(frozen=True)
class Persona:
    key: str
    label: str               # on the picker page (a developer tool: both languages, fixed)
    subject_seed: str | None  # None: the person does not finish (cancel, error)
    name: str | None = None
    birth_date: date | None = None
    address: str | None = None
    individual_number: str | None = None
    #: One card for every tester (the sandbox mixes the tester in otherwise): a second
    #: account that uses it meets "this card is used by another account".
    shared: bool = False


def _years_ago(today: date, years: int, days_more: int) -> date:
    return years_later(today, -years) - timedelta(days=days_more)


def personas(today: date) -> dict[str, Persona]:
    fuchu = "東京都府中市宮西町２丁目２４番地"
    return {persona.key: persona for persona in (
        Persona("adult", "成人 / Adult (山田 太郎)", "adult", "山田 太郎", date(1990, 4, 1),
                "徳島県名西郡神山町神領字本野間１００番地", "123456789018"),
        Persona("age17", "17歳 / 17 years old (鈴木 さくら)", "age17", "鈴木 さくら",
                _years_ago(today, 17, 100), fuchu, "234567890123"),
        Persona("age14", "14歳 / 14 years old (鈴木 ひなた)", "age14", "鈴木 ひなた",
                _years_ago(today, 14, 30), fuchu, "345678901237"),
        Persona("parent", "保護者 / Parent (鈴木 一郎)", "parent", "鈴木 一郎", date(1980, 6, 15),
                fuchu, "456789012346"),
        # A renewed card: the provider gives the same pairwise subject as before.
        Persona("renewed_card", "更新したカード / Renewed card (山田 太郎)", "adult", "山田 太郎",
                date(1990, 4, 1), "徳島県名西郡神山町神領字本野間１００番地", "123456789018"),
        Persona("shared_card", "共用のカード / Shared card (佐藤 花子)", "shared", "佐藤 花子",
                date(1985, 10, 3), fuchu, "567890123457", shared=True),
        Persona("cancel", "キャンセルする / Cancel", None),
        Persona("error", "プロバイダーのエラー / Provider error", None),
    )}


def individual_numbers(today: date) -> set[str]:
    return {p.individual_number for p in personas(today).values() if p.individual_number}
