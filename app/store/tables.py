"""The store's tables. Created and changed only by the Alembic migrations in migrations/."""

from __future__ import annotations

import sqlalchemy as sa

from app.db import UTCDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# One row: the log's Merkle tree so far, its size and its right edge (the hashes of its complete
# subtrees, 32 bytes each, largest first: app.proofs.merkle.extend). The tree integrates the
# committed events behind the head (app.store.tree), so its size is at most the head position.
log_head = sa.Table(
    "log_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("tree_size", sa.BigInteger, nullable=False),
    sa.Column("frontier", sa.LargeBinary, nullable=False),
    sa.CheckConstraint("id = 1", name="single_row"),
)

# Every complete subtree of the log's Merkle tree (RFC 9162): the hash of leaves
# [number * 2**level, (number + 1) * 2**level), level 0 being the events' leaf hashes (leaf
# number = position - 1), keyed by node_key(level, number). Written as the tree integrates the
# committed events (app.store.tree), with the size and right edge on log_head; append-only.
merkle_nodes = sa.Table(
    "merkle_nodes",
    metadata,
    sa.Column("node", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.LargeBinary, nullable=False),
)
LEVEL_SHIFT = 56  # 2**56 leaves per level, 63 levels: one signed 64-bit key per node


def node_key(level: int, number: int) -> int:
    """One integer per node, so a proof's nodes are one `node IN (...)` on the primary key."""
    return level << LEVEL_SHIFT | number


# The signed tree heads issued: a C2SP checkpoint note per tree size. Append-only.
checkpoints = sa.Table(
    "checkpoints",
    metadata,
    sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("root_hash", sa.LargeBinary, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("issued_at", UTCDateTime, nullable=False),
)

# One row per stream, from its first append: when it was opened. Its version is its events' highest.
streams = sa.Table(
    "streams",
    metadata,
    sa.Column("incident_id", sa.String(80), primary_key=True),
    sa.Column("opened_at", UTCDateTime, nullable=False),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("incident_id", sa.String(80), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("event_id", sa.String(36), nullable=False),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("reported_at", UTCDateTime, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    # The day, when the publication time is known only to the day; reported_at is then its end.
    sa.Column("reported_day", sa.Date, nullable=True),
    sa.UniqueConstraint("incident_id", "version"),
    sa.UniqueConstraint("event_id"),
    sa.Index(None, "incident_id", "recorded_at", "version"),
    sa.Index(None, "recorded_at"),
    sa.Index(None, "type"),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("scope", sa.String(100), primary_key=True),
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("incident_id", sa.String(80), nullable=False),
    sa.Column("result", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("scopes", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime, nullable=True),
)

# A cache of the timeline fold at a version; never the source of truth. Rows made by another
# projection version are ignored and deleted (see app.projections.snapshots).
snapshots = sa.Table(
    "snapshots",
    metadata,
    sa.Column("incident_id", sa.String(80), primary_key=True),
    sa.Column("projection_version", sa.Integer, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("state", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# The keys that seal private persons' names in events (app.proofs.sealing), one per person, found by
# a digest of the name. Not append-only: an erasure deletes a person's row, and with it every
# sealed value's only way back to the name.
person_keys = sa.Table(
    "person_keys",
    metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("name_digest", sa.String(64), nullable=False, unique=True),
    sa.Column("key", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)


# The log's head: the highest position committed so far (0 for an empty log), and a stream's
# version, its highest; one step down the primary key or the (incident_id, version) key. Nothing
# else keeps them: see app.store.appenders.
head_position = sa.select(sa.func.coalesce(sa.func.max(events.c.position), 0)).scalar_subquery()


def stream_version(incident_id) -> sa.ScalarSelect:
    """The stream's highest version: NULL for a stream with no event (`incident_id` a value or a column)."""
    return sa.select(sa.func.max(events.c.version)).where(events.c.incident_id == incident_id).scalar_subquery()
