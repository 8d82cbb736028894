"""Webhook subscriptions: create, list, get, update, delete, rotate the secret, replay, the log.

Every method takes the owner (an API key id) and only ever touches that owner's rows: another
key's subscription is reported as not found, so ids do not leak across keys. Only an admin hands
a subscription to another key (`hand_over`); revoking a key pauses what it owns (`pause_owned_by`,
called by KeyRing.revoke in the revoking transaction).

Secrets. The dispatcher needs each secret itself to compute the HMAC, so a one-way hash (as for
API keys) cannot work. Secrets are stored as issued in `webhook_secrets.secret`, a column that
no API response reads: the secret is returned once, by `create` / `rotate_secret`, and never
again. They are not encrypted at rest: the project has no vetted AEAD library among its
dependencies, and a hand-rolled cipher would add risk, not protection; whoever can read the
database can read the events anyway. Encrypting the column with a key from the environment is a
contained change to `_store_secret` / `signing_secrets` should that be wanted.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.db import utcnow, writer
from app.store.keys import ApiKey, find_key
from app.store.tables import api_keys, events, head_position
from app.webhooks.signing import new_secret
from app.webhooks.tables import (
    webhook_attempts,
    webhook_deliveries,
    webhook_secrets,
    webhook_subscriptions,
)

subs = webhook_subscriptions
MAX_REASON = 1000  # the disabled_reason column


class SubscriptionNotFound(LookupError):
    def __init__(self, subscription_id: str):
        self.subscription_id = subscription_id
        super().__init__(f"there is no subscription {subscription_id!r}")


class OwnerRevoked(RuntimeError):
    def __init__(self, subscription_id: str):
        self.subscription_id = subscription_id
        super().__init__(
            f"subscription {subscription_id!r} belongs to a revoked API key, so it stays paused; an admin can "
            f"hand it to another key (POST /v1/subscriptions/{subscription_id}/owner), which can then resume it"
        )


class UnusableOwner(ValueError):
    """The key a subscription is to be handed to cannot own it."""


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    owner_key_id: str
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
    condition: sa.ColumnElement[bool] = sa.true()
    if incidents is not None:
        condition = sa.and_(condition, events.c.incident_id.in_(list(incidents)))
    if types is not None:
        condition = sa.and_(condition, events.c.type.in_(list(types)))
    return condition


def lock_subscription(conn: Connection, subscription_id: str, owner: str | None = None):
    """Read (and on PostgreSQL row-lock until commit) one subscription; None if absent or not the owner's.

    Lock order everywhere in webhooks: the subscription row first, then its deliveries. The
    delivery queue's fan-out and record (app.webhooks.queue) take them in the same order
    (subscriptions sorted by id), so no two transactions can wait on each other in a cycle.
    """
    query = sa.select(subs).where(subs.c.id == subscription_id)
    if owner is not None:
        query = query.where(subs.c.owner_key_id == owner)
    query = query.with_for_update()  # a row lock on PostgreSQL; on SQLite the write lock serializes instead
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


def new_owner(conn: Connection, key_id: str, *, by_prefix: bool = False, refused: Collection[str] = ()) -> ApiKey:
    """The key a subscription is handed to, share-locked until commit (see find_key); refused unless it can own one.

    Lock order: this key before any subscription row, as in KeyRing.revoke. The lock means a
    revocation of this key either commits first (and the key is refused here) or waits for this
    transaction (and then finds the subscription among the key's and pauses it): a subscription
    is never left running under a revoked key.
    """
    key = find_key(conn, key_id, by_prefix=by_prefix, share_lock=True)
    if key is None:
        raise UnusableOwner(f"there is no API key {key_id!r}")
    if key.id in refused:
        raise UnusableOwner(f"the API key {key_id!r} is the one being revoked: hand its subscriptions to another key")
    if key.revoked_at is not None:
        raise UnusableOwner(f"the API key {key_id!r} has been revoked: hand the subscription to an active key")
    if not key.allows("webhooks"):
        raise UnusableOwner(
            f"the API key {key_id!r} lacks the 'webhooks' scope, so it could not see or resume the subscription"
        )
    return key


def pause_owned_by(conn: Connection, revoked: Sequence[ApiKey], now: datetime) -> list[str]:
    """Pause every subscription of keys being revoked, in the revoking transaction; returns their ids.

    The dispatcher fans out and leases only active subscriptions, so from the commit on nothing
    more is queued or sent for them (an attempt already in flight finishes). Their checkpoint
    stays where it is and queued deliveries stay queued, so events keep accumulating: a new
    owner who resumes one gets everything since, in order. The reason says what happened; a
    subscription that was disabled keeps its earlier reason after it.
    """
    owners = {key.id: key for key in revoked}
    # Subscriptions in id order, as the delivery queue locks them: no deadlock cycle with it.
    query = (
        sa.select(subs.c.id, subs.c.owner_key_id, subs.c.status, subs.c.disabled_reason)
        .where(subs.c.owner_key_id.in_(list(owners)))
        .order_by(subs.c.id)
    )
    query = query.with_for_update()  # a row lock on PostgreSQL; on SQLite the write lock serializes instead
    rows = conn.execute(query).all()
    for row in rows:
        key = owners[row.owner_key_id]
        reason = f"the API key that owns it ({key.name}, id {key.id}) was revoked on {_moment(now)}"
        if row.status == "disabled" and row.disabled_reason:
            reason += f"; it had been disabled: {row.disabled_reason}"
        conn.execute(
            sa.update(subs)
            .where(subs.c.id == row.id)
            .values(status="paused", disabled_reason=reason[:MAX_REASON], disabled_at=now, updated_at=now)
        )
    return [row.id for row in rows]


def give_to(conn: Connection, subscription_ids: Sequence[str], heir: ApiKey, now: datetime) -> None:
    """Make `heir` the owner of these (already locked) subscriptions; a paused one stays paused for it to resume."""
    if not subscription_ids:
        return
    rows = conn.execute(
        sa.select(subs.c.id, subs.c.owner_key_id, subs.c.status, subs.c.disabled_reason)
        .where(subs.c.id.in_(list(subscription_ids)))
        .order_by(subs.c.id)
    ).all()
    for row in rows:
        if row.owner_key_id == heir.id:
            continue
        values: dict[str, Any] = {"owner_key_id": heir.id, "updated_at": now}
        if row.status != "active":
            handed = f"handed over to the API key {heir.name} (id {heir.id}) on {_moment(now)}, which can resume it"
            reason = f"{row.disabled_reason}; {handed}" if row.disabled_reason else handed
            values["disabled_reason"] = reason[:MAX_REASON]
        conn.execute(sa.update(subs).where(subs.c.id == row.id).values(**values))


def _owner_revoked(conn: Connection, owner: str) -> bool:
    revoked_at = conn.execute(sa.select(api_keys.c.revoked_at).where(api_keys.c.id == owner)).scalar()
    return revoked_at is not None


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
                checkpoint = conn.execute(sa.select(head_position)).scalar_one()
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
            ids = (
                conn.execute(
                    sa.select(subs.c.id).where(subs.c.owner_key_id == owner).order_by(subs.c.created_at, subs.c.id)
                )
                .scalars()
                .all()
            )
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

    def queued(self) -> int:
        """Deliveries not made yet, across every subscription."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(webhook_deliveries)).scalar_one()

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
                    # Read after the row lock: a revocation of the owner that committed first
                    # is seen here; one that commits later waits for this row and pauses it.
                    if _owner_revoked(conn, row.owner_key_id):
                        raise OwnerRevoked(subscription_id)
                    values.update(status="active", disabled_reason=None, disabled_at=None)
                    reactivate_deliveries(conn, subscription_id, now)
            conn.execute(sa.update(subs).where(subs.c.id == subscription_id).values(**values))
            return self._view(conn, subscription_id, now)

    def hand_over(self, subscription_id: str, key_id: str) -> Subscription:
        """Give a subscription, whoever owns it, to another key (an admin's act); paused, it stays paused.

        The new owner resumes it with `update(..., {"paused": False})` and gets every event held
        since it was paused, in order. Raises UnusableOwner for a key that is unknown, revoked or
        without the 'webhooks' scope.
        """
        now = utcnow()
        with self._writer() as conn, conn.begin():
            heir = new_owner(conn, key_id)  # the key before the subscription: the lock order
            if lock_subscription(conn, subscription_id) is None:
                raise SubscriptionNotFound(subscription_id)
            give_to(conn, [subscription_id], heir, now)
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
                sa.delete(s).where(
                    s.c.subscription_id == subscription_id, s.c.expires_at.is_not(None), s.c.expires_at <= now
                )
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

        The checkpoint moves back to `from_position - 1`, and the delivery queue's fan-out
        queues the events again from there, a window at a time (so a replay of a long history
        does not flood the queue). An event still queued is not queued twice. The receiver sees the same
        `webhook-id` (the event id) as the first time, so it can tell a replay from a new event.
        """
        if from_position < 1:
            raise ValueError("from_position starts at 1")
        d = webhook_deliveries
        with self._writer() as conn, conn.begin():
            # The subscription row lock (PostgreSQL; BEGIN IMMEDIATE on SQLite) serializes this
            # with the fan-out's write, which re-reads the checkpoint under the same lock and
            # drops a plan read before this moved it (see DeliveryQueue.write_fan_out).
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
                sa.update(subs)
                .where(subs.c.id == subscription_id)
                .values(checkpoint=from_position - 1, updated_at=utcnow())
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
    ) -> builtins.list[Attempt]:
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
        conn.execute(sa.insert(webhook_secrets).values(subscription_id=subscription_id, secret=secret, created_at=now))

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
    def _views(conn: Connection, ids: Sequence[str], now: datetime) -> builtins.list[Subscription]:
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
                    owner_key_id=row.owner_key_id,
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


def _moment(value: datetime) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


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
