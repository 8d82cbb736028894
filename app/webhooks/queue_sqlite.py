"""The delivery queue on SQLite: one writer at a time, so whole transactions are serialized."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.engine import Connection

from app.db import writer
from app.webhooks.queue import SqlQueue, deliveries


class SqliteQueue(SqlQueue):
    @contextmanager
    def _write(self) -> Iterator[Connection]:
        # BEGIN IMMEDIATE takes SQLite's single write lock before the transaction's first read
        # and holds it to COMMIT. So each fan-out, lease and record reads, checks and writes as
        # if alone: a second worker (thread or process) waits at BEGIN (up to the engine's 60 s
        # busy timeout) and then sees the first one's commit. Its lease re-checks `due` and finds
        # the rows already leased; its fan-out re-reads the checkpoint and finds it moved. That
        # is what makes leases exclusive here, so the row-lock hooks below change nothing.
        with writer(self.engine.connect()) as conn, conn.begin():
            yield conn

    def _lock_for_fan_out(self, query: sa.Select) -> sa.Select:
        return query  # serialized by BEGIN IMMEDIATE (see _write)

    def _lock_for_lease(self, query: sa.Select) -> sa.Select:
        return query  # serialized by BEGIN IMMEDIATE (see _write)

    def _lock_for_record(self, query: sa.Select) -> sa.Select:
        return query  # serialized by BEGIN IMMEDIATE (see _write)

    def _insert_new(self) -> sa.Insert:
        return insert(deliveries).on_conflict_do_nothing(index_elements=["subscription_id", "position"])
