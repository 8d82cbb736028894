"""The words of the assertion index's current rows apart (assertion_current_words: an FTS5 table
on SQLite, a table with its own GIN index on PostgreSQL), so a text query at the index's own
position looks up one row per matching assertion rather than every row it ever had; and on
PostgreSQL the ids of the rows in the indexes the analysts' questions are answered from, so that
they are answered from those indexes alone (SQLite's entries hold the rowid already).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from alembic import op

ORDER = ["earliest_key", "latest_key", "incident_id", "recorded_version"]
HELD = ["generation", "from_position", "to_position", "reported_from", "reported_to", "status"]
COVERING = {
    "ix_assertion_states_occurred": [*ORDER, *HELD],
    "ix_assertion_states_speaker": ["speaker_key", *HELD, *ORDER],
    "ix_assertion_states_disputed": ["disputed", *HELD, *ORDER],
}

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


# The rows current now (those the projector would have put there), so no rebuild is needed.
CURRENT = (
    "SELECT s.id, {generation}e.search_text FROM assertion_states s "
    "JOIN assertion_entries e ON e.state_id = s.id "
    "WHERE s.to_position IS NULL AND s.reported_to IS NULL"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE assertion_current_words USING fts5("
            "search_text, content='', tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute("INSERT INTO assertion_current_words (rowid, search_text) " + CURRENT.format(generation=""))
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
    op.execute(
        "INSERT INTO assertion_current_words (state_id, generation, search_text) "
        + CURRENT.format(generation="s.generation, ")
    )
    _covering(include=["id"])


def _covering(include: list[str]) -> None:
    for name, columns in COVERING.items():
        op.drop_index(name, "assertion_states")
        op.create_index(name, "assertion_states", columns, postgresql_include=include)


def downgrade() -> None:
    op.execute("DROP TABLE assertion_current_words")
    if op.get_bind().dialect.name != "sqlite":
        _covering(include=[])
