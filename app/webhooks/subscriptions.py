"""Webhook subscriptions: create, list, get, update, delete, rotate the secret, replay, the log.

Every method takes the owner (an API key id) and only ever touches that owner's rows: another
key's subscription is reported as not found, so ids do not leak across keys.

Secrets. The dispatcher needs each secret itself to compute the HMAC, so a one-way hash (as for
API keys) cannot work. Secrets are stored as issued in `webhook_secrets.secret`, a column that
no API response reads: the secret is returned once, by `create` / `rotate_secret`, and never
again. They are not encrypted at rest: the project has no vetted AEAD library among its
dependencies, and a hand-rolled cipher would add risk, not protection; whoever can read the
database can read the events anyway. Encrypting the column with a key from the environment is a
contained change to `_store_secret` / `signing_secrets` should that be wanted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.db import utcnow, writer
from app.store.tables import events, log_head
from app.webhooks.signing import new_secret
from app.webhooks.tables import (
    webhook_attempts,
    webhook_deliveries,
    webhook_secrets,
    webhook_subscriptions,
)

subs = webhook_subscriptions


class SubscriptionNotFound(LookupError):
    def __init__(self, subscription_id: str):
        self.subscription_id = subscription_id
        super().__init__(f"there is no subscription {subscription_id!r}")


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    url: str
    description: str | None
    incidents: list[str] | None
    types: list[str] | None
    status: str  # active, paused, disabled
    disabled_reason: str | None
    disabled_at: datetime | None
    checkpoint: int
    created_at: datetime
    updated_at: datetime
    backlog: int  # matching events not delivered yet: queued, or after the checkpoint
    failing_since: datetime | None  # first failure of the oldest delivery still failing
    previous_secret_expires_at: datetime | None  # end of a rotation's grace period, if one runs


@dataclass(frozen=True, slots=True)
class Attempt:
    id: int
    event_id: str
    position: int
    incident_id: str
    attempt: int
    status_code: int | None
    error: str | None
    response_body: str | None
    latency_ms: float
    attempted_at: datetime
    next_attempt_at: datetime | None


def matches(incidents: Sequence[str] | None, types: Sequence[str] | None):
    """The SQL condition on `events` for a subscription's filter (None matches everything)."""
    condition = sa.true()
    if incidents is not None:
        condition = sa.and_(condition, events.c.incident_id.in_(list(incidents)))
    if types is not None:
        condition = sa.and_(condition, events.c.type.in_(list(types)))
    return condition


def lock_subscription(conn: Connection, subscription_id: str, owner: str | None = None):
    """Read (and on PostgreSQL row-lock until commit) one subscription; None if absent or not the owner's.

    Lock order everywhere in webhooks: the subscription row first, then its deliveries. The
    dispatcher's fan-out and result recording take them in the same order (subscriptions sorted
    by id), so no two transactions can wait on each other in a cycle.
    """
    query = sa.select(subs).where(subs.c.id == subscription_id)
    if owner is not None:
        query = query.where(subs.c.owner_key_id == owner)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).first()


def signing_secrets(conn: Connection, subscription_ids: Iterable[str], now: datetime) -> dict[str, list[str]]:
    """The secrets that sign a delivery now, newest first, per subscription."""
    ids = list(set(subscription_ids))
    found: dict[str, list[str]] = {sid: [] for sid in ids}
    if not ids:
        return found
    rows = conn.execute(
        sa.select(webhook_secrets.c.subscription_id, webhook_secrets.c.secret)
        .where(
            webhook_secrets.c.subscription_id.in_(ids),
            sa.or_(webhook_secrets.c.expires_at.is_(None), webhook_secrets.c.expires_at > now),
        )
        .order_by(webhook_secrets.c.subscription_id, webhook_secrets.c.id.desc())
    )
    for subscription_id, secret in rows:
        found[subscription_id].append(secret)
    return found


def reactivate_deliveries(conn: Connection, subscription_id: str, now: datetime) -> None:
    """Give every queued delivery a fresh start: due now, the retry schedule and failure span reset."""
    conn.execute(
        sa.update(webhook_deliveries)
        .where(webhook_deliveries.c.subscription_id == subscription_id)
        .values(failures=0, first_failed_at=None, next_attempt_at=now)
    )


class Subscriptions:
    """The subscription repository; each method is one short transaction."""

    def __init__(self, engine: Engine, *, rotation_grace_seconds: float = 24 * 3600):
        self.engine = engine
        self.rotation_grace = timedelta(seconds=rotation_grace_seconds)

    def _writer(self):
        # On SQLite a write transaction takes the database lock at BEGIN (BEGIN IMMEDIATE), so a
        # read-then-write here cannot interleave with the dispatcher's or an append's writes.
        return writer(self.engine.connect())

    # -- create, read --------------------------------------------------------------------

    def create(
        self,
        owner: str,
        url: str,
        *,
        incidents: Sequence[str] | None = None,
        types: Sequence[str] | None = None,
        description: str | None = None,
        from_position: int | None = None,
    ) -> tuple[Subscription, str]:
        """Store a subscription and return it with its secret (the only time the secret is seen).

        It starts at the current end of the log (only events appended from now on) unless
        `from_position` says where: then the first event it gets is the one at that position.
        """
        if from_position is not None and from_position < 1:
            raise ValueError("from_position starts at 1")
        now = utcnow()
        subscription_id = str(uuid.uuid4())
        secret = new_secret()
        with self._writer() as conn, conn.begin():
            if from_position is None:
                # Read in the transaction that stores the subscription. Every event at or below
                # this head is committed and visible (appends are serialized and publish the
                # head in their own commit), and every later event gets a higher position, so
                # "only new events" is exactly "position > head".
                checkpoint = conn.execute(sa.select(log_head.c.position).where(log_head.c.id == 1)).scalar_one()
            else:
                checkpoint = from_position - 1
            conn.execute(
                sa.insert(subs).values(
                    id=subscription_id,
                    owner_key_id=owner,
                    url=url,
                    description=description,
                    incidents=_listed(incidents),
                    types=_listed(types),
                    status="active",
                    checkpoint=checkpoint,
                    created_at=now,
                    updated_at=now,
                )
            )
            self._store_secret(conn, subscription_id, secret, now)
            return self._view(conn, subscription_id, now), secret

    def list(self, owner: str) -> list[Subscription]:
        now = utcnow()
        with self.engine.connect() as conn:
            ids = conn.execute(
                sa.select(subs.c.id).where(subs.c.owner_key_id == owner).order_by(subs.c.created_at, subs.c.id)
            ).scalars().all()
            return self._views(conn, ids, now)

    def get(self, owner: str, subscription_id: str) -> Subscription:
        with self.engine.connect() as conn:
            self._owned(conn, owner, subscription_id)
            return self._view(conn, subscription_id, utcnow())

    def status(self, subscription_id: str) -> tuple[str, str | None]:
        """(status, disabled_reason) of any subscription, whoever owns it (for the dispatcher and tests)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(subs.c.status, subs.c.disabled_reason).where(subs.c.id == subscription_id)
            ).first()
        if row is None:
            raise SubscriptionNotFound(subscription_id)
        return row.status, row.disabled_reason

    # -- change --------------------------------------------------------------------------

    def update(self, owner: str, subscription_id: str, changes: Mapping[str, Any]) -> Subscription:
        """Change any of url, incidents, types, description, paused.

        `paused: true` stops deliveries (events are still kept for it: nothing is skipped);
        `paused: false` resumes a paused subscription or re-enables a disabled one, and gives
        queued deliveries a fresh retry schedule. A changed filter applies to events not yet
        queued; deliveries already queued are still sent.
        """
        now = utcnow()
        with self._writer() as conn, conn.begin():
            row = lock_subscription(conn, subscription_id, owner)
            if row is None:
                raise SubscriptionNotFound(subscription_id)
            values: dict[str, Any] = {"updated_at": now}
            for name in ("url", "description"):
                if name in changes:
                    values[name] = changes[name]
            for name in ("incidents", "types"):
                if name in changes:
                    values[name] = _listed(changes[name])
            if "paused" in changes:
                if changes["paused"]:
                    if row.status != "paused":
                        values.update(status="paused")
                elif row.status != "active":
                    values.update(status="active", disabled_reason=None, disabled_at=None)
                    reactivate_deliveries(conn, subscription_id, now)
            conn.execute(sa.update(subs).where(subs.c.id == subscription_id).values(**values))
            return self._view(conn, subscription_id, now)

    def delete(self, owner: str, subscription_id: str) -> None:
        """Delete it with its secrets, queued deliveries and log (ON DELETE CASCADE)."""
        with self._writer() as conn, conn.begin():
            if lock_subscription(conn, subscription_id, owner) is None:
                raise SubscriptionNotFound(subscription_id)
            conn.execute(sa.delete(subs).where(subs.c.id == subscription_id))

    def rotate_secret(
        self, owner: str, subscription_id: str, *, grace_seconds: float | None = None
    ) -> tuple[str, datetime]:
        """A new secret (returned once); the current ones keep signing until the grace period ends.

        Returns (new secret, when the previous secrets stop signing).
        """
        now = utcnow()
        grace = self.rotation_grace if grace_seconds is None else timedelta(seconds=grace_seconds)
        until = now + grace
        secret = new_secret()
        with self._writer() as conn, conn.begin():
            if lock_subscription(conn, subscription_id, owner) is None:
                raise SubscriptionNotFound(subscription_id)
            s = webhook_secrets
            conn.execute(
                sa.delete(s).where(s.c.subscription_id == subscription_id, s.c.expires_at.is_not(None), s.c.expires_at <= now)
            )
            # The current secret gets the grace period; one still in an earlier grace period
            # keeps its expiry unless that is later than the new one (a second rotation never
            # extends the life of an older secret).
            conn.execute(
                sa.update(s)
                .where(s.c.subscription_id == subscription_id, sa.or_(s.c.expires_at.is_(None), s.c.expires_at > until))
                .values(expires_at=until)
            )
            self._store_secret(conn, subscription_id, secret, now)
            conn.execute(sa.update(subs).where(subs.c.id == subscription_id).values(updated_at=now))
        return secret, until

    def replay(self, owner: str, subscription_id: str, from_position: int) -> int:
        """Send every matching event again from `from_position` on; returns how many will be re-queued.

        The checkpoint moves back to `from_position - 1`, and the dispatcher's fan-out queues the
        events again from there, a window at a time (so a replay of a long history does not
        flood the queue). An event still queued is not queued twice. The receiver sees the same
        `webhook-id` (the event id) as the first time, so it can tell a replay from a new event.
        """
        if from_position < 1:
            raise ValueError("from_position starts at 1")
        d = webhook_deliveries
        with self._writer() as conn, conn.begin():
            # The subscription row lock (PostgreSQL; BEGIN IMMEDIATE on SQLite) serializes this
            # with the fan-out, which reads and moves the checkpoint under the same lock.
            row = lock_subscription(conn, subscription_id, owner)
            if row is None:
                raise SubscriptionNotFound(subscription_id)
            if from_position > row.checkpoint:
                return 0  # not fanned out yet: those events are on their way anyway
            count = conn.execute(
                sa.select(sa.func.count())
                .select_from(events)
                .where(
                    events.c.position >= from_position,
                    events.c.position <= row.checkpoint,
                    matches(row.incidents, row.types),
                    ~sa.exists().where(d.c.subscription_id == subscription_id, d.c.position == events.c.position),
                )
            ).scalar_one()
            conn.execute(
                sa.update(subs).where(subs.c.id == subscription_id).values(checkpoint=from_position - 1, updated_at=utcnow())
            )
            return count

    # -- the delivery log ----------------------------------------------------------------

    def attempts(
        self,
        owner: str,
        subscription_id: str,
        *,
        limit: int = 100,
        before: int | None = None,
        event_id: str | None = None,
    ) -> list[Attempt]:
        """Delivery attempts, newest first; page with `before` (an attempt id)."""
        a = webhook_attempts
        query = sa.select(a).where(a.c.subscription_id == subscription_id).order_by(a.c.id.desc()).limit(limit)
        if before is not None:
            query = query.where(a.c.id < before)
        if event_id is not None:
            query = query.where(a.c.event_id == event_id)
        with self.engine.connect() as conn:
            self._owned(conn, owner, subscription_id)
            return [
                Attempt(
                    id=row.id,
                    event_id=row.event_id,
                    position=row.position,
                    incident_id=row.incident_id,
                    attempt=row.attempt,
                    status_code=row.status_code,
                    error=row.error,
                    response_body=row.response_body,
                    latency_ms=row.latency_ms,
                    attempted_at=row.attempted_at,
                    next_attempt_at=row.next_attempt_at,
                )
                for row in conn.execute(query)
            ]

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    def _store_secret(conn: Connection, subscription_id: str, secret: str, now: datetime) -> None:
        conn.execute(
            sa.insert(webhook_secrets).values(subscription_id=subscription_id, secret=secret, created_at=now)
        )

    @staticmethod
    def _owned(conn: Connection, owner: str, subscription_id: str) -> None:
        found = conn.execute(
            sa.select(subs.c.id).where(subs.c.id == subscription_id, subs.c.owner_key_id == owner)
        ).first()
        if found is None:
            raise SubscriptionNotFound(subscription_id)

    def _view(self, conn: Connection, subscription_id: str, now: datetime) -> Subscription:
        return self._views(conn, [subscription_id], now)[0]

    @staticmethod
    def _views(conn: Connection, ids: Sequence[str], now: datetime) -> list[Subscription]:
        if not ids:
            return []
        d, s = webhook_deliveries, webhook_secrets
        backlog = dict(
            (row[0], (row[1], row[2]))
            for row in conn.execute(
                sa.select(d.c.subscription_id, sa.func.count(), sa.func.min(d.c.first_failed_at))
                .where(d.c.subscription_id.in_(ids))
                .group_by(d.c.subscription_id)
            )
        )
        grace = dict(
            conn.execute(
                sa.select(s.c.subscription_id, sa.func.max(s.c.expires_at))
                .where(s.c.subscription_id.in_(ids), s.c.expires_at > now)
                .group_by(s.c.subscription_id)
            ).all()
        )
        rows = {row.id: row for row in conn.execute(sa.select(subs).where(subs.c.id.in_(ids)))}
        views = []
        for subscription_id in ids:
            row = rows[subscription_id]
            count, failing_since = backlog.get(subscription_id, (0, None))
            # Events after the checkpoint are not queued yet (the dispatcher has not got to them,
            # or the subscription is paused or disabled) but are just as undelivered.
            count += conn.execute(
                sa.select(sa.func.count())
                .select_from(events)
                .where(
                    events.c.position > row.checkpoint,
                    matches(row.incidents, row.types),
                    ~sa.exists().where(d.c.subscription_id == subscription_id, d.c.position == events.c.position),
                )
            ).scalar_one()
            expires = grace.get(subscription_id)
            views.append(
                Subscription(
                    id=row.id,
                    url=row.url,
                    description=row.description,
                    incidents=row.incidents,
                    types=row.types,
                    status=row.status,
                    disabled_reason=row.disabled_reason,
                    disabled_at=row.disabled_at,
                    checkpoint=row.checkpoint,
                    created_at=row.created_at,
                    updated_at=row.updated_at,
                    backlog=count,
                    failing_since=_aware(failing_since),
                    previous_secret_expires_at=_aware(expires),
                )
            )
        return views


def _listed(values: Sequence[str] | None) -> list[str] | None:
    return None if values is None else list(dict.fromkeys(values))


def _aware(value):
    # Aggregates (min/max) bypass the column type on SQLite: bring them back to aware UTC.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        from datetime import timezone

        value = value.replace(tzinfo=timezone.utc)
    return value
