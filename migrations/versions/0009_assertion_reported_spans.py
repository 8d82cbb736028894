"""The assertion index by publication time: each row's span of reported times.

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
    # The index's rows predate the columns: the projector's new version starts it afresh.


def downgrade() -> None:
    with op.batch_alter_table("assertion_states") as batch:
        batch.drop_column("reported_to")
        batch.drop_column("reported_from")
