"""Initial schema: check-ins, topic summaries, item answers, escalations, consent, clinicians, logs.

Revision ID: 0001
Revises:
Create Date: 2025-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=24), nullable=False),
        sa.Column("pseudonym", sa.String(length=128), nullable=False),
        sa.Column("checkin_id", sa.String(length=64), nullable=False),
        sa.Column("age_band", sa.String(length=16), nullable=True),
        sa.Column("country", sa.String(length=8), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkins")),
        sa.UniqueConstraint("pseudonym", "checkin_id", name="uq_checkins_pseudonym_checkin"),
        sa.UniqueConstraint("ref", name=op.f("uq_checkins_ref")),
    )
    op.create_index(op.f("ix_checkins_pseudonym"), "checkins", ["pseudonym"])
    op.create_index(op.f("ix_checkins_created_at"), "checkins", ["created_at"])

    op.create_table(
        "topic_summaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checkin_pk", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("band", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkin_pk"],
            ["checkins.id"],
            name=op.f("fk_topic_summaries_checkin_pk_checkins"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topic_summaries")),
        sa.UniqueConstraint("checkin_pk", "topic", name="uq_topic_summaries_checkin_topic"),
    )
    op.create_index(op.f("ix_topic_summaries_checkin_pk"), "topic_summaries", ["checkin_pk"])

    op.create_table(
        "item_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("summary_pk", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("elevated", sa.Boolean(), nullable=False),
        sa.Column("skipped", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["summary_pk"],
            ["topic_summaries.id"],
            name=op.f("fk_item_answers_summary_pk_topic_summaries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_answers")),
        sa.UniqueConstraint("summary_pk", "item_id", name="uq_item_answers_summary_item"),
    )
    op.create_index(op.f("ix_item_answers_summary_pk"), "item_answers", ["summary_pk"])

    op.create_table(
        "escalation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("pseudonym", sa.String(length=128), nullable=True),
        sa.Column("checkin_pk", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["checkin_pk"],
            ["checkins.id"],
            name=op.f("fk_escalation_events_checkin_pk_checkins"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_events")),
    )
    op.create_index(op.f("ix_escalation_events_occurred_at"), "escalation_events", ["occurred_at"])
    op.create_index(op.f("ix_escalation_events_pseudonym"), "escalation_events", ["pseudonym"])
    op.create_index(op.f("ix_escalation_events_checkin_pk"), "escalation_events", ["checkin_pk"])

    op.create_table(
        "consent_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(length=128), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("given", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_records")),
    )
    op.create_index("ix_consent_records_pseudonym_scope", "consent_records", ["pseudonym", "scope"])

    op.create_table(
        "clinicians",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinicians")),
        sa.UniqueConstraint("email", name=op.f("uq_clinicians_email")),
    )

    op.create_table(
        "clinician_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("clinician_pk", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinician_pk"],
            ["clinicians.id"],
            name=op.f("fk_clinician_sessions_clinician_pk_clinicians"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_clinician_sessions")),
    )
    op.create_index(
        op.f("ix_clinician_sessions_clinician_pk"), "clinician_sessions", ["clinician_pk"]
    )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("clinician_pk", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinician_pk"],
            ["clinicians.id"],
            name=op.f("fk_audit_log_clinician_pk_clinicians"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index("ix_audit_log_action_actor_at", "audit_log", ["action", "actor", "at"])

    op.create_table(
        "erasure_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("erased_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_log")),
    )


def downgrade() -> None:
    for table in (
        "erasure_log",
        "audit_log",
        "clinician_sessions",
        "clinicians",
        "consent_records",
        "escalation_events",
        "item_answers",
        "topic_summaries",
        "checkins",
    ):
        op.drop_table(table)
