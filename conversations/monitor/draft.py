"""What a survey's dialogues keep in the state: a survey being written, a saved one being
sent, the answers being given."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Self

from bot.domain import monitor_surveys as rules
from conversations.engine import Draft


@dataclass
class SurveyWriting(Draft):
    """A survey before 「完成」 saves it."""
    entity: str  # the code of the entity it is written for
    title: str = ""
    #: The questions written so far: {"kind", "text", "choices"}.
    questions: list[dict] = field(default_factory=list)
    #: The question being written: its kind, then its text until its choices are known.
    kind: str | None = None
    text: str | None = None

    @property
    def written(self) -> list[rules.Question]:
        return [rules.Question(rules.Kind(q["kind"]), q["text"], tuple(q["choices"]))
                for q in self.questions]

    def adding(self, question: rules.Question) -> SurveyWriting:
        """With `question` written: the next one is not begun."""
        written = {"kind": question.kind.value, "text": question.text,
                   "choices": list(question.choices)}
        return replace(self, questions=[*self.questions, written], kind=None, text=None)


@dataclass
class SurveySending(Draft):
    """A saved survey (still a draft in the database) while its audience is chosen."""
    survey: int  # its id
    #: The ties chosen so far, when the audience is narrowed by ties.
    ties: list[str] = field(default_factory=list)
    #: The audience chosen (`Audience.to_json`): set at the confirmation.
    who: dict | None = None


@dataclass
class SurveyAnswering(Draft):
    """A registrant's answers in progress: the question asked now and, for a multiple
    choice, the choices ticked so far (each answer is stored as it is given)."""
    survey: int
    response: int
    question: int  # its id
    chosen: list[int] = field(default_factory=list)

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> Self:
        if "q" in data:  # saved as "q" before the answers were typed
            data = {**data, "question": data["q"]}
        return super().load(data)
