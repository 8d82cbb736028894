"""The webhook dispatcher as `timeline serve` and `timeline worker` run it: the parts, built from Settings.

Worker (worker.py) -- the async loop; talks only to:
  DeliveryQueue (queue.py; SqliteQueue, PostgresQueue) -- fan-out from the log, leases, records
  Sender (sender.py) -- signed CloudEvents over an httpx transport (safety.PolicyTransport)
and asks the pure retry policy (retry.py, backoff.py) what each attempt's result means.
"""

from __future__ import annotations

import random
from datetime import timedelta

import httpx
from sqlalchemy.engine import Engine

from app.config import Settings
from app.db import create_engine
from app.store import EventStore
from app.webhooks.backoff import parse_schedule
from app.webhooks.queue import QUEUE_WINDOW, open_queue
from app.webhooks.retry import RetryPolicy
from app.webhooks.safety import DestinationPolicy, PolicyTransport
from app.webhooks.sender import Sender
from app.webhooks.worker import AppendWaiter, Worker

__all__ = ["Dispatcher"]


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
        )

    async def run(self) -> None:
        try:
            await super().run()
        finally:
            await self.sender.aclose()
            self.engine.dispose()
