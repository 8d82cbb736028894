"""The delivery queue on PostgreSQL: workers share it through row locks, skipping each other's rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection

from app.webhooks.queue import SqlQueue, deliveries


class PostgresQueue(SqlQueue):
    @contextmanager
    def _write(self) -> Iterator[Connection]:
        # READ COMMITTED, as every connection here: each statement sees what was committed when
        # it started, and the row locks below are what keeps concurrent workers apart.
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def _lock_for_fan_out(self, query: sa.Select) -> sa.Select:
        # Each subscription is fanned out by one worker at a time: the row lock is held until
        # commit, and a worker that finds it locked skips it (the holder is doing that work).
        # A locked row is read at its latest committed version, so the checkpoint compared
        # with the plan is current.
        return query.with_for_update(skip_locked=True)

    def _lock_for_lease(self, query: sa.Select) -> sa.Select:
        # FOR UPDATE SKIP LOCKED: a row another worker is leasing right now is skipped, not
        # waited for. Once that worker commits its lease is visible, and `due` (re-evaluated on
        # the latest row version once the row is locked) keeps the row out: two workers never
        # hold the same delivery, and neither waits for the other.
        return query.with_for_update(skip_locked=True)

    def _lock_for_record(self, query: sa.Select) -> sa.Select:
        # Waited for, not skipped: an outcome must be written. Subscriptions are locked first,
        # in id order, then their deliveries, the lock order of the subscriptions API and of
        # the fan-out (see subscriptions.lock_subscription), so no two transactions wait on
        # each other in a cycle. The lock also keeps a pause or delete from interleaving with
        # the status read and the disabling below it.
        return query.with_for_update()

    def _insert_new(self) -> sa.Insert:
        return insert(deliveries).on_conflict_do_nothing(index_elements=["subscription_id", "position"])
