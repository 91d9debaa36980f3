"""Tables of scrollcheck's own data (Rasa's `events` table belongs to Rasa's tracker store).

Data minimisation is the rule: structured results only, never chat text. Rows about a young
person are keyed by the gateway's pseudonym; the clinician pages reach check-ins through the random
`ref`, never through the pseudonym. Times are naive UTC.

Any change here needs a new Alembic revision in bot/storage/migrations/versions/ (a test compares
the two).
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import registry, relationship
from sqlalchemy.orm.decl_api import DeclarativeMeta

# Deterministic constraint names keep migrations portable between SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_registry = registry(metadata=MetaData(naming_convention=NAMING_CONVENTION))


class Base(metaclass=DeclarativeMeta):
    """The declarative base, written out (SQLAlchemy 1.4's documented form) so mypy sees a class."""

    __abstract__ = True
    registry = _registry
    metadata = _registry.metadata
    __init__ = _registry.constructor


PSEUDONYM_LENGTH = 128


def utcnow() -> dt.datetime:
    """Naive UTC now, the one time representation in every table."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def new_ref() -> str:
    """A random reference for a check-in, unrelated to the pseudonym (safe to show clinicians)."""
    return secrets.token_hex(8)


class CheckIn(Base):
    """One check-in conversation; per-topic results hang off it."""

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("pseudonym", "checkin_id", name="uq_checkins_pseudonym_checkin"),
    )

    id = Column(Integer, primary_key=True)
    ref = Column(String(24), nullable=False, unique=True, default=new_ref)
    pseudonym = Column(String(PSEUDONYM_LENGTH), nullable=False, index=True)
    checkin_id = Column(String(64), nullable=False)
    age_band = Column(String(16))
    country = Column(String(8))
    language = Column(String(16))
    shared = Column(Boolean, nullable=False, default=False)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    updated_at = Column(DateTime, nullable=False, default=utcnow)

    topics = relationship(
        "TopicSummary",
        back_populates="checkin",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="TopicSummary.id",
    )
    escalations = relationship("EscalationEvent", back_populates="checkin", passive_deletes=True)


class TopicSummary(Base):
    """The result of one screening topic inside a check-in (written at the end of each topic)."""

    __tablename__ = "topic_summaries"
    __table_args__ = (
        UniqueConstraint("checkin_pk", "topic", name="uq_topic_summaries_checkin_topic"),
    )

    id = Column(Integer, primary_key=True)
    checkin_pk = Column(
        Integer, ForeignKey("checkins.id", ondelete="CASCADE"), nullable=False, index=True
    )
    topic = Column(String(32), nullable=False)
    score = Column(Float)
    band = Column(String(16))
    created_at = Column(DateTime, nullable=False, default=utcnow)
    updated_at = Column(DateTime, nullable=False, default=utcnow)

    checkin = relationship("CheckIn", back_populates="topics")
    answers = relationship(
        "ItemAnswer",
        back_populates="summary",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ItemAnswer.id",
    )


class ItemAnswer(Base):
    """One screening item: its id and the scale value (1-5), or skipped. Never the item's text."""

    __tablename__ = "item_answers"
    __table_args__ = (
        UniqueConstraint("summary_pk", "item_id", name="uq_item_answers_summary_item"),
    )

    id = Column(Integer, primary_key=True)
    summary_pk = Column(
        Integer, ForeignKey("topic_summaries.id", ondelete="CASCADE"), nullable=False, index=True
    )
    item_id = Column(String(64), nullable=False)
    value = Column(Integer)
    elevated = Column(Boolean, nullable=False, default=False)
    skipped = Column(Boolean, nullable=False, default=False)

    summary = relationship("TopicSummary", back_populates="answers")


class EscalationEvent(Base):
    """A crisis escalation: level, category and time, never the message.

    Recorded with or without consent; the pseudonym (and the link to a check-in) only when the
    person had given screening consent. Clinicians never see the pseudonym.
    """

    __tablename__ = "escalation_events"

    id = Column(Integer, primary_key=True)
    level = Column(String(16), nullable=False)
    category = Column(String(32), nullable=False)
    occurred_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    pseudonym = Column(String(PSEUDONYM_LENGTH), index=True)
    checkin_pk = Column(Integer, ForeignKey("checkins.id", ondelete="SET NULL"), index=True)

    checkin = relationship("CheckIn", back_populates="escalations")


class ConsentRecord(Base):
    """An answer to a consent question; the latest record per (pseudonym, scope) counts."""

    __tablename__ = "consent_records"
    __table_args__ = (Index("ix_consent_records_pseudonym_scope", "pseudonym", "scope"),)

    id = Column(Integer, primary_key=True)
    pseudonym = Column(String(PSEUDONYM_LENGTH), nullable=False)
    scope = Column(String(16), nullable=False)
    given = Column(Boolean, nullable=False)
    recorded_at = Column(DateTime, nullable=False, default=utcnow)


class Clinician(Base):
    """A review-page account. Passwords are stored as argon2id hashes only."""

    __tablename__ = "clinicians"

    id = Column(Integer, primary_key=True)
    email = Column(String(254), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_login_at = Column(DateTime)


class ClinicianSession(Base):
    """A logged-in browser session; the cookie holds the token, the table only its SHA-256.

    Server-side rows make logout and account disabling take effect at once.
    """

    __tablename__ = "clinician_sessions"

    token_hash = Column(String(64), primary_key=True)
    clinician_pk = Column(
        Integer, ForeignKey("clinicians.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_seen_at = Column(DateTime, nullable=False, default=utcnow)


class AuditEntry(Base):
    """Who logged in, viewed or exported what, and when."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_action_actor_at", "action", "actor", "at"),)

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    clinician_pk = Column(Integer, ForeignKey("clinicians.id", ondelete="SET NULL"))
    actor = Column(String(254), nullable=False)  # the account e-mail (as typed, for failed logins)
    action = Column(String(32), nullable=False)
    target = Column(String(255))
    ip = Column(String(45))


class ErasureEntry(Base):
    """That an erasure happened, and when: deliberately nothing else."""

    __tablename__ = "erasure_log"

    id = Column(Integer, primary_key=True)
    erased_at = Column(DateTime, nullable=False, default=utcnow)
