"""The assertion index narrowed: entries and their words in a table of their own
(assertion_entries), the order's keys as columns, the names speakers are given
(assertion_speakers), and indexes whose entries say when each row held,
so the analysts' questions count and sort without reading the entries.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

ORDER = ["earliest_key", "latest_key", "incident_id", "recorded_version"]
HELD = ["generation", "from_position", "to_position", "reported_from", "reported_to", "status"]
OLD_INDEXES = {
    "ix_assertion_states_to_position_earliest_latest_incident_id_recorded_version": [
        "to_position",
        "earliest",
        "latest",
        "incident_id",
        "recorded_version",
    ],
    "ix_assertion_states_from_position": ["from_position"],
    "ix_assertion_states_incident_id_assertion_id_to_position": ["incident_id", "assertion_id", "to_position"],
    "ix_assertion_states_speaker_key": ["speaker_key"],
}


def _empty_the_index(sqlite: bool) -> None:
    # The index is a projection of the log: the projector's new version projects it afresh.
    if sqlite:
        op.execute("INSERT INTO assertion_states_fts (assertion_states_fts) VALUES ('delete-all')")
    op.execute("DELETE FROM assertion_state_outlets")
    op.execute("DELETE FROM assertion_states")
    op.execute("DELETE FROM assertion_index_checkpoint")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _empty_the_index(sqlite)
    ordered = sa.String(10).with_variant(sa.String(10, collation="C"), "postgresql")
    if not sqlite:
        op.execute("DROP INDEX ix_assertion_states_search")
    with op.batch_alter_table("assertion_states") as batch:
        for name in OLD_INDEXES:
            batch.drop_index(op.f(name))
        batch.drop_column("entry")
        batch.drop_column("search_text")
        batch.add_column(sa.Column("earliest_key", ordered, nullable=False))
        batch.add_column(sa.Column("latest_key", ordered, nullable=False))
    # The generation among the key's columns: a row is closed by its key, and with the generation
    # only second in another index the planner (SQLite without statistics) took that one.
    op.create_index(
        op.f("ix_assertion_states_incident_id_assertion_id_generation_to_position"),
        "assertion_states",
        ["incident_id", "assertion_id", "generation", "to_position"],
    )
    op.create_index(
        "ix_assertion_states_occurred",
        "assertion_states",
        [*ORDER, *HELD],
    )
    op.create_index("ix_assertion_states_speaker", "assertion_states", ["speaker_key", *HELD, *ORDER])
    op.create_index("ix_assertion_states_disputed", "assertion_states", ["disputed", *HELD, *ORDER])
    op.create_table(
        "assertion_speakers",
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("attributed_to_folded", sa.String(500), nullable=False),
        sa.Column("speaker_key", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint(
            "generation", "attributed_to_folded", "speaker_key", name=op.f("pk_assertion_speakers")
        ),
    )
    op.create_table(
        "assertion_entries",
        sa.Column("state_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False),
        sa.Column("entry", sa.JSON, nullable=False),
        sa.Column("search_text", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("state_id", name=op.f("pk_assertion_entries")),
    )
    if not sqlite:
        op.execute(
            "CREATE INDEX ix_assertion_entries_search ON assertion_entries "
            "USING gin (to_tsvector('simple'::regconfig, coalesce(search_text, '')))"
        )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _empty_the_index(sqlite)
    op.drop_table("assertion_entries")
    op.drop_table("assertion_speakers")
    for name in ("ix_assertion_states_disputed", "ix_assertion_states_speaker", "ix_assertion_states_occurred"):
        op.drop_index(name, "assertion_states")
    op.drop_index(op.f("ix_assertion_states_incident_id_assertion_id_generation_to_position"), "assertion_states")
    with op.batch_alter_table("assertion_states") as batch:
        batch.drop_column("latest_key")
        batch.drop_column("earliest_key")
        batch.add_column(sa.Column("entry", sa.JSON, nullable=False))
        batch.add_column(sa.Column("search_text", sa.Text, nullable=True))
        for name, columns in OLD_INDEXES.items():
            batch.create_index(op.f(name), columns)
    if not sqlite:
        op.execute(
            "CREATE INDEX ix_assertion_states_search ON assertion_states "
            "USING gin (to_tsvector('simple'::regconfig, coalesce(search_text, '')))"
        )
