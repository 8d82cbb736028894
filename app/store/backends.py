"""The store's one seam between SQLite and PostgreSQL, chosen once per engine.

Two things differ: the append path (each backend's driver, lock and bulk insert: app.store.appenders)
and looking up many event ids at once. Everything else in the store is the same SQLAlchemy Core.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine

from app.store.appenders import Appended, Idempotency, PreparedEvent, append_postgres, append_sqlite
from app.store.tables import events

ResultJson = Callable[[Appended], dict[str, Any]]


class StoreBackend(Protocol):
    def append(
        self,
        driver_connection: Any,
        incident_id: str,
        prepared: Sequence[PreparedEvent],
        now: datetime,
        expected_version: int | None,
        idempotency: Idempotency | None,
        result_json: ResultJson,
    ) -> Appended: ...

    def existing_event_ids(self, conn: Connection, event_ids: Sequence[str]) -> set[str]: ...


class SqliteBackend:
    append = staticmethod(append_sqlite)
    # SQLite allows a limited number of bound parameters in one statement.
    CHUNK = 500

    def existing_event_ids(self, conn: Connection, event_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(event_ids), self.CHUNK):
            chunk = list(event_ids[start : start + self.CHUNK])
            found.update(conn.execute(sa.select(events.c.event_id).where(events.c.event_id.in_(chunk))).scalars())
        return found


class PostgresBackend:
    append = staticmethod(append_postgres)

    def existing_event_ids(self, conn: Connection, event_ids: Sequence[str]) -> set[str]:
        # One round trip with an array, however many ids.
        wanted = sa.bindparam("ids", type_=postgresql.ARRAY(sa.String))
        query = sa.select(events.c.event_id).where(events.c.event_id == sa.any_(wanted))
        return set(conn.execute(query, {"ids": list(event_ids)}).scalars())


def store_backend(engine: Engine) -> StoreBackend:
    return PostgresBackend() if engine.dialect.name == "postgresql" else SqliteBackend()
