"""PostgreSQL: the words of the assertion index's current rows in a table of their own
(assertion_current_words, with its own GIN index), so a text query at the index's own position
looks up one row per matching assertion rather than every row it ever had.
SQLite's FTS5 table is left as it is.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(
        "CREATE TABLE assertion_current_words ("
        "state_id bigint NOT NULL, generation integer NOT NULL, search_text text, "
        "CONSTRAINT pk_assertion_current_words PRIMARY KEY (state_id))"
    )
    op.execute(
        "CREATE INDEX ix_assertion_current_words_search ON assertion_current_words "
        "USING gin (to_tsvector('simple'::regconfig, coalesce(search_text, '')))"
    )
    op.execute("CREATE INDEX ix_assertion_current_words_generation ON assertion_current_words (generation)")
    # The rows current now (those the projector would have put there), so no rebuild is needed.
    op.execute(
        "INSERT INTO assertion_current_words (state_id, generation, search_text) "
        "SELECT s.id, s.generation, e.search_text FROM assertion_states s "
        "JOIN assertion_entries e ON e.state_id = s.id "
        "WHERE s.to_position IS NULL AND s.reported_to IS NULL"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute("DROP TABLE assertion_current_words")
