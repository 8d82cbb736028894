"""Webhook delivery: append-to-delivery latency, deliveries per second, and isolation from a hanging receiver.

The product's dispatcher (`app.webhooks.dispatcher.Dispatcher`, as `timeline serve` runs it: woken
by the in-process append signal, SSRF-checked client, Standard Webhooks signatures, CloudEvents
bodies, one durable transaction per record / fan-out / lease step) delivers to receivers on
loopback. The receivers are minimal asyncio HTTP/1.1 servers in a separate process (so they do not
compete with the dispatcher for the GIL) that note the arrival time of every request
(`time.monotonic()`, one clock for the whole machine on Linux) and answer 200 at once — or, for
the hanging receiver, never answer (the dispatcher gives up after its timeout).

Measurements, per backend, on a fresh database each:

- latency: one subscription; events appended one at a time (an `EventStore.append` that commits
  durably, then the append signal, as the append route does), each after the previous one has
  arrived; from just before the append to the request's arrival at the receiver. Median and p99.
- throughput: N events over 50 incidents already in the log; a subscription from position 1 is
  created and the dispatcher started; deliveries/s = N / time until the last distinct event
  arrived. One subscription (at most `webhook_per_subscription` = 8 requests in flight, at most
  one per incident, so per-incident order holds) and four subscriptions.
- isolation: the same backlog to three fast subscriptions, alone and then with a fourth
  subscription whose receiver hangs; the fast subscriptions' delivery rate should not change.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

from benchmarks.harness import format_table, rate, say

INCIDENTS = 50
TIMEOUT = 5.0  # the dispatcher's request timeout: how long a hanging receiver holds each slot


# -- receivers (in a child process) -----------------------------------------------------------


def _receiver_main(conn, hanging: int, ports_out) -> None:
    """Serve one fast receiver and `hanging` hanging ones; send (webhook-id, port, arrival) per request."""

    async def main() -> None:
        pending: list[tuple[str, int, str, float]] = []
        hanging_ports: set[int] = set()
        handlers: set[asyncio.Task] = set()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
            handlers.add(asyncio.current_task())
            port = writer.get_extra_info("sockname")[1]
            hang = port in hanging_ports
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    length, webhook_id = 0, ""
                    lines = head.split(b"\r\n")
                    path = lines[0].split(b" ")[1].decode()
                    for line in lines[1:]:
                        name, _, value = line.partition(b":")
                        name = name.strip().lower()
                        if name == b"content-length":
                            length = int(value)
                        elif name == b"webhook-id":
                            webhook_id = value.strip().decode()
                    await reader.readexactly(length)
                    pending.append((webhook_id, port, path, time.monotonic()))
                    if hang:
                        await asyncio.Event().wait()  # never answers; the sender times out
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, asyncio.CancelledError):
                pass  # the sender hung up, or the receiver is shutting down
            finally:
                writer.close()
                handlers.discard(asyncio.current_task())

        async def flush() -> None:
            # Batches of arrivals to the parent every millisecond: cheap, and the arrival times
            # were taken when the requests arrived, so batching does not blur them.
            while True:
                if pending:
                    batch = pending[:]
                    del pending[: len(batch)]
                    conn.send(batch)
                await asyncio.sleep(0.001)

        servers = [await asyncio.start_server(handle, "127.0.0.1", 0) for _ in range(1 + hanging)]
        ports = [server.sockets[0].getsockname()[1] for server in servers]
        hanging_ports.update(ports[1:])
        ports_out.send((ports[0], ports[1:]))
        flusher = asyncio.create_task(flush())
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # any message: stop
        flusher.cancel()
        for server in servers:
            server.close()
        for task in list(handlers):  # the hanging ones: end them before the loop closes
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)

    asyncio.run(main())


class Receivers:
    """The receiver process and the arrivals it reports (first arrival per (port, path, webhook-id))."""

    def __init__(self, hanging: int = 0):
        context = multiprocessing.get_context("spawn")  # the parent has threads: no fork
        self._conn, child = context.Pipe()
        ports_in, ports_out = context.Pipe(duplex=False)
        self.process = context.Process(target=_receiver_main, args=(child, hanging, ports_out), daemon=True)
        self.process.start()
        self.port, self.hanging_ports = ports_in.recv()
        self.arrivals: dict[tuple[int, str, str], float] = {}
        self.requests = 0
        self._condition = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def url(self, port: int | None = None, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{port or self.port}{path}"

    def _read(self) -> None:
        try:
            while True:
                batch = self._conn.recv()
                with self._condition:
                    for webhook_id, port, path, arrived in batch:
                        self.requests += 1
                        self.arrivals.setdefault((port, path, webhook_id), arrived)
                    self._condition.notify_all()
        except (EOFError, OSError):
            pass

    def wait(self, condition, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        with self._condition:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"receivers: timed out; {len(self.arrivals)} distinct arrivals")
                self._condition.wait(left)

    def arrived(self, port: int, webhook_id: str, path: str = "/hook") -> float | None:
        with self._condition:
            return self.arrivals.get((port, path, webhook_id))

    def count(self, port: int) -> int:
        """Distinct (path, event) arrivals at one port."""
        return sum(1 for (p, _, _) in self.arrivals if p == port)

    def close(self) -> None:
        try:
            self._conn.send("stop")
        except OSError:
            pass
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()


# -- databases ----------------------------------------------------------------------------------


class Databases:
    """Fresh, migrated databases of one backend."""

    def __init__(self, backend: str):
        self.backend = backend

    def __enter__(self) -> "Databases":
        from app.db import migrate

        self.counter = 0
        self.directory = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
        if self.backend == "sqlite":
            self.template = self.directory / "template.db"
            migrate(f"sqlite:///{self.template}")
            import sqlite3

            connection = sqlite3.connect(self.template)
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.close()
        elif self.backend == "postgres":
            try:
                from tests.support.postgres import TemporaryPostgres
            except ImportError as error:
                raise SystemExit(f"the PostgreSQL figures need tests/support/postgres.py: {error}") from None
            self.server = TemporaryPostgres()
            self.server.start()
            self.server.create_database("bench_template")
            migrate(self.server.url("bench_template"))
        else:
            raise SystemExit(f"unknown backend {self.backend!r}; choose sqlite or postgres")
        return self

    def __exit__(self, *exc) -> None:
        if self.backend == "postgres":
            self.server.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    @contextmanager
    def fresh(self) -> Iterator[str]:
        self.counter += 1
        if self.backend == "sqlite":
            path = self.directory / f"db{self.counter}.db"
            shutil.copyfile(self.template, path)
            try:
                yield f"sqlite:///{path}"
            finally:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
        else:
            name = f"bench{self.counter}"
            self.server.create_database(name, template="bench_template")
            try:
                yield self.server.url(name)
            finally:
                self.server.drop_database(name)

    def describe(self) -> str:
        if self.backend == "sqlite":
            import sqlite3

            return f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=FULL)"
        return "PostgreSQL (synchronous_commit=on), a throwaway local cluster"


# -- the system under test ----------------------------------------------------------------------


class Service:
    """An engine, the event store, the subscription repository and a running dispatcher, as in `serve`."""

    def __init__(self, url: str):
        from app.config import Settings
        from app.db import create_engine
        from app.notify import AppendSignal
        from app.store import EventStore
        from app.webhooks.subscriptions import Subscriptions

        self.settings = Settings(
            database_url=url,
            webhook_allow_http=True,
            webhook_allow_networks=("127.0.0.0/8",),
            webhook_timeout_seconds=TIMEOUT,
            webhook_lease_seconds=60,
        )
        self.engine = create_engine(url)
        self.store = EventStore(self.engine)
        self.subscriptions = Subscriptions(self.engine)
        self.signal = AppendSignal()
        self._thread: threading.Thread | None = None

    def append(self, incident: str, index: int) -> str:
        """Append one event durably and signal it, as the append route does; its event id."""
        import uuid

        from app.store import NewEvent
        from benchmarks.append import assertion_data

        reported = datetime(2026, 1, 25, 14, 30, tzinfo=timezone.utc) + timedelta(minutes=index)
        event_id = str(uuid.uuid4())
        self.store.append(
            incident, [NewEvent("AssertionRecorded", assertion_data(index, reported), 2, reported, event_id=event_id)]
        )
        self.signal.notify()
        return event_id

    def backlog(self, total: int) -> list[str]:
        """`total` events over INCIDENTS incidents, already in the log (no dispatcher running); their ids."""
        import uuid

        from app.store import NewEvent
        from benchmarks.append import assertion_data

        ids = []
        reported = datetime(2026, 1, 25, 14, 30, tzinfo=timezone.utc)
        batches: dict[str, list] = {}
        for index in range(total):
            event_id = str(uuid.uuid4())
            ids.append(event_id)
            batches.setdefault(f"incident-{index % INCIDENTS:03d}", []).append(
                NewEvent("AssertionRecorded", assertion_data(index, reported), 2, reported, event_id=event_id)
            )
        # Appends of 10 events, round-robin over the incidents, as a busy newsroom makes them.
        for start in range(0, max(len(events) for events in batches.values()), 10):
            for incident, events in batches.items():
                if events[start : start + 10]:
                    self.store.append(incident, events[start : start + 10])
        return ids

    def subscribe(self, url: str, **options) -> str:
        return self.subscriptions.create("bench", url, **options)[0].id

    def start(self) -> None:
        from app.webhooks.dispatcher import Dispatcher

        self.dispatcher = Dispatcher(self.engine, self.settings, signal=self.signal)
        ready = threading.Event()

        def main() -> None:
            async def run() -> None:
                task = asyncio.get_running_loop().create_task(self.dispatcher.run())
                ready.set()
                await task

            asyncio.run(run())

        self._thread = threading.Thread(target=main, daemon=True)
        self._thread.start()
        ready.wait(10)

    def close(self) -> None:
        if self._thread is not None:
            self.dispatcher.request_stop()
            self._thread.join(timeout=2 * TIMEOUT + 10)
        self.engine.dispose()


# -- measurements -------------------------------------------------------------------------------


def measure_latency(databases: Databases, count: int) -> list[float]:
    """Milliseconds from append to arrival, one event at a time."""
    receivers = Receivers()
    samples = []
    try:
        with databases.fresh() as url:
            service = Service(url)
            try:
                service.subscribe(receivers.url())
                service.start()
                for index in range(count + 5):
                    incident = f"incident-{index % INCIDENTS:03d}"
                    started = time.monotonic()
                    event_id = service.append(incident, index)
                    receivers.wait(lambda: receivers.arrived(receivers.port, event_id) is not None, timeout=30)
                    if index >= 5:  # the first few warm the connection pool and caches
                        samples.append((receivers.arrived(receivers.port, event_id) - started) * 1000)
            finally:
                service.close()
    finally:
        receivers.close()
    return samples


def measure_throughput(databases: Databases, total: int, subscriptions: int) -> float:
    """Deliveries per second for a backlog of `total` events to `subscriptions` subscriptions."""
    receivers = Receivers()
    try:
        with databases.fresh() as url:
            service = Service(url)
            try:
                service.backlog(total)
                for n in range(subscriptions):
                    service.subscribe(receivers.url(path=f"/hook/{n}"), from_position=1)
                expected = total * subscriptions
                started = time.monotonic()
                service.start()
                receivers.wait(lambda: receivers.count(receivers.port) >= expected)
                elapsed = time.monotonic() - started
            finally:
                service.close()
    finally:
        receivers.close()
    return expected / elapsed


def measure_isolation(databases: Databases, total: int, with_hanging: bool) -> float:
    """Deliveries per second to three fast subscriptions, with or without a fourth that hangs."""
    receivers = Receivers(hanging=1 if with_hanging else 0)
    try:
        with databases.fresh() as url:
            service = Service(url)
            try:
                ids = service.backlog(total)
                if with_hanging:
                    service.subscribe(receivers.url(receivers.hanging_ports[0]), from_position=1)
                for n in range(3):
                    service.subscribe(receivers.url(path=f"/fast/{n}"), from_position=1)
                expected = 3 * total
                started = time.monotonic()
                service.start()
                receivers.wait(lambda: receivers.count(receivers.port) >= expected)
                elapsed = time.monotonic() - started
                assert len(ids) == total
            finally:
                service.close()
    finally:
        receivers.close()
    return expected / elapsed


def run(options: argparse.Namespace) -> None:
    latency_events = 20 if options.quick else 300
    backlog = 200 if options.quick else 1000
    rows = []
    isolation_rows = []
    for backend in options.backends:
        with Databases(backend) as databases:
            say(f"-- {databases.describe()}")
            samples: list[float] = []
            single, quad = [], []
            alone, beside_hang = [], []
            for round_number in range(options.rounds):
                samples += measure_latency(databases, latency_events)
                single.append(measure_throughput(databases, backlog, 1))
                quad.append(measure_throughput(databases, backlog, 4))
                alone.append(measure_isolation(databases, backlog, with_hanging=False))
                beside_hang.append(measure_isolation(databases, backlog, with_hanging=True))
                say(
                    f"   round {round_number + 1}: deliveries/s 1 sub {rate(single[-1])}, 4 subs {rate(quad[-1])}; "
                    f"3 fast subs {rate(alone[-1])} alone, {rate(beside_hang[-1])} beside a hanging one"
                )
            samples.sort()
            p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
            rows.append(
                (
                    backend,
                    f"{statistics.median(samples):.1f}",
                    f"{p99:.1f}",
                    str(len(samples)),
                    rate(max(single)),
                    rate(max(quad)),
                )
            )
            isolation_rows.append(
                (backend, rate(max(alone)), rate(max(beside_hang)), f"{max(beside_hang) / max(alone):.2f}×")
            )
    print()
    print(
        format_table(
            (
                "backend",
                "append→delivery median ms",
                "p99 ms",
                "samples",
                "deliveries/s (1 sub)",
                "deliveries/s (4 subs)",
            ),
            rows,
            align="lrrrrr",
        )
    )
    print(
        f"latency: one event at a time, from before the durable append to its arrival at the receiver. "
        f"deliveries/s: a backlog of {backlog:,} events over {INCIDENTS} incidents, best of {options.rounds} round(s); "
        "at most 8 requests in flight per subscription, one per incident."
    )
    print()
    print(
        format_table(
            ("backend", "3 fast subs alone (deliveries/s)", "beside a hanging receiver", "ratio (goal 1.00×)"),
            isolation_rows,
            align="lrrr",
        )
    )
    print(
        f"isolation: the hanging receiver never answers; each of its requests holds one of its own 8 slots "
        f"until the {TIMEOUT:g} s timeout."
    )
