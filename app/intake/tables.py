"""The way in's tables: reports as received, the proposals made from them, and the editors' decisions.

All three are append-only, like the event log (the database refuses UPDATE and DELETE): a report
is kept as it was received, its proposals as they were first made (so a better extractor later
does not rewrite what an editor was shown), and each decision once.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.db import UTCDateTime
from app.store.tables import metadata

# Sealed (see `sealed`) a title or a reason is longer than its text: PostgreSQL holds it as text
# (migration 0012); SQLite never held a column to its declared length, and keeps it declared as it was.
SEALED_TITLE = sa.String(1000).with_variant(sa.Text(), "postgresql")
SEALED_REASON = sa.String(2000).with_variant(sa.Text(), "postgresql")

articles = sa.Table(
    "articles",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    # SHA-256 of the URL and the text: the same report posted again is the same article.
    sa.Column("content_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("outlet", sa.String(300), nullable=False),
    sa.Column("url", sa.String(2000), nullable=True),
    sa.Column("title", SEALED_TITLE, nullable=True),
    sa.Column("text", sa.Text, nullable=False),
    # As the report gives it (a day or a time, events.published), and the instant it stands for.
    sa.Column("published_at", sa.String(40), nullable=False),
    sa.Column("published_moment", UTCDateTime, nullable=False),
    sa.Column("incident_id", sa.String(80), nullable=True),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("received_by", sa.String(200), nullable=False),
    # Sealed under the report's key in article_keys (text, title, proposals, decisions); false for a
    # report stored before reports were sealed, kept as received.
    sa.Column("sealed", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index(None, "received_at"),
    sa.Index(None, "outlet"),
    sa.Index(None, "incident_id"),
)

proposals = sa.Table(
    "proposals",
    metadata,
    sa.Column("article_id", sa.String(36), primary_key=True),
    sa.Column("proposal_id", sa.String(64), primary_key=True),
    sa.Column("ordinal", sa.Integer, nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
)

decisions = sa.Table(
    "proposal_decisions",
    metadata,
    sa.Column("article_id", sa.String(36), primary_key=True),
    sa.Column("proposal_id", sa.String(64), primary_key=True),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Column("reason", SEALED_REASON, nullable=True),
    # What the editor changed, and what was appended (the append result), for an accept.
    sa.Column("overrides", sa.JSON, nullable=True),
    sa.Column("result", sa.JSON, nullable=True),
    sa.Column("decided_at", UTCDateTime, nullable=False),
    sa.Column("decided_by", sa.String(200), nullable=False),
    sa.CheckConstraint("decision IN ('accepted', 'rejected')", name="decision"),
)


# Each stored report's own key (app.proofs.sealing.seal_json seals its text, title, proposals and
# decisions under it): an erasure of a person the report names destroys it, and with it all of them.
article_keys = sa.Table(
    "article_keys",
    metadata,
    sa.Column("article_id", sa.String(36), primary_key=True),
    sa.Column("key", sa.LargeBinary, nullable=False),
)
