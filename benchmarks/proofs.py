"""Proofs served per second: inclusion and consistency proofs of the log's Merkle tree.

A store of N events (default 100,000; 2,000 with --quick), appended 1,000 at a time through the
product path, so the tree is the one the appends kept. Then, at tree size N, for random positions:

- store: `LogTree.inclusion(position, N)` / `LogTree.consistency(m, N)` called directly (one query
  for the nodes a proof needs, plus the tree's size);
- HTTP: `GET /v1/events/{position}/proof?size=N` and `GET /v1/log/consistency?from=m&to=N` through
  uvicorn on loopback (tests/support/live.ThreadedServer), one httpx keep-alive client, one request
  at a time;
- check: what a client spends verifying one inclusion proof (app.proofs.merkle.verify_inclusion),
  the floor no server can go below per proof it hands out.

`python -m benchmarks proofs [--quick] [--backends sqlite,postgres] [--proof-events N]`
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from benchmarks.harness import format_table, say, temporary_postgres

SECONDS = 3.0  # each measurement runs this long (best of the rounds)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--proof-events", type=int, default=None, help="proofs section: events in the store (default 100,000)"
    )


@contextmanager
def database(backend: str, directory) -> Any:
    from app.db import migrate

    if backend == "sqlite":
        url = f"sqlite:///{directory}/proofs.db"
        migrate(url)
        yield url
        return
    server = temporary_postgres()
    try:
        server.create_database("bench_proofs")
        url = server.url("bench_proofs")
        migrate(url)
        yield url
    finally:
        server.stop()


def per_second(call: Callable[[int], Any], rounds: int) -> float:
    best = 0.0
    for _ in range(rounds):
        done, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < SECONDS:
            call(done)
            done += 1
        best = max(best, done / elapsed)
    return best


def run(options: argparse.Namespace) -> None:
    import tempfile

    import httpx

    from app.api.main import create_app
    from app.config import Settings
    from app.db import create_engine
    from app.proofs.merkle import verify_inclusion
    from app.store import EventStore, NewEvent
    from app.store.tree import LogTree
    from tests.support.live import ThreadedServer

    total = options.proof_events or (2_000 if options.quick else 100_000)
    rounds = options.rounds or (1 if options.quick else 3)
    rows = []
    for backend in options.backends:
        with tempfile.TemporaryDirectory() as directory, database(backend, directory) as url:
            engine = create_engine(url)
            store = EventStore(engine)
            started = time.perf_counter()
            for start in range(0, total, 1000):
                store.append(
                    f"incident-{start // 1000 % 50}",
                    [NewEvent("Noted", {"n": n, "quote": f"said {n}"}) for n in range(start, min(total, start + 1000))],
                )
            say(f"-- {backend}: {total:,} events appended in {time.perf_counter() - started:.0f} s")
            tree = LogTree(engine)
            picks = random.Random(7)
            positions = [picks.randint(1, total) for _ in range(100_000)]
            firsts = [picks.randint(1, total) for _ in range(100_000)]

            def inclusion(i: int) -> None:
                tree.inclusion(positions[i % len(positions)], total)

            def consistency(i: int) -> None:
                tree.consistency(firsts[i % len(firsts)], total)

            proof = tree.inclusion(positions[0], total)
            root = tree.root(total)

            def check(i: int) -> None:
                verify_inclusion(proof.leaf_index, total, proof.leaf_hash, proof.audit_path, root)

            figures = {
                "store: inclusion": per_second(inclusion, rounds),
                "store: consistency": per_second(consistency, rounds),
            }
            settings = Settings(database_url=url, webhook_dispatcher=False, log_key_file=f"{directory}/log.key")
            app = create_app(settings, engine=create_engine(url))
            with ThreadedServer(app) as server, httpx.Client(base_url=server.url, timeout=60) as client:

                def served_inclusion(i: int) -> None:
                    answer = client.get(f"/v1/events/{positions[i % len(positions)]}/proof", params={"size": total})
                    assert answer.status_code == 200, answer.text

                def served_consistency(i: int) -> None:
                    answer = client.get("/v1/log/consistency", params={"from": firsts[i % len(firsts)], "to": total})
                    assert answer.status_code == 200, answer.text

                figures["HTTP: inclusion"] = per_second(served_inclusion, rounds)
                figures["HTTP: consistency"] = per_second(served_consistency, rounds)
            figures["check: verify_inclusion (client side)"] = per_second(check, rounds)
            engine.dispose()
            for name, value in figures.items():
                rows.append((backend, f"{total:,}", name, f"{value:,.0f}", f"{1000 / value:.3f}"))
                say(f"   {name}: {value:,.0f}/s")
    print()
    print(format_table(("backend", "tree size", "proofs", "per second", "ms each"), rows, align="lllrr"))
    print(
        f"per second: the best of {rounds} round(s) of {SECONDS:g} s each, one caller, random positions; "
        "proof size is log2 of the tree size (17 hashes at 100,000)."
    )
