"""Full-text search of the assertion index: each row's words (FTS5 on SQLite, a GIN index on PostgreSQL).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assertion_states") as batch:
        batch.add_column(sa.Column("search_text", sa.Text, nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE assertion_states_fts USING fts5("
            "search_text, content='', tokenize='unicode61 remove_diacritics 2')"
        )
    else:
        op.execute(
            "CREATE INDEX ix_assertion_states_search ON assertion_states "
            "USING gin (to_tsvector('simple'::regconfig, coalesce(search_text, '')))"
        )
    # The index's rows predate the column: the projector's new version starts it afresh.


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE assertion_states_fts")
    else:
        op.execute("DROP INDEX ix_assertion_states_search")
    with op.batch_alter_table("assertion_states") as batch:
        batch.drop_column("search_text")
