"""Webhooks: subscriptions, signing secrets, the delivery queue and the attempt log.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _subscription_fk(table: str):
    return sa.ForeignKeyConstraint(
        ["subscription_id"],
        ["webhook_subscriptions.id"],
        name=op.f(f"fk_{table}_subscription_id_webhook_subscriptions"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("owner_key_id", sa.String(36), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("description", sa.String(500), nullable=True),
        sa.Column("incidents", sa.JSON, nullable=True),
        sa.Column("types", sa.JSON, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("disabled_reason", sa.String(1000), nullable=True),
        sa.Column("disabled_at", TZ, nullable=True),
        sa.Column("checkpoint", sa.BigInteger, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.CheckConstraint("status IN ('active', 'paused', 'disabled')", name=op.f("ck_webhook_subscriptions_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    op.create_index(op.f("ix_webhook_subscriptions_owner_key_id"), "webhook_subscriptions", ["owner_key_id"])

    op.create_table(
        "webhook_secrets",
        sa.Column("id", ROW_ID, nullable=False, autoincrement=True),
        sa.Column("subscription_id", sa.String(36), nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=True),
        _subscription_fk("webhook_secrets"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_secrets")),
    )
    op.create_index(op.f("ix_webhook_secrets_subscription_id"), "webhook_secrets", ["subscription_id"])

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", ROW_ID, nullable=False, autoincrement=True),
        sa.Column("subscription_id", sa.String(36), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("incident_id", sa.String(80), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("first_failed_at", TZ, nullable=True),
        sa.Column("leased_until", TZ, nullable=True),
        sa.Column("lease_token", sa.String(36), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        _subscription_fk("webhook_deliveries"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("subscription_id", "position", name=op.f("uq_webhook_deliveries_subscription_id_position")),
    )
    op.create_index(
        op.f("ix_webhook_deliveries_subscription_id_incident_id_position"),
        "webhook_deliveries",
        ["subscription_id", "incident_id", "position"],
    )
    op.create_index(op.f("ix_webhook_deliveries_next_attempt_at"), "webhook_deliveries", ["next_attempt_at"])

    op.create_table(
        "webhook_attempts",
        sa.Column("id", ROW_ID, nullable=False, autoincrement=True),
        sa.Column("subscription_id", sa.String(36), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("incident_id", sa.String(80), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("error", sa.String(1000), nullable=True),
        sa.Column("response_body", sa.Text, nullable=True),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("attempted_at", TZ, nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=True),
        _subscription_fk("webhook_attempts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    op.create_index(op.f("ix_webhook_attempts_subscription_id_id"), "webhook_attempts", ["subscription_id", "id"])


def downgrade() -> None:
    for table in ("webhook_attempts", "webhook_deliveries", "webhook_secrets", "webhook_subscriptions"):
        op.drop_table(table)
