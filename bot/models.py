"""Database models: the tables of SPEC §2–3 that the bot keeps."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base, UTCDateTime


class EntityKind(StrEnum):
    MUNICIPALITY = "municipality"
    PREFECTURE = "prefecture"


class RenewalMode(StrEnum):
    AUTO = "auto"
    MANUAL = "manual"


class RegistrationKind(StrEnum):
    BASIC = "basic"
    PREMIUM = "premium"


class RegistrationStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


class Origin(StrEnum):
    DIRECT = "direct"
    CO_REGISTRATION = "co_registration"


def _enum(enum_type: type[StrEnum]) -> String:
    return String(max(len(member.value) for member in enum_type))


class Entity(Base):
    """A registration target: a municipality or a prefecture (SPEC §2)."""

    __tablename__ = "entity"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    kind: Mapped[str] = mapped_column(_enum(EntityKind))
    name: Mapped[str] = mapped_column(String(40))
    kana: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str | None] = mapped_column(String(80))
    # Folded name and kana (bot.domain.text.search_key) for "type part of the name".
    search_text: Mapped[str] = mapped_column(String(200))
    prefecture_code: Mapped[str] = mapped_column(String(6), index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    site_url: Mapped[str | None] = mapped_column(String(300))
    participating: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    required_activities: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    renewal_mode: Mapped[str] = mapped_column(_enum(RenewalMode), default=RenewalMode.AUTO,
                                              server_default=RenewalMode.AUTO.value)
    community_url: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (Index(None, "participating", "kind"),)

    @property
    def is_prefecture(self) -> bool:
        return self.kind == EntityKind.PREFECTURE


class Person(Base):
    """Someone who follows the LINE account."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Nulled when the person deletes their data (R14): the row stays as an anonymous anchor.
    line_user_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(100))
    locale: Mapped[str | None] = mapped_column(String(10))
    profile_language: Mapped[str | None] = mapped_column(String(35))
    residence_entity_id: Mapped[int | None] = mapped_column(ForeignKey("entity.id"))
    following: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_access_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    residence: Mapped[Entity | None] = relationship()


class Registration(Base):
    """A person's registration at an entity (R2, R3, R8)."""

    __tablename__ = "registration"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"))
    kind: Mapped[str] = mapped_column(_enum(RegistrationKind))
    status: Mapped[str] = mapped_column(_enum(RegistrationStatus))
    origin: Mapped[str] = mapped_column(_enum(Origin))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(40))
    # False at the person's own residence municipality (R9): excluded from statistics.
    counted_in_statistics: Mapped[bool] = mapped_column(Boolean, default=True,
                                                        server_default=text("true"))

    entity: Mapped[Entity] = relationship()
    person: Mapped[Person] = relationship()

    __table_args__ = (
        Index(None, "entity_id", "kind", "status"),
        # One active registration of a kind per person and entity, enforced by the database.
        Index("uq_registration_active", "person_id", "entity_id", "kind", unique=True,
              sqlite_where=text("status = 'active'"),
              postgresql_where=text("status = 'active'")),
    )


class SurveyAnswer(Base):
    """One answer of the relationship survey (R3): a question and one chosen value."""

    __tablename__ = "survey_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registration.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(String(40))
    answer: Mapped[str] = mapped_column(String(40))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConversationState(Base):
    """Where a person is in a dialogue; read under the person's row lock."""

    __tablename__ = "conversation_state"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"),
                                           primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    # Postbacks of this conversation carry the token; an older button no longer matches.
    token: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ProcessedEvent(Base):
    """Webhook events already handled, keyed by LINE's webhookEventId (SPEC §5)."""

    __tablename__ = "processed_event"

    webhook_event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
