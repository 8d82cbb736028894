from app.store.store import (
    AppendResult,
    DuplicateEventId,
    EventStore,
    IdempotencyKeyReused,
    NewEvent,
    StoredEvent,
    StoreError,
    VersionConflict,
)

__all__ = [
    "AppendResult",
    "DuplicateEventId",
    "EventStore",
    "IdempotencyKeyReused",
    "NewEvent",
    "StoredEvent",
    "StoreError",
    "VersionConflict",
]
