"""Revoking an API key, and with it what the key owns: a key that is revoked stops acting at once.

Keys live in the store (app.store.keys) and subscriptions in app.webhooks; revocation spans both
in one transaction, so it lives above them both.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from app.db import utcnow, writer
from app.store.keys import ApiKey, KeyRing
from app.webhooks import subscriptions as webhooks


@dataclass(frozen=True, slots=True)
class Revocation:
    revoked: tuple[ApiKey, ...]
    paused: tuple[str, ...]  # the ids of the subscriptions they owned, now paused
    handed_over_to: ApiKey | None


def revoke_key(engine: Engine, key_id_or_prefix: str, *, hand_over_to: str | None = None) -> Revocation | None:
    """Revoke a key (by id or prefix) and pause its webhook subscriptions, in one transaction.

    A revoked key's subscriptions stop delivering at once; their events keep accumulating (the
    checkpoint stays put), so nothing is skipped if a new owner resumes them. With `hand_over_to`
    (another key's id or prefix) they change owner in the same transaction and stay paused until
    that owner resumes them. None if no active key matches.
    """
    ring = KeyRing(engine)
    now = utcnow()
    with writer(engine.connect()) as conn, conn.begin():
        # Lock order: keys (the revoked ones, then the new owner's), then subscriptions in id
        # order, as Subscriptions.hand_over takes them and the dispatcher takes subscriptions.
        # A resume under way on one of them is waited for, and then paused again.
        revoked = ring.lock_active(conn, key_id_or_prefix)
        if not revoked:
            return None
        heir = None
        if hand_over_to is not None:
            heir = webhooks.new_owner(conn, hand_over_to, by_prefix=True, refused={key.id for key in revoked})
        ring.mark_revoked(conn, revoked, now)
        paused = webhooks.pause_owned_by(conn, revoked, now)
        if heir is not None:
            webhooks.give_to(conn, paused, heir, now)
    return Revocation(revoked, tuple(paused), heir)
