"""Hearing other processes' appends on PostgreSQL: every append NOTIFYs, every server process LISTENs.

An append sends `pg_notify(APPENDED_CHANNEL, payload)` inside its own transaction
(timeline_settle, migrations/versions/0015), a JSON object of the store's `origin`, the `stream`,
its `version` and the `position` of its last event; so PostgreSQL delivers it only once the append
has committed, and in commit order: a process told "stream s is at version v" finds those events
already visible. The origin names the store that appended, so a process does not hear its own
appends twice: it learns of those as they return.

The listener is one thread per process on a connection of its own, taken from the engine's pool and
detached from it (so it keeps the pool's connect settings but is never handed to anyone else). If
the connection drops it connects again, and tells its listener that something may have been missed
(`on_append(None, None)`): the readers' poll, kept as a safety net, covers that gap either way.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine

log = logging.getLogger("timeline.store")

APPENDED_CHANNEL = "timeline_appended"
RECONNECT_SECONDS = 1.0
WAKE_SECONDS = 0.5  # how often the thread looks up from listening, to notice a stop


class AppendListener:
    def __init__(self, engine: Engine, origin: str, on_append: Callable[[str | None, int | None], None]):
        self.engine = engine
        self.origin = origin
        self.on_append = on_append
        self.heard = 0  # other processes' appends heard so far
        self._listens = 0  # LISTENs made: a new one may have missed what came while there was none
        self._stopping = threading.Event()
        self._listening = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection: Any = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="append-listener", daemon=True)
        self._thread.start()

    def wait_listening(self, timeout: float) -> bool:
        """Whether the LISTEN is in place (within `timeout` seconds): from then on no append is missed."""
        return self._listening.wait(timeout)

    def hearing(self) -> object:
        """The same while this listener has been hearing every append throughout (one LISTEN,
        never dropped); something new each time otherwise."""
        return self._listens if self._listening.is_set() else object()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        first = True
        while not self._stopping.is_set():
            try:
                self._listen(first)
            except Exception:
                if self._stopping.is_set():
                    break
                log.warning(
                    "lost the database connection that hears other processes' appends; reconnecting", exc_info=True
                )
                self._stopping.wait(RECONNECT_SECONDS)
            first = False

    def _listen(self, first: bool) -> None:
        pooled = self.engine.raw_connection()
        connection: Any = pooled.driver_connection
        pooled.detach()  # this connection is ours alone, for as long as we listen
        try:
            connection.rollback()
            connection.autocommit = True
            connection.execute(f"LISTEN {APPENDED_CHANNEL}")
            self._listens += 1
            self._listening.set()
            if not first:
                self.on_append(None, None)  # while disconnected, appends may have gone unheard
            while not self._stopping.is_set():
                for note in connection.notifies(timeout=WAKE_SECONDS):
                    self._heard(note.payload)
        finally:
            self._listening.clear()
            connection.close()

    def _heard(self, payload: str) -> None:
        try:
            told = json.loads(payload)
            if told["origin"] == self.origin:
                return
            stream_id, version = str(told["stream"]), int(told["version"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignored an append notification that does not parse: %.200r", payload)
            return
        self.heard += 1
        self.on_append(stream_id, version)
