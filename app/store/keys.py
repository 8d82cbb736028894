"""API keys: only a SHA-256 of each key is stored; the key itself is shown once."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from app.db import utcnow
from app.store.tables import api_keys

SCOPES = ("read", "write", "webhooks", "admin")


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    prefix: str
    scopes: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


def parse_scopes(text: str) -> frozenset[str]:
    scopes = frozenset(part.strip() for part in text.split(",") if part.strip())
    unknown = scopes - set(SCOPES)
    if not scopes or unknown:
        raise ValueError(f"scopes must be a comma-separated subset of {', '.join(SCOPES)}; got {text!r}")
    return scopes


def _digest(key: str) -> str:
    # Keys carry 256 random bits, so a plain SHA-256 is enough: nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


class KeyRing:
    def __init__(self, engine: Engine):
        self.engine = engine

    def create(self, name: str, scopes: frozenset[str]) -> tuple[ApiKey, str]:
        """Store a new key and return it with its secret text (the only time it is seen)."""
        prefix = secrets.token_hex(4)
        key = f"tl_{prefix}_{secrets.token_urlsafe(32)}"
        record = ApiKey(str(uuid.uuid4()), name, prefix, frozenset(scopes), utcnow(), None)
        with self.engine.begin() as conn:
            conn.execute(
                sa.insert(api_keys).values(
                    id=record.id,
                    name=name,
                    prefix=prefix,
                    key_hash=_digest(key),
                    scopes=",".join(sorted(scopes)),
                    created_at=record.created_at,
                )
            )
        return record, key

    def authenticate(self, key: str) -> ApiKey | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(api_keys).where(api_keys.c.key_hash == _digest(key))).first()
        if row is None or row.revoked_at is not None:
            return None
        return _to_key(row)

    def list(self) -> list[ApiKey]:
        with self.engine.connect() as conn:
            return [_to_key(row) for row in conn.execute(sa.select(api_keys).order_by(api_keys.c.created_at))]

    def lock_active(self, conn: Connection, key_id_or_prefix: str) -> tuple[ApiKey, ...]:
        """The active keys with this id or prefix, locked (PostgreSQL) until the caller commits.

        Lock order for revocations: keys first (these, then any new owner's), then what they own.
        """
        query = (
            sa.select(api_keys)
            .where(
                sa.or_(api_keys.c.id == key_id_or_prefix, api_keys.c.prefix == key_id_or_prefix),
                api_keys.c.revoked_at.is_(None),
            )
            .order_by(api_keys.c.id)
        )
        # FOR UPDATE on PostgreSQL; SQLite has no row locks (SQLAlchemy leaves the clause out) and
        # serializes writers with its one database lock instead.
        query = query.with_for_update()
        return tuple(_to_key(row) for row in conn.execute(query))

    @staticmethod
    def mark_revoked(conn: Connection, keys: tuple[ApiKey, ...], now: datetime) -> None:
        conn.execute(sa.update(api_keys).where(api_keys.c.id.in_([key.id for key in keys])).values(revoked_at=now))


def find_key(
    conn: Connection, key_id_or_prefix: str, *, by_prefix: bool = True, share_lock: bool = False
) -> ApiKey | None:
    """One key, revoked or not, by id (or prefix); on PostgreSQL share-locked until commit if asked.

    The share lock holds off a concurrent revocation of the key until the caller commits (and
    waits for one under way), so what the caller decides on the key's state stays true.
    """
    match = api_keys.c.id == key_id_or_prefix
    if by_prefix:
        match = sa.or_(match, api_keys.c.prefix == key_id_or_prefix)
    # An id match wins over a prefix that happens to equal it.
    query = sa.select(api_keys).where(match).order_by((api_keys.c.id != key_id_or_prefix), api_keys.c.id).limit(1)
    if share_lock:
        query = query.with_for_update(read=True)  # FOR SHARE on PostgreSQL; nothing on SQLite (see above)
    row = conn.execute(query).first()
    return None if row is None else _to_key(row)


def _to_key(row) -> ApiKey:
    return ApiKey(row.id, row.name, row.prefix, parse_scopes(row.scopes), row.created_at, row.revoked_at)
