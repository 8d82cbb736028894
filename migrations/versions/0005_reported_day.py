"""Publication times as reports give them: the day, when only the day is known.

`reported_at` keeps the instant from which the event certainly was public (the end of that day);
`reported_day` keeps the day itself, so it is shown as the report gave it (events.published).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Adding a nullable column touches no row, so the append-only triggers are not involved.
    op.add_column("events", sa.Column("reported_day", sa.Date, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("reported_day")
