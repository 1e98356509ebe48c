"""Monitor surveys in the database (R11): drafting, opening, answering, summing, the CSV.

Everything runs within the caller's transaction. Answering happens under the person's row
lock (handlers), so one person's taps never race; the unique indexes on responses and answers
hold the "once per person" rule even so. Summaries are aggregate queries (GROUP BY in the
database): their cost follows one survey's answers, not the table's.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from itertools import groupby

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from bot.domain import monitor_surveys as rules
from bot.domain.audience import Audience
from bot.domain.calendar import JST
from bot.i18n import SOURCE_LOCALE, _, use_locale
from bot.services import downloads
from bot.services.audience import includes
from bot.store.models import (
    Entity,
    MonitorAnswer,
    MonitorQuestion,
    MonitorResponse,
    MonitorSurvey,
    Person,
    SurveyStatus,
)

#: Rows of answers read at a time when writing the CSV.
CSV_BATCH = 1000


class Refusal(StrEnum):
    """Why a person cannot answer a survey now."""
    NOT_OPEN = "not_open"               # a draft (no one was invited) or gone
    CLOSED = "closed"
    NOT_REGISTRANT = "not_registrant"   # e.g. a button forwarded from someone else
    ALREADY_ANSWERED = "already_answered"


def rule(question: MonitorQuestion) -> rules.Question:
    return rules.Question(rules.Kind(question.kind), question.text, tuple(question.choices))


# Staff: drafting, opening, closing -------------------------------------------------------------

def create(session: Session, entity: Entity, title: str, questions: Sequence[rules.Question],
           now: datetime, by: Person | None = None) -> MonitorSurvey:
    """A draft survey with its questions; nobody sees it until it is opened."""
    if not 1 <= len(questions) <= rules.MAX_QUESTIONS:
        raise ValueError(f"a survey has 1 to {rules.MAX_QUESTIONS} questions")
    survey = MonitorSurvey(entity_id=entity.id, entity=entity, title=title[:rules.MAX_TITLE],
                           status=SurveyStatus.DRAFT, created_at=now,
                           created_by_person_id=by.id if by else None)
    session.add(survey)
    for question in questions:
        add_question(session, survey, question)
    session.flush()
    return survey


def add_question(session: Session, survey: MonitorSurvey, question: rules.Question) -> MonitorQuestion:
    if question.kind.has_choices and not rules.MIN_CHOICES <= len(question.choices) <= rules.MAX_CHOICES:
        raise ValueError("a choice question has 2 to 10 choices")
    added = MonitorQuestion(survey=survey, position=len(survey.questions) + 1,
                            kind=question.kind.value, text=question.text[:rules.MAX_QUESTION_TEXT],
                            choices=list(question.choices) if question.kind.has_choices else [])
    session.add(added)
    return added


def of_entity(session: Session, entity: Entity, limit: int = 10) -> list[MonitorSurvey]:
    """The entity's latest surveys, newest first."""
    return list(session.scalars(
        select(MonitorSurvey).options(selectinload(MonitorSurvey.questions))
        .where(MonitorSurvey.entity_id == entity.id)
        .order_by(MonitorSurvey.id.desc()).limit(limit)))


def find(session: Session, entity: Entity, survey_id: int) -> MonitorSurvey | None:
    """The survey if it is this entity's: staff of A never reach B's."""
    return session.scalar(select(MonitorSurvey).where(MonitorSurvey.id == survey_id,
                                                      MonitorSurvey.entity_id == entity.id))


def open_survey(survey: MonitorSurvey, audience: Audience, now: datetime) -> None:
    """Open the draft for answers from `audience` (sent to them now)."""
    if survey.status != SurveyStatus.DRAFT or not survey.questions:
        raise ValueError("only a draft with questions can be opened")
    survey.status = SurveyStatus.OPEN
    survey.audience, survey.sent_at = audience.to_json(), now


def close(survey: MonitorSurvey) -> bool:
    """Stop accepting answers; False if it was not open."""
    if survey.status != SurveyStatus.OPEN:
        return False
    survey.status = SurveyStatus.CLOSED
    return True


def completed_counts(session: Session, survey_ids: Sequence[int]) -> dict[int, int]:
    """Finished responses per survey."""
    if not survey_ids:
        return {}
    return dict(session.execute(
        select(MonitorResponse.survey_id, func.count())
        .where(MonitorResponse.survey_id.in_(survey_ids), MonitorResponse.completed_at.is_not(None))
        .group_by(MonitorResponse.survey_id)).all())


# Residents: answering ------------------------------------------------------------------------

def refusal(session: Session, survey: MonitorSurvey | None, person: Person) -> Refusal | None:
    """Why this person cannot answer now, or None. Only those it was sent to answer: in its
    audience, registered at its entity when it went out (a button forwarded, or an id typed
    into a postback, does not make someone one of them)."""
    if survey is None or survey.status == SurveyStatus.DRAFT:
        return Refusal.NOT_OPEN
    audience = Audience.from_json(survey.audience) if survey.audience else Audience()
    if not includes(session, survey.entity, audience, person.id, survey.sent_at):
        return Refusal.NOT_REGISTRANT
    if survey.status == SurveyStatus.CLOSED:
        return Refusal.CLOSED
    return None


def response_of(session: Session, survey: MonitorSurvey, person: Person) -> MonitorResponse | None:
    return session.scalar(select(MonitorResponse).where(MonitorResponse.survey_id == survey.id,
                                                        MonitorResponse.person_id == person.id))


def start(session: Session, survey: MonitorSurvey, person: Person,
          now: datetime) -> MonitorResponse | Refusal:
    """The person's response, begun now or earlier (one per person), or why not."""
    refused = refusal(session, survey, person)
    if refused is not None:
        return refused
    response = response_of(session, survey, person)
    if response is not None and response.completed_at is not None:
        return Refusal.ALREADY_ANSWERED
    if response is None:
        response = MonitorResponse(survey_id=survey.id, person_id=person.id, started_at=now)
        session.add(response)
        session.flush()
    return response


def next_question(session: Session, survey: MonitorSurvey, response: MonitorResponse,
                  after: int | None = None) -> MonitorQuestion | None:
    """The question after position `after`; by default after the last one answered.

    Skipped questions store nothing, so an interrupted response resumes after its last
    answer, not at a question the person chose to skip.
    """
    if after is None:
        after = session.scalar(
            select(func.coalesce(func.max(MonitorQuestion.position), 0))
            .join(MonitorAnswer, MonitorAnswer.question_id == MonitorQuestion.id)
            .where(MonitorAnswer.response_id == response.id))
    return next((q for q in survey.questions if q.position > after), None)


def save_answer(session: Session, response: MonitorResponse, question: MonitorQuestion,
                value: str) -> MonitorAnswer:
    """Store the answer to one question; answering it again replaces it (never a second row)."""
    if question.survey_id != response.survey_id:
        raise ValueError("the question is not in this response's survey")
    answer = session.scalar(select(MonitorAnswer).where(MonitorAnswer.response_id == response.id,
                                                        MonitorAnswer.question_id == question.id))
    if answer is None:
        answer = MonitorAnswer(response_id=response.id, question_id=question.id, value=value)
        session.add(answer)
    else:
        answer.value = value
    return answer


def complete(response: MonitorResponse, now: datetime) -> None:
    if response.completed_at is None:
        response.completed_at = now


# Staff: results --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Results:
    survey: MonitorSurvey
    responses: int                      # completed
    summaries: list[rules.Summary]      # in the questions' order


def _completed_answers(question: MonitorQuestion):
    return (select(MonitorAnswer.value)
            .join(MonitorResponse, MonitorResponse.id == MonitorAnswer.response_id)
            .where(MonitorAnswer.question_id == question.id,
                   MonitorResponse.completed_at.is_not(None)))


def _summary(session: Session, question: MonitorQuestion) -> rules.Summary:
    answers = _completed_answers(question).subquery()
    if question.kind == rules.Kind.TEXT:
        answered = session.scalar(select(func.count()).select_from(answers))
        latest = session.scalars(_completed_answers(question).order_by(
            MonitorResponse.completed_at.desc(), MonitorResponse.id.desc())
            .limit(rules.LATEST_TEXTS))
        return rules.text_summary(rule(question), answered, latest)
    counted = dict(session.execute(select(answers.c.value, func.count())
                                   .group_by(answers.c.value)).all())
    return rules.summarise(rule(question), counted)


def results(session: Session, survey: MonitorSurvey) -> Results:
    responses = completed_counts(session, [survey.id]).get(survey.id, 0)
    return Results(survey, responses, [_summary(session, q) for q in survey.questions])


# The CSV download ----------------------------------------------------------------------------

def survey_csv(session: Session, survey: MonitorSurvey) -> bytes:
    """One row per completed response: its ID, when (Japan time), then one cell per question.

    Anonymous: no LINE user ID, name or person ID. UTF-8 with a BOM and CRLF line ends, which
    Excel opens as it is; the headers are in Japanese.
    """
    questions = {q.id: (index, rule(q)) for index, q in enumerate(survey.questions)}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    with use_locale(SOURCE_LOCALE):
        writer.writerow([_("回答ID"), _("回答日時（日本時間）")]
                        + [rules.csv_cell(f"Q{q.position} {q.text}") for q in survey.questions])
    rows = session.execute(
        select(MonitorResponse.id, MonitorResponse.completed_at, MonitorAnswer.question_id,
               MonitorAnswer.value)
        .outerjoin(MonitorAnswer, MonitorAnswer.response_id == MonitorResponse.id)
        .where(MonitorResponse.survey_id == survey.id, MonitorResponse.completed_at.is_not(None))
        .order_by(MonitorResponse.id)
        .execution_options(yield_per=CSV_BATCH))
    for (response_id, completed_at), answers in groupby(rows, key=lambda row: row[:2]):
        cells = [""] * len(questions)
        for _id, _at, question_id, value in answers:
            if question_id in questions:
                index, question = questions[question_id]
                cells[index] = rules.csv_cell(rules.label(question, value))
        writer.writerow([response_id, completed_at.astimezone(JST).strftime("%Y-%m-%d %H:%M")]
                        + cells)
    return buffer.getvalue().encode("utf-8-sig")


def csv_download(session: Session, entity: Entity, object_id: int | None,
                 now: datetime) -> tuple[str, bytes]:
    """The producer of the "survey" download: only a survey of the link's entity."""
    survey = find(session, entity, object_id) if object_id is not None else None
    if survey is None:
        raise downloads.NotFound(object_id)
    return f"furusato-survey-{survey.id}-{now.astimezone(JST):%Y-%m-%d}.csv", survey_csv(session, survey)

