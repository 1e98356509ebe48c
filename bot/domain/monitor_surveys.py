"""Monitor surveys (R11) as plain rules: what staff may write, how answers are kept and summed.

No I/O here: the database side is `bot.services.monitor_surveys`. Answers are stored as text
(MonitorAnswer.value): a choice's index, several indexes joined by "," for multiple choice,
"1"…"5" for a rating, or the free text itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

MAX_TITLE = 100
MAX_QUESTION_TEXT = 300
MAX_QUESTIONS = 10
MIN_CHOICES, MAX_CHOICES = 2, 10
#: A choice is a quick-reply button: LINE's label limit.
MAX_CHOICE_LENGTH = 20
MAX_FREE_TEXT = 500
RATINGS = (1, 2, 3, 4, 5)
#: Free-text answers shown to staff in the chat: the latest few, each trimmed.
LATEST_TEXTS, TEXT_PREVIEW = 3, 60
#: Separates the labels of a multiple-choice answer in one CSV cell.
CHOICE_SEPARATOR = "／"


class Kind(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    RATING = "rating"
    TEXT = "text"

    @property
    def has_choices(self) -> bool:
        return self in (Kind.SINGLE, Kind.MULTIPLE)


class ChoiceProblem(StrEnum):
    TOO_FEW = "too_few"
    TOO_MANY = "too_many"
    TOO_LONG = "too_long"
    REPEATED = "repeated"


@dataclass(frozen=True)
class Question:
    kind: Kind
    text: str
    choices: tuple[str, ...] = ()


def clean(typed: str) -> str:
    """One line, blanks collapsed: how titles, questions and choices are kept."""
    return " ".join(typed.split())


def parse_choices(typed: str) -> tuple[str, ...] | ChoiceProblem:
    """Choices typed one per line: 2–10 of them, each ≤ 20 characters, none twice."""
    choices = tuple(clean(line) for line in typed.splitlines() if clean(line))
    if len(choices) < MIN_CHOICES:
        return ChoiceProblem.TOO_FEW
    if len(choices) > MAX_CHOICES:
        return ChoiceProblem.TOO_MANY
    if any(len(choice) > MAX_CHOICE_LENGTH for choice in choices):
        return ChoiceProblem.TOO_LONG
    if len(set(choices)) != len(choices):
        return ChoiceProblem.REPEATED
    return choices


def toggle(chosen: Sequence[int], question: Question, index: int) -> list[int]:
    """Add or remove a choice of a multiple-choice question, in the question's order."""
    if not 0 <= index < len(question.choices):
        return sorted(chosen)
    return sorted(set(chosen) ^ {index})


def encode(question: Question, answer: int | Sequence[int] | str) -> str | None:
    """The stored value of an answer, or None when it does not fit the question."""
    if question.kind == Kind.TEXT:
        text = str(answer).strip()
        return text if 0 < len(text) <= MAX_FREE_TEXT else None
    if question.kind == Kind.RATING:
        return str(answer) if answer in RATINGS else None
    chosen = [answer] if isinstance(answer, int) else list(answer)
    if not chosen or any(not 0 <= i < len(question.choices) for i in chosen):
        return None
    if question.kind == Kind.SINGLE and len(chosen) != 1:
        return None
    return ",".join(str(i) for i in sorted(set(chosen)))


def indexes(value: str) -> list[int]:
    return [int(part) for part in value.split(",") if part.isdigit()]


def label(question: Question, value: str) -> str:
    """A stored answer as people read it: the choices' labels, the rating, or the text."""
    if question.kind.has_choices:
        return CHOICE_SEPARATOR.join(question.choices[i] for i in indexes(value)
                                     if i < len(question.choices))
    return value


def csv_cell(text: str) -> str:
    """A spreadsheet cell Excel shows as text: a leading = + - @ would run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def trim(text: str, limit: int = TEXT_PREVIEW) -> str:
    flat = clean(text)
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


# Summaries -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Summary:
    """One question's answers, summed: per choice, per rating, or the latest texts."""
    question: Question
    answered: int
    counts: tuple[int, ...] = ()        # per choice (single, multiple) or per rating 1–5
    average: float | None = None        # ratings only
    latest: tuple[str, ...] = ()        # free text only: newest first, trimmed


def summarise(question: Question, counted: Mapping[str, int]) -> Summary:
    """Sum a choice or rating question's stored values (`counted`: value → responses)."""
    if question.kind == Kind.RATING:
        counts = tuple(counted.get(str(r), 0) for r in RATINGS)
        rated = sum(counts)
        total = sum(r * n for r, n in zip(RATINGS, counts))
        return Summary(question, rated, counts, round(total / rated, 1) if rated else None)
    per_choice = [0] * len(question.choices)
    for value, n in counted.items():
        for i in indexes(value):
            if i < len(per_choice):
                per_choice[i] += n
    return Summary(question, sum(counted.values()), tuple(per_choice))


def text_summary(question: Question, answered: int, latest: Iterable[str]) -> Summary:
    """A free-text question: how many answered, and the latest few (newest first)."""
    return Summary(question, answered,
                   latest=tuple(trim(text) for text in list(latest)[:LATEST_TEXTS]))
