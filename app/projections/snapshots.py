"""Snapshots of the timeline fold, stored in the database as a cache."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.db import utcnow
from app.projections.timeline import PROJECTION_VERSION
from app.store.tables import snapshots


class SnapshotStore:
    def __init__(self, engine: Engine, projection_version: int = PROJECTION_VERSION):
        self.engine = engine
        self.projection_version = projection_version

    def nearest(self, incident_id: str, at_most_version: int) -> tuple[int, dict[str, Any]] | None:
        """The snapshot with the highest version at or below `at_most_version`, made by this projection."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(snapshots.c.version, snapshots.c.state)
                .where(
                    snapshots.c.incident_id == incident_id,
                    snapshots.c.projection_version == self.projection_version,
                    snapshots.c.version <= at_most_version,
                )
                .order_by(snapshots.c.version.desc())
                .limit(1)
            ).first()
        return (row.version, row.state) if row else None

    def save(self, incident_id: str, version: int, state: dict[str, Any]) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.insert(snapshots).values(
                        incident_id=incident_id,
                        projection_version=self.projection_version,
                        version=version,
                        state=state,
                        created_at=utcnow(),
                    )
                )
        except sa.exc.IntegrityError:
            pass  # another reader saved the same snapshot first: it is identical

    def forget(self, incident_ids: Collection[str]) -> int:
        """Delete every snapshot of these incidents (an erasure: they hold what was folded)."""
        with self.engine.begin() as conn:
            return conn.execute(sa.delete(snapshots).where(snapshots.c.incident_id.in_(list(incident_ids)))).rowcount

    def discard_stale(self) -> int:
        """Delete snapshots made by another projection version; they no longer describe the fold."""
        with self.engine.begin() as conn:
            result = conn.execute(sa.delete(snapshots).where(snapshots.c.projection_version != self.projection_version))
        return result.rowcount
