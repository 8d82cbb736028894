"""The verifiable log as the service runs it: the signer key (a file outside the database, made on
first use), the tree and its checkpoints, and the loop that issues a checkpoint every few seconds
while appends happen."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy.engine import Engine

from app.proofs.keyfile import load_or_create_signer
from app.proofs.notes import Signer
from app.store.tree import Checkpoints, IssuedCheckpoint, LogTree

log = logging.getLogger("timeline.log")
_NOTHING = object()  # no token from the watch: the checkpoint is issued


class CheckpointNotFound(Exception):
    pass


class TransparencyLog:
    def __init__(self, engine: Engine, *, key_file: Path, name: str, every_seconds: float):
        self.tree = LogTree(engine)
        self.engine = engine
        self.key_file, self.name, self.every_seconds = key_file, name, every_seconds
        self._task: asyncio.Task | None = None
        self._stopping = asyncio.Event()
        # The largest checkpoint this process knows of, moved as it issues or reads one: what the
        # timeline's Timeline-Checkpoint header names, with no database round trip on a read.
        self.latest_size = 0
        self._watch: Callable[[], Any] | None = None

    def watch(self, token: Callable[[], Any] | None) -> None:
        """Skip issuing while `token()` is what it was before the last issue: a token that moves
        with every commit (app.store.backends.LogWatch.every_commit), so nothing was appended and
        no other process issued a checkpoint since."""
        self._watch = token

    @cached_property
    def signer(self) -> Signer:
        return load_or_create_signer(self.key_file, self.name)

    @cached_property
    def checkpoints(self) -> Checkpoints:
        return Checkpoints(self.engine, self.tree, self.signer)

    def verifier_key(self) -> str:
        return self.signer.verifier_key

    def issue(self) -> IssuedCheckpoint | None:
        issued = self.checkpoints.issue()
        self._saw(issued or self.checkpoints.latest())
        return issued

    def checkpoint_now(self) -> IssuedCheckpoint | None:
        """The checkpoint of the tree as it stands: issued now, or already (by this process's loop
        or another process); None for an empty log."""
        issued = self.issue()
        if issued is not None:
            return issued
        size = self.tree.size()  # integrated by issue()
        return self.checkpoints.at(size) if size else None

    def _saw(self, checkpoint: IssuedCheckpoint | None) -> None:
        if checkpoint is not None and checkpoint.tree_size > self.latest_size:
            self.latest_size = checkpoint.tree_size

    def checkpoint_header(self, position: int) -> dict[str, str]:
        """Timeline-Checkpoint for a body folded from the log up to `position`: a signed checkpoint
        whose tree holds every event it was folded from (none yet for the newest few seconds)."""
        if position and self.latest_size >= position:
            return {"timeline-checkpoint": str(self.latest_size)}
        return {}

    def checkpoint(self, size: int | None = None) -> IssuedCheckpoint:
        """The latest checkpoint, or the one issued at `size`."""
        found = self.checkpoints.latest() if size is None else self.checkpoints.at(size)
        if found is not None:
            self._saw(found)
            return found
        if size is None:
            raise CheckpointNotFound(
                f"no checkpoint is issued yet: one is issued within {self.every_seconds:g} s of an append"
            )
        latest = self.checkpoints.latest()
        raise CheckpointNotFound(
            f"no checkpoint was issued at tree size {size}"
            + (f"; the latest is at {latest.tree_size}" if latest else "")
            + ": ask without size for the latest, or for a proof between sizes with /v1/log/consistency"
        )

    def proof_size(self, position: int) -> int:
        """The tree size a proof of `position` is given at when none is asked: the latest checkpoint's."""
        latest = self.checkpoint()
        if latest.tree_size < position:
            raise CheckpointNotFound(
                f"position {position} is not in a checkpoint yet (the latest is at {latest.tree_size}); "
                f"one is issued within {self.every_seconds:g} s, or ask with size=N up to the log's head"
            )
        return latest.tree_size

    def start(self) -> None:
        self.signer  # made (or read) at start, so a bad key file stops the start, not a request
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=30)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass

    async def _run(self) -> None:
        # Every process issues on its own clock; two issuing the same size write the same note
        # (app.store.tree.Checkpoints.issue), so no election is needed.
        issued: Any = _NOTHING  # the watch's token, read before the last issue that went through
        while not self._stopping.is_set():
            try:
                # Read before issuing: a commit made meanwhile changes it, and the next turn issues.
                token = self._watch() if self._watch is not None else _NOTHING
                if token is _NOTHING or token != issued:
                    issued = _NOTHING
                    await anyio.to_thread.run_sync(self.issue)
                    issued = token
            except Exception:
                log.exception("could not issue a checkpoint of the log; trying again")
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=self.every_seconds)
            except asyncio.TimeoutError:
                pass
