"""Webhook tables: subscriptions, their signing secrets, the delivery queue and the attempt log.

They live on the store's `metadata`, so Alembic (migrations/versions/0003_webhooks.py) and the
model/migration comparison test see them. The event log itself is never written here: a
subscription only keeps a checkpoint (a global position) into it.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.db import UTCDateTime
from app.store.tables import metadata

# Row ids that only ever grow: BIGINT (an identity) on PostgreSQL; on SQLite only an INTEGER
# PRIMARY KEY is the rowid alias that numbers itself.
RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

STATUSES = ("active", "paused", "disabled")

webhook_subscriptions = sa.Table(
    "webhook_subscriptions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    # The API key that created it: a key sees and manages only its own subscriptions.
    sa.Column("owner_key_id", sa.String(36), nullable=False),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("description", sa.String(500), nullable=True),
    # Filters: NULL matches everything; otherwise a JSON list of incident ids / event types.
    sa.Column("incidents", sa.JSON, nullable=True),
    sa.Column("types", sa.JSON, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("disabled_reason", sa.String(1000), nullable=True),
    sa.Column("disabled_at", UTCDateTime, nullable=True),
    # Every event with a position <= checkpoint has been considered: queued in
    # webhook_deliveries if it matched the filter, skipped if not. See app.webhooks.queue.
    sa.Column("checkpoint", sa.BigInteger, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint("status IN ('active', 'paused', 'disabled')", name="status"),
    sa.Index(None, "owner_key_id"),
)

# Signing secrets. The newest has expires_at NULL; a rotation gives the previous one an
# expiry (the grace period) and both sign until then. Stored as issued: the dispatcher needs the
# key itself to compute an HMAC, so a hash would not do; the API never reads this column back.
webhook_secrets = sa.Table(
    "webhook_secrets",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column(
        "subscription_id",
        sa.String(36),
        sa.ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("secret", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=True),
    sa.Index(None, "subscription_id"),
)

# The delivery queue: one row per (subscription, event) that has not been delivered yet. A row
# is deleted when the receiver answers 2xx (the attempt log keeps the history), so the table
# holds the backlog only and stays small while receivers keep up.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column(
        "subscription_id",
        sa.String(36),
        sa.ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("incident_id", sa.String(80), nullable=False),
    sa.Column("event_id", sa.String(36), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),  # attempts made for this queued delivery
    sa.Column("failures", sa.Integer, nullable=False),  # failures counted by the retry schedule
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    sa.Column("first_failed_at", UTCDateTime, nullable=True),
    # A worker owns a row while leased_until is in the future; lease_token fences a worker whose
    # lease lapsed and was taken over (its late result is then ignored).
    sa.Column("leased_until", UTCDateTime, nullable=True),
    sa.Column("lease_token", sa.String(36), nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("subscription_id", "position"),
    # The per-incident head lookup: the oldest queued row of (subscription, incident).
    sa.Index(None, "subscription_id", "incident_id", "position"),
    sa.Index(None, "next_attempt_at"),
)

# The delivery log: one row per attempt, successful or not.
webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column(
        "subscription_id",
        sa.String(36),
        sa.ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("event_id", sa.String(36), nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("incident_id", sa.String(80), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("status_code", sa.Integer, nullable=True),
    sa.Column("error", sa.String(1000), nullable=True),
    sa.Column("response_body", sa.Text, nullable=True),  # truncated to webhook_response_max_bytes
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("attempted_at", UTCDateTime, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime, nullable=True),  # NULL: delivered, or not retried
    sa.Index(None, "subscription_id", "id"),
)
