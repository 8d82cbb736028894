"""The assertion index by publication time: each row's span of reported times; the keys the answers
sort on by first report and by recording; the speaker as actors' names match; and generations, so a
rebuild is made beside the live copy (`timeline project --rebuild`) and swapped in.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

EARLIEST = "0001-01-01T00:00:00.000000"


def upgrade() -> None:
    ordered = sa.String(26).with_variant(sa.String(26, collation="C"), "postgresql")
    with op.batch_alter_table("assertion_states") as batch:
        batch.add_column(sa.Column("reported_from", ordered, nullable=False, server_default=EARLIEST))
        batch.add_column(sa.Column("reported_to", ordered, nullable=True))
        batch.add_column(sa.Column("first_reported_key", ordered, nullable=True))
        batch.add_column(sa.Column("recorded_key", ordered, nullable=True))
        batch.add_column(sa.Column("generation", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("speaker_key", sa.String(500), nullable=True))
        batch.create_index(op.f("ix_assertion_states_speaker_key"), ["speaker_key"])
    # One checkpoint row per generation: the live one, and a rebuild's while it catches up.
    with op.batch_alter_table("assertion_index_checkpoint") as batch:
        batch.drop_constraint(op.f("ck_assertion_index_checkpoint_single_row"), type_="check")
        batch.add_column(sa.Column("live", sa.Boolean, nullable=False, server_default=sa.true()))
    # The index's rows predate the columns: the projector's new version starts it afresh.


def downgrade() -> None:
    op.execute("DELETE FROM assertion_index_checkpoint WHERE NOT live")
    with op.batch_alter_table("assertion_index_checkpoint") as batch:
        batch.drop_column("live")
        batch.create_check_constraint(op.f("ck_assertion_index_checkpoint_single_row"), "id = 1")
    with op.batch_alter_table("assertion_states") as batch:
        batch.drop_index(op.f("ix_assertion_states_speaker_key"))
        batch.drop_column("speaker_key")
        batch.drop_column("generation")
        batch.drop_column("recorded_key")
        batch.drop_column("first_reported_key")
        batch.drop_column("reported_to")
        batch.drop_column("reported_from")
