"""Rendered timeline bodies kept per ETag, so a repeat read is served without folding or rendering.

A body is kept only under the ETag it was made from, and an ETag is derived from everything the
body is a function of (the incident's version, the cut-off, the filters, the format, the projection
and actors registry versions): an entry can never be wrong, only unused, so nothing is invalidated;
the least recently used entries are dropped when the bytes kept pass the bound.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

# What an entry costs beyond its body (its key, headers and bookkeeping), roughly: so that many tiny
# bodies cannot hold far more memory than the bound says.
ENTRY_OVERHEAD_BYTES = 512


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()  # its Content-Type and the like; not ETag, Cache-Control, length
    position: int = 0  # the log position of the last event it was folded from (0: none)

    @property
    def size(self) -> int:
        return len(self.body) + ENTRY_OVERHEAD_BYTES


class RenderedCache:
    def __init__(self, max_bytes: int, *, on_lookup: Callable[[bool], None] | None = None):
        self.max_bytes = max_bytes
        self._on_lookup = on_lookup  # told whether each lookup was a hit
        self.bytes = 0
        self.hits = self.misses = 0
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, Rendered] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, etag: str) -> Rendered | None:
        with self._lock:
            found = self._entries.get(etag)
            if found is None:
                self.misses += 1
            else:
                self._entries.move_to_end(etag)
                self.hits += 1
        if self._on_lookup is not None:
            self._on_lookup(found is not None)
        return found

    def clear(self) -> None:
        """Drop every body kept (an erasure: they may hold what was erased)."""
        with self._lock:
            self._entries.clear()
            self.bytes = 0

    def put(self, etag: str, rendered: Rendered) -> None:
        if rendered.size > self.max_bytes:
            return  # larger than the whole cache (or the cache is off): served, not kept
        with self._lock:
            earlier = self._entries.pop(etag, None)
            if earlier is not None:
                self.bytes -= earlier.size
            self._entries[etag] = rendered
            self.bytes += rendered.size
            while self.bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self.bytes -= dropped.size
