"""The assertion index: every assertion's states with the log positions they held for, and its checkpoint.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def Ordered(length: int) -> sa.types.TypeEngine:
    """Text that sorts by code point, as Python does (PostgreSQL's default collation may not)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "assertion_states",
        sa.Column("id", RowId, primary_key=True, autoincrement=True),
        sa.Column("incident_id", Ordered(80), nullable=False),
        sa.Column("assertion_id", sa.String(200), nullable=False),
        sa.Column("from_position", sa.BigInteger, nullable=False),
        sa.Column("to_position", sa.BigInteger, nullable=True),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("earliest", Ordered(10), nullable=True),
        sa.Column("latest", Ordered(10), nullable=True),
        sa.Column("precision", sa.String(20), nullable=True),
        sa.Column("attributed_to_folded", sa.String(500), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("rank", sa.String(20), nullable=False),
        sa.Column("disputed", sa.Boolean, nullable=False),
        sa.Column("disputes", sa.Boolean, nullable=False),
        sa.Column("source_count", sa.Integer, nullable=False),
        sa.Column("recorded_version", sa.Integer, nullable=False),
        sa.Column("first_reported_at", sa.String(40), nullable=True),
        sa.Column("entry", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assertion_states")),
    )
    op.create_index(
        op.f("ix_assertion_states_incident_id_assertion_id_to_position"),
        "assertion_states",
        ["incident_id", "assertion_id", "to_position"],
    )
    op.create_index(
        op.f("ix_assertion_states_to_position_earliest_latest_incident_id_recorded_version"),
        "assertion_states",
        ["to_position", "earliest", "latest", "incident_id", "recorded_version"],
    )
    op.create_index(op.f("ix_assertion_states_from_position"), "assertion_states", ["from_position"])
    op.create_table(
        "assertion_state_outlets",
        sa.Column("state_id", RowId, nullable=False),
        sa.Column("outlet_folded", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("outlet_folded", "state_id", name=op.f("pk_assertion_state_outlets")),
    )
    op.create_table(
        "assertion_index_checkpoint",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("position", sa.BigInteger, nullable=False),
        sa.Column("projection_version", sa.Integer, nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_assertion_index_checkpoint_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assertion_index_checkpoint")),
    )


def downgrade() -> None:
    op.drop_table("assertion_index_checkpoint")
    op.drop_table("assertion_state_outlets")
    op.drop_table("assertion_states")
