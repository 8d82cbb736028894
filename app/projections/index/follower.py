"""Running the projector: in `timeline serve`, and alone as `timeline project`.

On PostgreSQL exactly one process projects at a time: the one holding a session advisory lock
on its own connection. The others try for the lock on every poll, so when the holder dies (its
connection closes and PostgreSQL releases the lock) another takes over within a poll. Reads in a
process that does not hold the lock wait for the holder to reach their position instead of
projecting themselves. On SQLite the database's single writer serializes projectors, and the
checkpoint's compare-and-set (app.projections.index.projector) keeps any two from writing one
batch twice, so every process may project.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import anyio

from app.leadership import Leadership
from app.notify import AppendSignal
from app.projections.index.projector import Projector

log = logging.getLogger("timeline.index")

POLL_SECONDS = 0.5  # the default of TIMELINE_INDEX_POLL
_NOTHING = object()  # no token: the catch-up runs


class IndexFollower:
    def __init__(
        self,
        projector: Projector,
        leadership: Leadership,
        signal: AppendSignal | None = None,
        *,
        poll_seconds: float = POLL_SECONDS,
    ):
        self.poll_seconds = poll_seconds
        self.projector = projector
        self.leadership = leadership
        self.signal = signal
        self._task: asyncio.Task | None = None
        self._stopping = False
        self._wake = asyncio.Event()
        self._watch: Callable[[], Any] | None = None

    def watch(self, token: Callable[[], Any] | None) -> None:
        """Skip a poll's catch-up while `token()` is what it was before the last one
        (app.store.backends.LogWatch): nothing was committed that it could have to follow."""
        self._watch = token

    def reach(self, position: int, *, budget_seconds: float) -> int:
        """Bring the index to `position` (or as near as the budget allows) and return where it is.

        Only the follower loop takes the lock (its connection lives as long as the loop); a read
        projects itself if this process holds it, or if no loop runs here (a script, a test
        without a server), and otherwise waits for the holder.
        """
        if self.leadership.holding or self._task is None or self._task.done():
            return self.projector.catch_up(up_to=position, budget_seconds=budget_seconds)
        deadline = time.monotonic() + budget_seconds
        reached = self.projector.position()
        while reached < position and time.monotonic() < deadline:
            time.sleep(0.02)
            reached = self.projector.position()
        return reached

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        """Let the batch in hand finish (its thread cannot be interrupted), then release the lock."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=30)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass
        self.leadership.release()

    async def run(self) -> None:
        """Follow the log: at once on an append this process hears of, else every `poll_seconds`,
        unless the log watch says nothing was committed since the last catch-up (then the poll
        costs no thread and no read: a thread hop a poll added to a front page's p99)."""
        followed: Any = _NOTHING  # the watch's token read before the last catch-up that ran
        told = True
        while not self._stopping:
            generation = self.signal.generation if self.signal else 0
            # Read before the catch-up: a commit made while it runs changes the token, so the next
            # poll follows it.
            try:
                token = self._watch() if self._watch is not None else _NOTHING
            except Exception:
                token = _NOTHING  # the catch-up runs, and says what is wrong with the database
            if told or token is _NOTHING or token != followed:
                followed = _NOTHING
                try:
                    held = not self.leadership.contested or await anyio.to_thread.run_sync(self.leadership.held)
                    if held:
                        await anyio.to_thread.run_sync(self.projector.catch_up)
                        followed = token
                except Exception:
                    log.exception("the assertion index could not follow the log; trying again")
            if self._stopping:
                break
            waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._wake.wait())]
            if self.signal is not None:
                waits.append(asyncio.ensure_future(self.signal.wait(generation, self.poll_seconds)))
            _, pending = await asyncio.wait(waits, timeout=self.poll_seconds, return_when=asyncio.FIRST_COMPLETED)
            for waiting in pending:
                waiting.cancel()
            # Woken by an append or a stop, not by the timeout. (A signal's wait ends at its own
            # timeout too, returning the same generation.)
            told = self._wake.is_set() or (self.signal is not None and self.signal.generation != generation)
