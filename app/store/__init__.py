from app.store.store import (
    AppendResult,
    DuplicateEventId,
    EventStore,
    IdempotencyKeyReused,
    IncidentNotFound,
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
    "IncidentNotFound",
    "NewEvent",
    "StoredEvent",
    "StoreError",
    "VersionConflict",
]
