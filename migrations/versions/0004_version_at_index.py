"""As-of reads: index (incident_id, recorded_at, version) so turning a time into a version is one step.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_events_incident_id_recorded_at", table_name="events")
    op.create_index("ix_events_incident_id_recorded_at_version", "events", ["incident_id", "recorded_at", "version"])


def downgrade() -> None:
    op.drop_index("ix_events_incident_id_recorded_at_version", table_name="events")
    op.create_index("ix_events_incident_id_recorded_at", "events", ["incident_id", "recorded_at"])
