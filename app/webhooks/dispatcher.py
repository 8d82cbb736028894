"""The webhook dispatcher as `timeline serve` and `timeline worker` run it: the parts, built from Settings.

Worker (worker.py) -- the async loop; talks only to:
  DeliveryQueue (queue.py; SqliteQueue, PostgresQueue) -- fan-out from the log, leases, records
  Sender (sender.py) -- signed CloudEvents over an httpx transport (safety.PolicyTransport)
and asks the pure retry policy (retry.py, backoff.py) what each attempt's result means.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import anyio
import httpx
from sqlalchemy.engine import Engine

from app.config import Settings
from app.db import create_engine
from app.leadership import Leadership
from app.store import EventStore
from app.webhooks.backoff import parse_schedule
from app.webhooks.model import Outcome
from app.webhooks.queue import QUEUE_WINDOW, open_queue
from app.webhooks.retry import RetryPolicy
from app.webhooks.safety import DestinationPolicy, PolicyTransport
from app.webhooks.sender import Sender
from app.webhooks.worker import AppendWaiter, Worker

__all__ = ["Dispatcher"]


logger = logging.getLogger("timeline.webhooks")


class Dispatcher(Worker):
    """A worker on its own engine, with the production queue, sender and retry policy."""

    def __init__(
        self,
        engine: Engine | str,
        settings: Settings,
        *,
        signal: AppendWaiter | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
        queue_window: int = QUEUE_WINDOW,
        on_outcome: Callable[[Outcome], None] | None = None,
        watch: Callable[[], Any] | None = None,
    ):
        timeout = float(settings.webhook_timeout_seconds)
        if settings.webhook_lease_seconds <= timeout:
            raise ValueError(
                f"the webhook lease ({settings.webhook_lease_seconds:g} s) must be longer than the request "
                f"timeout ({timeout:g} s), or a slow delivery would be taken over while still running"
            )
        policy = RetryPolicy(
            parse_schedule(settings.webhook_retry_schedule), timedelta(seconds=settings.webhook_disable_after_seconds)
        )
        if transport is None:
            transport = PolicyTransport(
                DestinationPolicy.from_env(settings.webhook_allow_networks, settings.webhook_allow_http)
            )
        # The dispatcher's own engine, with durability="fast" (SQLite synchronous=NORMAL,
        # PostgreSQL synchronous_commit=off): its writes are bookkeeping that a power cut may
        # roll back without breaking a guarantee. A lost "delivered" is a redelivery (at least
        # once), a lost fan-out loses its checkpoint move too and is redone, a lost lease or
        # retry time is taken again. Appends and the subscriptions API keep full durability;
        # this only spares the delivery path an fsync per step.
        url = engine if isinstance(engine, str) else engine.url.render_as_string(hide_password=False)
        self.engine = create_engine(url, durability="fast")
        queue = open_queue(
            self.engine,
            EventStore(self.engine),
            lease_time=timedelta(seconds=settings.webhook_lease_seconds),
            per_subscription=settings.webhook_per_subscription,
            window=queue_window,
        )
        sender = Sender(
            transport, timeout=timeout, max_body=settings.webhook_response_max_bytes, source=settings.webhook_source
        )
        super().__init__(
            queue,
            sender,
            policy,
            concurrency=settings.webhook_concurrency,
            poll=settings.webhook_poll_seconds,
            signal=signal,
            rng=rng,
            on_outcome=on_outcome,
            watch=watch,
        )

    async def run(self) -> None:
        try:
            await super().run()
        finally:
            await self.sender.aclose()
            self.engine.dispose()


ELECTION_SECONDS = 1.0  # how often a standby process asks whether the dispatcher's role is free


class ElectedDispatcher:
    """The dispatcher of whichever server process holds the dispatcher's role (app.leadership).

    With `timeline serve --workers N` one of the N dispatches; the others stand by and ask every
    ELECTION_SECONDS, so if it dies another takes over within that. Two dispatchers at once (a holder
    that lost its lock connection and has not noticed yet) would still deliver each event once per
    lease: the queue's leases, not the election, are what keep deliveries apart.
    """

    def __init__(self, make: Callable[[], Dispatcher], leadership: Leadership):
        self.make = make
        self.leadership = leadership
        self.dispatcher: Dispatcher | None = None
        self._stopping = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="webhook-election")

    def poke(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.poke()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                held = not self.leadership.contested or await anyio.to_thread.run_sync(self.leadership.held)
            except Exception:
                logger.exception("could not ask whether this process dispatches webhooks; asking again")
                held = False
            if held and self.dispatcher is None:
                self.dispatcher = self.make()
                self.dispatcher.start()
            elif not held and self.dispatcher is not None:
                await self.dispatcher.stop()
                self.dispatcher = None
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=ELECTION_SECONDS)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await asyncio.wait([self._task])
        if self.dispatcher is not None:
            await self.dispatcher.stop()
            self.dispatcher = None
        await anyio.to_thread.run_sync(self.leadership.release)
