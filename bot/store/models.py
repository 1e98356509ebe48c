"""Database models: the tables of the rules (docs/rules.md) that the bot keeps."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.store.db import Base, UTCDateTime


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
    """A registration target: a municipality or a prefecture (Entities, docs/rules.md)."""

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
    #: Show the community room only to premium registrants (R11), else to every registrant.
    community_premium_only: Mapped[bool] = mapped_column(Boolean, default=False,
                                                         server_default=text("false"))

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
    # Where the person is in a dialogue (conversations/engine.py), None when nowhere. On their
    # own row, it comes with the row lock every webhook event takes, without a read of its own.
    conversation: Mapped[str | None] = mapped_column(String(60))
    # Postbacks of this conversation carry the token; an older button no longer matches.
    conversation_token: Mapped[str | None] = mapped_column(String(16))
    conversation_data: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    conversation_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    residence: Mapped[Entity | None] = relationship()

    # Who blocked the account or deleted their data lately: the outbox drops them from rows
    # queued before (bot/delivery/outbox.py). Blocking is an event, stamped in last_access_at.
    __table_args__ = (
        Index("ix_person_blocked_at", "last_access_at", postgresql_where=text("NOT following"),
              sqlite_where=text("following = 0")),
        Index("ix_person_deleted_at", "deleted_at", postgresql_where=text("deleted_at IS NOT NULL"),
              sqlite_where=text("deleted_at IS NOT NULL")),
        # The clean-up ends conversations nobody touched for two weeks.
        Index("ix_person_conversation_at", "conversation_at",
              postgresql_where=text("conversation IS NOT NULL"),
              sqlite_where=text("conversation IS NOT NULL")),
    )


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
    # Premium only (R8): granted or last renewed, and valid until (one year later).
    premium_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    premium_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    #: How the premium kind came (R2): applied for here (direct), or through a municipality
    #: of this prefecture (co_registration), which it then follows. None while basic.
    premium_origin: Mapped[str | None] = mapped_column(_enum(Origin))
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


class ProcessedEvent(Base):
    """Webhook events already handled, keyed by LINE's webhookEventId (Webhook events, docs/rules.md)."""

    __tablename__ = "processed_event"

    webhook_event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class UsedLink(Base):
    """A single-use link that has been used (the rotating-code screen's link from the chat):
    its nonce, until the link would have expired anyway."""

    __tablename__ = "used_link"

    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class StaffRole(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"


class Staff(Base):
    """A person who acts for an entity in the chat: municipality staff (自治体職員)."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"), index=True)
    role: Mapped[str] = mapped_column(_enum(StaffRole))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    entity: Mapped[Entity] = relationship()
    person: Mapped[Person] = relationship()

    __table_args__ = (
        Index("uq_staff_active", "person_id", "entity_id", unique=True,
              sqlite_where=text("removed_at IS NULL"),
              postgresql_where=text("removed_at IS NULL")),
    )


class StaffInvitation(Base):
    """A one-time, expiring invitation; only its hash is kept, never the code itself."""

    __tablename__ = "staff_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"))
    role: Mapped[str] = mapped_column(_enum(StaffRole))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))

    entity: Mapped[Entity] = relationship()


class ActivityCategory(StrEnum):
    VOLUNTEER = "volunteer"
    SIDE_JOB = "side_job"
    COMMUNITY_COUNCIL = "community_council"
    DISASTER_VOLUNTEERING = "disaster_volunteering"
    EVENT_HELP = "event_help"
    OTHER = "other"


class ActivityStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"          # no more check-ins; what happened stays
    CANCELLED = "cancelled"    # did not take place


class Activity(Base):
    """A helper activity (担い手活動) an entity offers (R4, R12)."""

    __tablename__ = "activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"))
    title: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(_enum(ActivityCategory))
    designated: Mapped[bool] = mapped_column(Boolean)  # counts toward premium (R4)
    place: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(_enum(ActivityStatus), default=ActivityStatus.OPEN)
    #: Seconds between QR renewals on the staff's rotating-code page; None = a printed code.
    rotate_seconds: Mapped[int | None] = mapped_column(Integer)
    created_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    entity: Mapped[Entity] = relationship()
    sessions: Mapped[list[ActivitySession]] = relationship(
        back_populates="activity", order_by="ActivitySession.starts_at")

    __table_args__ = (Index(None, "entity_id", "status"),)


class ActivitySession(Base):
    """One date and time window of an activity; each has its own check-in code."""

    __tablename__ = "activity_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())

    activity: Mapped[Activity] = relationship(back_populates="sessions")


class CheckInMethod(StrEnum):
    LINK = "link"      # the pre-typed text from the QR's LINE link
    PHOTO = "photo"    # a photo of the QR sent to the bot
    LIFF = "liff"      # the LIFF scanner page
    STAFF = "staff"    # confirmed by staff


class CheckIn(Base):
    """Attendance at an activity session: once per person and session (R12)."""

    __tablename__ = "check_in"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("activity_session.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime())
    method: Mapped[str] = mapped_column(_enum(CheckInMethod))

    session: Mapped[ActivitySession] = relationship()

    __table_args__ = (
        Index("uq_check_in_once", "session_id", "person_id", unique=True),
        # R4 is counted from this index alone (the expiry judgement, the premium flow): the
        # session says which activity, so PostgreSQL keeps it in the index too.
        Index(None, "person_id", "checked_in_at", postgresql_include=["session_id"]),
    )


class OutboxKind(StrEnum):
    PUSH = "push"
    MULTICAST = "multicast"
    NARROWCAST = "narrowcast"
    BROADCAST = "broadcast"


class OutboxStatus(StrEnum):
    PENDING = "pending"   # waiting, or leased to a worker until `available_at`
    SENT = "sent"         # LINE accepted it (2xx, or 409 for a key it had accepted)
    FAILED = "failed"     # not sent, for the `failure` given


class OutboxFailure(StrEnum):
    """Why a row ended FAILED: what staff and operators are told."""

    REFUSED = "refused"   # LINE refused the request (a 4xx): kept with LINE's message
    EXPIRED = "expired"   # it may have reached LINE, and its retry key is too old to resend
    RESENT = "resent"     # refused, and then queued again as a new row by staff


class OutboxPauseReason(StrEnum):
    UNAUTHORIZED = "unauthorized"  # LINE answered 401/403: the channel token is not accepted
    RATE_LIMITED = "rate_limited"  # LINE answered 429


class OutboxMessage(Base):
    """A message that is not a reply, written in the same transaction as its cause.

    The `worker` process sends it (Outgoing messages, docs/rules.md). The retry key is fixed
    here, so a resend after a crash or a timeout is the identical request and LINE accepts it
    at most once.
    """

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(_enum(OutboxKind))
    recipients: Mapped[list] = mapped_column(JSON, default=list)  # user IDs; [] for broadcast
    messages: Mapped[list] = mapped_column(JSON)                  # message objects, as LINE's JSON
    retry_key: Mapped[str] = mapped_column(String(36), unique=True)
    status: Mapped[str] = mapped_column(_enum(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Not before this moment: the next try after a backoff, or the end of a worker's lease.
    available_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(1000))
    failure: Mapped[str | None] = mapped_column(_enum(OutboxFailure))
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcast.id"), index=True)
    #: How many people it was for, kept when the recipients are purged (counts for staff).
    recipient_count: Mapped[int] = mapped_column(Integer, default=0)
    #: Set by each claim: a worker records a result only while the lease is still its own.
    lease_token: Mapped[str | None] = mapped_column(String(36))
    #: The first try that may have reached LINE: its retry key is remembered 24 hours from then.
    first_tried_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the body and the recipients were erased (retention, or R14 for a push).
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index(None, "status", "available_at"),
                      Index("ix_outbox_message_unpurged", "created_at",
                            postgresql_where=text("purged_at IS NULL"),
                            sqlite_where=text("purged_at IS NULL")))


class OutboxPause(Base):
    """The whole queue stopped, for every worker: LINE refused the channel's token, or asked
    us to slow down. One row at most (id 1); no row means sending."""

    __tablename__ = "outbox_pause"

    id: Mapped[int] = mapped_column(primary_key=True)
    reason: Mapped[str] = mapped_column(_enum(OutboxPauseReason))
    detail: Mapped[str | None] = mapped_column(String(1000))
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    #: A rate limit ends then; a refused token is tried again with one message then.
    resume_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BroadcastStatus(StrEnum):
    SCHEDULED = "scheduled"   # confirmed; fanned out when `send_at` comes
    SENDING = "sending"       # being fanned out into the outbox (resumable by `cursor`)
    QUEUED = "queued"         # every recipient is in the outbox
    CANCELLED = "cancelled"


class Broadcast(Base):
    """Information an entity's staff send to an audience of its registrants (R11)."""

    __tablename__ = "broadcast"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"), index=True)
    created_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    messages: Mapped[list] = mapped_column(JSON)     # as LINE's JSON
    summary: Mapped[str] = mapped_column(String(200))  # what staff see in lists
    #: {"kinds": ["basic", "premium"], "relationships": [...], "prefectures": [...]}
    audience: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(_enum(BroadcastStatus))
    send_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The last person ID fanned out: the fan-out resumes after it (keyset pagination).
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    recipients: Mapped[int] = mapped_column(Integer, default=0)

    entity: Mapped[Entity] = relationship()

    __table_args__ = (Index(None, "status", "send_at"),)


class SurveyStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class QuestionKind(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    RATING = "rating"   # 1–5
    TEXT = "text"


class MonitorSurvey(Base):
    """A municipality's own survey of its registrants (自治体独自アンケート, R11)."""

    __tablename__ = "monitor_survey"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(_enum(SurveyStatus), default=SurveyStatus.DRAFT)
    created_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Who it was sent to and when (Audience.to_json): only they answer. None on surveys sent
    # before these were kept (migration 0010), which went to all registrants.
    audience: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    entity: Mapped[Entity] = relationship()
    questions: Mapped[list[MonitorQuestion]] = relationship(
        back_populates="survey", order_by="MonitorQuestion.position")


class MonitorQuestion(Base):
    __tablename__ = "monitor_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("monitor_survey.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(_enum(QuestionKind))
    text: Mapped[str] = mapped_column(String(300))
    choices: Mapped[list] = mapped_column(JSON, default=list)

    survey: Mapped[MonitorSurvey] = relationship(back_populates="questions")


class MonitorResponse(Base):
    """One person's answers to a survey: once per person (unique), finished or not."""

    __tablename__ = "monitor_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("monitor_survey.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("uq_monitor_response_once", "survey_id", "person_id", unique=True),)


class MonitorAnswer(Base):
    __tablename__ = "monitor_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("monitor_response.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("monitor_question.id"), index=True)
    #: A choice's index, several joined by "," for multiple choice, 1–5, or free text.
    value: Mapped[str] = mapped_column(String(2000))

    __table_args__ = (Index("uq_monitor_answer_once", "response_id", "question_id", unique=True),)


class Media(Base):
    """An image staff attached to a broadcast, served to LINE at an unguessable URL."""

    __tablename__ = "media"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, URL-safe
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"))
    original: Mapped[bytes] = mapped_column(LargeBinary)   # JPEG ≤ 2048 px
    preview: Mapped[bytes] = mapped_column(LargeBinary)    # JPEG ≤ 480 px
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PremiumRequestPurpose(StrEnum):
    APPLICATION = "application"
    RENEWAL = "renewal"


class PremiumRequestStatus(StrEnum):
    PENDING = "pending"        # waiting for staff (renewal mode `manual`)
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"    # the person gave up, or the registration ended meanwhile


class PremiumRequest(Base):
    """A premium application or renewal awaiting a staff decision (R8, renewal mode `manual`)."""

    __tablename__ = "premium_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"))
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"))
    purpose: Mapped[str] = mapped_column(_enum(PremiumRequestPurpose))
    status: Mapped[str] = mapped_column(_enum(PremiumRequestStatus),
                                        default=PremiumRequestStatus.PENDING)
    #: The system's judgement when the request was made: figures and unmet rules, as JSON.
    judgement: Mapped[dict] = mapped_column(JSON, default=dict)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    reason: Mapped[str | None] = mapped_column(String(500))  # staff's words when declining

    entity: Mapped[Entity] = relationship()
    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    registration: Mapped[Registration] = relationship()

    __table_args__ = (
        Index(None, "entity_id", "status"),
        Index("uq_premium_request_pending", "person_id", "entity_id", unique=True,
              sqlite_where=text("status = 'pending'"),
              postgresql_where=text("status = 'pending'")),
    )


class IdentityVerification(Base):
    """What R13 lets us keep of a My Number Card verification: no number, PIN, token or cert."""

    __tablename__ = "identity_verification"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), unique=True)
    provider: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(255))       # pairwise subject ID
    assurance_level: Mapped[str | None] = mapped_column(String(100))
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime())
    birth_date: Mapped[date | None] = mapped_column(Date)
    #: The verified name, kept because a counter must match the card's holder (R6); nothing else.
    name: Mapped[str | None] = mapped_column(String(100))
    #: The municipality the verified address lies in (R9); the address itself is not kept.
    address_entity_id: Mapped[int | None] = mapped_column(ForeignKey("entity.id"))
    consent_version: Mapped[str] = mapped_column(String(20))
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime())

    person: Mapped[Person] = relationship()

    __table_args__ = (
        # One card, one person: a second LINE account cannot reuse a verification (R7).
        Index("uq_identity_verification_subject", "provider", "subject", unique=True),
    )


class GuardianConsent(Base):
    """A guardian's consent to a minor's premium registration (R10)."""

    __tablename__ = "guardian_consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), unique=True)
    provider: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(255))       # the guardian's pairwise subject ID
    relationship_to_minor: Mapped[str] = mapped_column(String(20))
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime())


class VerificationPurpose(StrEnum):
    SELF = "self"
    GUARDIAN = "guardian"


class VerificationTicket(Base):
    """A single-use, short-lived hand-off from the chat (or from a minor) to the web view."""

    __tablename__ = "verification_ticket"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random jti, in a signed link
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(_enum(VerificationPurpose))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class VerificationAttempt(Base):
    """One authorisation request in flight: state, nonce and PKCE verifier stay on the server."""

    __tablename__ = "verification_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(64), unique=True)
    nonce: Mapped[str] = mapped_column(String(64))
    #: Cleared as soon as the token request is made.
    code_verifier: Mapped[str | None] = mapped_column(String(128))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(_enum(VerificationPurpose))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(40))
    #: A guardian states it before leaving for the provider (R10); kept for the consent.
    relationship_to_minor: Mapped[str | None] = mapped_column(String(20))
    #: SHA-256 of the browser's binding cookie: the callback must come from that browser.
    browser_binding: Mapped[str | None] = mapped_column(String(64))
    # A callback LINE did not vouch for (every start from the chat's signed link, and any
    # return to another browser): what the card said waits here, reduced to what R13 keeps,
    # until the code the page shows arrives in the account's own chat
    # (bot/identity/confirmation.py); cleared then, on a wrong code too many times, or by the
    # hourly clean-up once `confirm_by` has passed.
    pending_result: Mapped[dict | None] = mapped_column(JSON)
    #: SHA-256 of the confirmation code; the code itself is only on the page.
    confirmation_digest: Mapped[str | None] = mapped_column(String(64))
    confirm_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmation_tries: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class SupportCategory(StrEnum):
    """The fixed catalogue of R6. There is no return-gift (返礼品) category, by design."""
    TRAVEL = "travel"
    LODGING = "lodging"
    WORKSPACE = "workspace"
    FACILITY_RATES = "facility_rates"      # resident rates at public facilities
    EVACUATION = "evacuation"              # evacuation acceptance
    IN_PERSON_SERVICE = "in_person_service"


class SupportMeasure(Base):
    """A support measure an entity offers its premium registrants (R6)."""

    __tablename__ = "support_measure"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(_enum(SupportCategory))
    description: Mapped[str] = mapped_column(String(1000))
    how_to_use: Mapped[str] = mapped_column(String(1000))
    created_by_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    entity: Mapped[Entity] = relationship()


class JobMark(Base):
    """One item a scheduled job has acted on (issue #6): written in the same transaction as
    the change and the outbox message, so a rerun, a resumed run or a second clock skips it.

    `subject_at` is the moment the item is about (the expiry a reminder announces, the last
    access a prompt refers to): when it moves, the item is due again.
    """

    __tablename__ = "job_mark"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(Integer)
    subject_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(40))
    done_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    __table_args__ = (
        Index("uq_job_mark_item", "job", "subject_id", "subject_at", unique=True),
    )


class ClockLease(Base):
    """Which clock process is active, on SQLite (PostgreSQL uses an advisory lock instead)."""

    __tablename__ = "clock_lease"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
