"""Stored reports sealed under keys of their own: a key per report (mutable, so an erasure can
destroy it) and a flag on each report saying it is sealed (the reports stored before stay as received).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "article_keys",
        sa.Column("article_id", sa.String(36), nullable=False),
        sa.Column("key", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_article_keys")),
    )
    # ADD COLUMN rewrites no row, so the append-only triggers have nothing to refuse.
    op.add_column("articles", sa.Column("sealed", sa.Boolean, nullable=False, server_default=sa.false()))
    # A sealed title or reason is longer than the text it seals. PostgreSQL's varchar -> text needs no
    # rewrite either; SQLite does not hold a column to its declared length.
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("articles", "title", type_=sa.Text)
        op.alter_column("proposal_decisions", "reason", type_=sa.Text)


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("sealed")
    op.drop_table("article_keys")
