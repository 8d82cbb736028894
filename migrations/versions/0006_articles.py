"""The way in: articles as received, their proposals, and the editors' decisions (append-only).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
TABLES = ("articles", "proposals", "proposal_decisions")


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("outlet", sa.String(300), nullable=False),
        sa.Column("url", sa.String(2000), nullable=True),
        sa.Column("title", sa.String(1000), nullable=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("published_at", sa.String(40), nullable=False),
        sa.Column("published_moment", TZ, nullable=False),
        sa.Column("incident_id", sa.String(80), nullable=True),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("received_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_articles")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_articles_content_hash")),
    )
    op.create_index(op.f("ix_articles_received_at"), "articles", ["received_at"])
    op.create_index(op.f("ix_articles_outlet"), "articles", ["outlet"])
    op.create_index(op.f("ix_articles_incident_id"), "articles", ["incident_id"])
    op.create_table(
        "proposals",
        sa.Column("article_id", sa.String(36), nullable=False),
        sa.Column("proposal_id", sa.String(64), nullable=False),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("article_id", "proposal_id", name=op.f("pk_proposals")),
    )
    op.create_table(
        "proposal_decisions",
        sa.Column("article_id", sa.String(36), nullable=False),
        sa.Column("proposal_id", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(2000), nullable=True),
        sa.Column("overrides", sa.JSON, nullable=True),
        sa.Column("result", sa.JSON, nullable=True),
        sa.Column("decided_at", TZ, nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=False),
        sa.CheckConstraint("decision IN ('accepted', 'rejected')", name=op.f("ck_proposal_decisions_decision")),
        sa.PrimaryKeyConstraint("article_id", "proposal_id", name=op.f("pk_proposal_decisions")),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        if postgres:
            # events_refuse_change() comes from 0001: the same refusal as the event log.
            op.execute(
                f"CREATE TRIGGER {table}_refuse_update_delete BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION events_refuse_change()"
            )
        else:
            for operation in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_refuse_{operation.lower()} BEFORE {operation} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} are append-only: {operation} is refused'); END"
                )


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
