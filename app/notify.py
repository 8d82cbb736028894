"""A wake-up signal from appends to in-process listeners (live streams, the webhook dispatcher, the
head versions that timeline reads check their cached bodies against).

Only a hint: listeners also poll, because other processes append to the same database.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable


class AppendSignal:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = 0
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []
        self._on_append: list[Callable[[str, int], None]] = []

    def on_append(self, listener: Callable[[str, int], None]) -> None:
        """Call `listener(stream_id, version)` for every notify that names what was appended."""
        self._on_append.append(listener)

    @property
    def generation(self) -> int:
        return self._generation

    def notify(self, stream_id: str | None = None, version: int | None = None) -> None:
        """Wake every waiter; safe to call from any thread (sync routes run in a thread pool).

        Called after the append committed, with the stream and the version it reached: listeners
        told here never run ahead of the database.
        """
        if stream_id is not None and version is not None:
            for listener in self._on_append:
                listener(stream_id, version)
        with self._lock:
            self._generation += 1
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            try:
                loop.call_soon_threadsafe(_resolve, future)
            except RuntimeError:
                pass  # that listener's event loop has closed: nobody is waiting there any more

    async def wait(self, seen_generation: int, timeout: float) -> int:
        """Wait until something was appended after `seen_generation`, or `timeout` seconds; return the generation.

        Taking the generation before reading and passing it here closes the race where an
        append lands between the read and the wait.
        """
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._lock:
            if self._generation != seen_generation:
                return self._generation
            self._waiters.append((loop, future))
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            pass
        finally:
            # also when the waiter is cancelled (a live stream whose client went away)
            with self._lock:
                if (loop, future) in self._waiters:
                    self._waiters.remove((loop, future))
        return self._generation


def _resolve(future: asyncio.Future) -> None:
    if not future.done():
        future.set_result(None)
