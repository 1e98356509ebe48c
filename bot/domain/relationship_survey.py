"""The relationship survey of R3: questions and the codes stored for each answer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    code: str
    choices: tuple[str, ...]
    multiple: bool


RELATIONSHIP = Question("relationship", (
    "birthplace", "former_residence", "family", "work_study", "furusato_nozei",
    "repeat_visits", "two_region", "volunteering", "interest"), multiple=True)

FREQUENCY = Question("frequency", (
    "monthly", "several_a_year", "once_a_year", "rarely", "never"), multiple=False)

HELPING = Question("helping", (
    "events", "volunteering", "disaster", "side_job", "community", "local_products",
    "promotion", "not_now"), multiple=True)

QUESTIONS = {q.code: q for q in (RELATIONSHIP, FREQUENCY, HELPING)}
ORDER = (RELATIONSHIP.code, FREQUENCY.code, HELPING.code)


def toggle(chosen: list[str], question: Question, value: str) -> list[str]:
    """Add or remove a choice of a multiple-choice question, keeping the catalogue's order."""
    if value not in question.choices:
        return chosen
    picked = set(chosen) ^ {value}
    return [c for c in question.choices if c in picked]


def next_question(code: str) -> str | None:
    position = ORDER.index(code)
    return ORDER[position + 1] if position + 1 < len(ORDER) else None
