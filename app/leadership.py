"""Roles exactly one process holds at a time on PostgreSQL: keeping the assertion index, dispatching
webhooks. The holder keeps a session advisory lock on a connection of its own; the others try for it
on every poll, so when the holder dies (its connection closes and PostgreSQL releases the lock) another
takes over within a poll.

On SQLite every process may hold every role: the database's single writer serializes them, and the
projection's checkpoint compare-and-set and the delivery queue's leases keep two holders from doing
one piece of work twice.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

log = logging.getLogger("timeline")


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    doing: str  # for the log: "this process is now ..."


PROJECTOR = Role("timeline", "keeping the assertion index")
DISPATCHER = Role("timeline-webhooks", "dispatching webhooks")


def role_key(role: Role) -> int:
    """The advisory lock's bigint for a role. The projector's is "timeline" in ASCII, as it always was."""
    if role == PROJECTOR:
        return 0x7469_6D65_6C69_6E65
    return int.from_bytes(hashlib.sha256(role.name.encode()).digest()[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF


class Leadership:
    """Whether this process holds `role` now (always on SQLite; the lock holder on PostgreSQL)."""

    def __init__(self, engine: sa.Engine, role: Role = PROJECTOR):
        self.engine = engine
        self.role = role
        self._postgres = engine.dialect.name == "postgresql"
        self._connection: Any = None
        self._lock = threading.Lock()

    @property
    def contested(self) -> bool:
        """Whether holding the role takes asking the database (PostgreSQL); on SQLite it is always held."""
        return self._postgres

    def held(self) -> bool:
        if not self._postgres:
            return True
        with self._lock:
            if self._connection is not None:
                try:
                    self._connection.exec_driver_sql("SELECT 1")
                    return True
                except sa.exc.DBAPIError:
                    self._drop()
            connection = self.engine.connect()
            try:
                got = connection.exec_driver_sql(f"SELECT pg_try_advisory_lock({role_key(self.role)})").scalar()
                connection.commit()
            except BaseException:
                connection.close()
                raise
            if not got:
                connection.close()
                return False
            self._connection = connection
            log.info("this process is now %s", self.role.doing)
            return True

    @property
    def holding(self) -> bool:
        """Whether this process holds the lock now (asks the database nothing, takes nothing)."""
        return not self._postgres or self._connection is not None

    def release(self) -> None:
        with self._lock:
            self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                # Ends the session (not back to the pool, which may be gone): that releases the lock.
                self._connection.invalidate()
                self._connection.close()
            finally:
                self._connection = None
