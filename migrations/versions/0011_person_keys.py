"""The keys that seal private persons' names in events, one per person (app.store.people).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_keys",
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("name_digest", sa.String(64), nullable=False),
        sa.Column("key", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_person_keys")),
        sa.UniqueConstraint("name_digest", name=op.f("uq_person_keys_name_digest")),
    )


def downgrade() -> None:
    op.drop_table("person_keys")
