"""Each stream's head version as this process last knew it, so that a read can tell whether the body
it has rendered is still current without asking the database.

What a reader can see, exactly: an append made through this process's API moves the head here
before its 201 is sent, so the appender (and everyone on this process) reads it at once. An append
made by another process (another API worker, `timeline import`) is seen once the copy here is older
than `refresh_seconds` (measured from when the database read that filled it began) and the next
read asks again: until then, this process serves the timeline at the version it last saw. That is
acceptable because nothing it serves is ever mislabelled: the ETag and the body's `version` name the
version the body was folded at, so a stale answer is a true, complete timeline as of that version
(what a CDN holding it for `max-age` would serve anyway), never a mix, and a client that already has
a newer ETag from another process just gets the older body once more within that bound.

A copy past that bound is read again unless a watch on the log (`watch`: app.store.backends.LogWatch)
says nothing was appended anywhere since it was read: a token had for nothing, the same while
nothing is committed (SQLite's data_version; on PostgreSQL, the listener while it hears every other
process's append, whose notifications move the copies here within milliseconds, and this store's
own count of appends). While the watch's readings stay the
same, every copy read after the first of them is still current as of the latest, and is served
without a read of its own: a front page's incident costs no database round trip, and no thread
(which, taken four times a second for the incident and the actors' registry, doubled the p99 of the
serving benchmark), while nothing is written.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class HeadVersions:
    def __init__(
        self,
        read_version: Callable[[str], int | None],
        *,
        refresh_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._read_version = read_version
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._watch: Callable[[], Any] | None = None
        # The watch's latest reading: (token, clock reading when it began); and the clock reading
        # when the reading that first gave that token ended: a copy read after it missed nothing
        # the token counts, and nothing has committed since while the token stays.
        self._watched: tuple[Any, float] | None = None
        self._quiet_since = -float("inf")
        # stream id -> (version, clock reading when the database read that saw it began). A tuple
        # replaced whole, so a lock-free reader always sees a matching pair.
        self._heads: dict[str, tuple[int, float]] = {}
        # stream id -> clock reading when a read of its head from the database began, while it runs.
        self._refreshing: dict[str, float] = {}

    def fresh(self, stream_id: str) -> int | None:
        """The head version if known here within the bound, else None (no database round trip).

        When the copy is due and another caller is already reading the database for it, the copy is
        still given (for at most that read's round trip, and never once the read has taken longer
        than the bound itself): under load, one caller refreshes while the rest are answered, instead
        of every request arriving in that moment queueing for the database at once.
        """
        known = self._heads.get(stream_id)
        if known is None:
            return None
        now = self._clock()
        if now - known[1] < self.refresh_seconds or self._confirmed(known[1], now):
            return known[0]
        reading_since = self._refreshing.get(stream_id)
        if reading_since is not None and now - reading_since < self.refresh_seconds:
            return known[0]
        return None

    def watch(self, token: Callable[[], Any] | None) -> None:
        """Skip the reads of copies while `token()` stays the same (see the module's docstring)."""
        with self._lock:
            self._watch, self._watched, self._quiet_since = token, None, -float("inf")

    def look(self) -> None:
        """Read the watch, when its latest reading is past half the bound: cheap enough for any
        caller (no database round trip on PostgreSQL, a pragma on an open connection on SQLite)."""
        watch, watched = self._watch, self._watched
        if watch is None or (watched is not None and self._clock() - watched[1] < self.refresh_seconds / 2):
            return
        started = self._clock()
        token = watch()
        ended = self._clock()
        with self._lock:
            if self._watched is None or self._watched[0] != token:
                self._quiet_since = max(self._quiet_since, ended)  # never earlier: readings may finish out of order
            if self._watched is None or self._watched[1] < started:
                self._watched = (token, started)

    def _confirmed(self, read_at: float, now: float) -> bool:
        """Whether a copy read at `read_at` is current as of a watch reading within the bound."""
        watched = self._watched
        return watched is not None and read_at >= self._quiet_since and now - watched[1] < self.refresh_seconds

    def version(self, stream_id: str) -> int | None:
        """The head version, from the database when the copy here is missing or too old; None if
        the stream does not exist (not remembered: a stream that is opened later is then found)."""
        self.look()
        known = self.fresh(stream_id)
        if known is not None:
            return known
        started = self._clock()
        with self._lock:
            self._refreshing[stream_id] = started
        return self._refresh(stream_id, started)

    def claim_refresh(self, stream_id: str) -> float | None:
        """Whether to refresh this copy now, ahead of the bound: it is past half its life and nobody
        is reading it already. If so it is claimed (the clock reading to give `refresh`); a busy
        stream is then read again in the background before any reader finds its copy due, and no
        reader waits for the database."""
        self.look()
        with self._lock:
            known = self._heads.get(stream_id)
            now = self._clock()
            if known is None or stream_id in self._refreshing or now - known[1] < self.refresh_seconds / 2:
                return None
            if self._confirmed(known[1], now):
                return None  # nothing committed since it was read: see the watch
            self._refreshing[stream_id] = now
            return now

    def refresh(self, stream_id: str, claimed: float) -> None:
        """Read a claimed copy again (see `claim_refresh`); for a thread of its own."""
        self._refresh(stream_id, claimed)

    def _refresh(self, stream_id: str, started: float) -> int | None:
        try:
            version = self._read_version(stream_id)
        finally:
            with self._lock:
                if self._refreshing.get(stream_id) == started:
                    del self._refreshing[stream_id]
        if version is None:
            return None
        return self._keep(stream_id, version, started)

    def moved(self, stream_id: str, version: int) -> None:
        """This process appended: the stream is at `version` (at least) now. The refresh time is not
        reset, since this says nothing about other processes' appends."""
        with self._lock:
            known = self._heads.get(stream_id)
            if known is not None and known[0] < version:
                self._heads[stream_id] = (version, known[1])
            elif known is None:
                # Not read here yet: counted as already due for a refresh, so the next read asks.
                self._heads[stream_id] = (version, self._clock() - self.refresh_seconds)

    def _keep(self, stream_id: str, version: int, started: float) -> int:
        # Versions only grow (append-only streams), so the higher of two observations is the truer:
        # a refresh that read the database before a concurrent append of ours was recorded here
        # must not take the head back (which would hide our own write until the next refresh).
        with self._lock:
            known = self._heads.get(stream_id)
            if known is not None and known[0] > version:
                version = known[0]
            self._heads[stream_id] = (version, max(started, known[1]) if known else started)
            return version
