"""The keys that seal private persons' names (app.proofs.sealing): one per person, made the first
time an event names them, destroyed by an erasure. A person is found by a digest of the name as
written (case and spacing aside), so the table never holds the name itself."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.db import utcnow
from app.proofs.sealing import new_key
from app.store.tables import person_keys
from events.names import name_key


def name_digest(name: str) -> str:
    """A person's digest, from the name as names are matched everywhere (events.names)."""
    return hashlib.sha256((name_key(name) or " ".join(name.casefold().split())).encode()).hexdigest()


class PersonKeys:
    def __init__(self, engine: Engine):
        self.engine = engine

    def key_for(self, name: str) -> tuple[str, bytes]:
        """The person's key id and key, made now if this is the first event naming them."""
        digest = name_digest(name)
        found = self._by_digest(digest)
        if found is not None:
            return found
        key_id, key = uuid.uuid4().hex, new_key()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    person_keys.insert().values(key_id=key_id, name_digest=digest, key=key, created_at=utcnow())
                )
        except sa.exc.IntegrityError:
            # Two appends naming the same new person at once: the first key made is everyone's.
            found = self._by_digest(digest)
            if found is None:
                raise
            return found
        return key_id, key

    def key_id_of(self, name: str) -> str | None:
        found = self._by_digest(name_digest(name))
        return None if found is None else found[0]

    def lookup_many(self, key_ids: Collection[str]) -> dict[str, bytes]:
        """The keys that still exist among these ids (an erased person's is gone)."""
        if not key_ids:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(person_keys.c.key_id, person_keys.c.key).where(person_keys.c.key_id.in_(list(key_ids)))
            )
            return {key_id: bytes(key) for key_id, key in rows}

    def destroy(self, conn: sa.Connection, key_id: str) -> bool:
        """Delete the person's key, in the caller's transaction; True if there was one."""
        return conn.execute(person_keys.delete().where(person_keys.c.key_id == key_id)).rowcount > 0

    def _by_digest(self, digest: str) -> tuple[str, bytes] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(person_keys.c.key_id, person_keys.c.key).where(person_keys.c.name_digest == digest)
            ).first()
        return None if row is None else (row.key_id, bytes(row.key))
