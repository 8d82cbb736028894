"""The `timeline` command: migrate, serve, manage API keys, import and export events."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from app.config import Settings

# The commands that write to the store or serve it: on a schema older than the code (an upgrade
# not yet migrated) they would fail at the first append or query, so they refuse to start instead.
NEEDS_CURRENT_SCHEMA = {"serve", "worker", "project", "import"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="timeline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("migrate", help="bring the database to the newest schema")

    serve = commands.add_parser("serve", help="serve the API (and the webhook dispatcher)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the port (one of them dispatches webhooks and one keeps the assertion index)",
    )

    commands.add_parser(
        "worker", help="run the webhook dispatcher alone (any number of workers can share one database)"
    )

    project = commands.add_parser(
        "project", help="keep the assertion index following the log (one process at a time projects on PostgreSQL)"
    )
    project.add_argument("--once", action="store_true", help="bring the index up to the head, then exit")
    project.add_argument(
        "--rebuild",
        action="store_true",
        help="build a fresh copy of the index beside the live one (which goes on serving), swap it in, then exit",
    )

    keys = commands.add_parser("keys", help="manage API keys").add_subparsers(dest="keys_command", required=True)
    create = keys.add_parser("create", help="create a key; prints it alone on the last line")
    create.add_argument("--name", required=True)
    create.add_argument("--scopes", default="read", help="comma-separated: read,write,webhooks,admin")
    keys.add_parser("list", help="list keys (never their secret text)")
    revoke = keys.add_parser(
        "revoke", help="revoke a key by id or prefix; its webhook subscriptions are paused in the same step"
    )
    revoke.add_argument("key")
    revoke.add_argument(
        "--hand-over-to",
        metavar="KEY",
        help="give its subscriptions to this key (id or prefix, with the webhooks scope), which can resume them",
    )

    load = commands.add_parser(
        "import",
        help="append events from an NDJSON file: every line is checked first (as the API checks it), "
        "and a file with any problem writes nothing",
    )
    load.add_argument("file", type=Path, help="the NDJSON file ('-': standard input)")
    load.add_argument(
        "--dry-run",
        action="store_true",
        help="check everything, write nothing: say what would be imported, skipped and refused",
    )
    load.add_argument("--batch-size", type=int, default=1000, help="events per append (default: 1000)")
    load.add_argument("--max-problems", type=int, default=100, help="lines with problems to list (default: 100)")
    load.add_argument("--quiet", action="store_true", help="no progress bars")

    commands.add_parser(
        "export",
        help="write the global log as NDJSON to standard output (each event as stored, with its leaf hash)",
    )

    verify = commands.add_parser(
        "verify",
        help="check the log against its signed checkpoints: offline (--export, --checkpoint, --key) "
        "or watching a live service (--url)",
    )
    verify.add_argument(
        "--export", type=Path, metavar="FILE", help="an export (`timeline export`; '-': standard input)"
    )
    verify.add_argument(
        "--checkpoint",
        type=Path,
        action="append",
        metavar="FILE",
        help="a checkpoint note (GET /v1/log/checkpoint); repeat to give several",
    )
    verify.add_argument("--key", type=Path, metavar="FILE", help="the verifier key (GET /v1/log/key)")
    verify.add_argument("--url", help="the service to watch, e.g. http://127.0.0.1:8000")
    verify.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help="where --url keeps the last checkpoint it verified (default: ~/.timeline-verify/<host>.json)",
    )
    verify.add_argument(
        "--watch", type=float, metavar="SECONDS", help="with --url: check again every SECONDS until stopped"
    )

    receive = commands.add_parser(
        "receive",
        help="a webhook receiver on this machine: verifies each request's signature, prints each CloudEvent",
    )
    receive.add_argument("--host", default="127.0.0.1")
    receive.add_argument("--port", type=int, default=9000)
    receive.add_argument(
        "--secret",
        action="append",
        required=True,
        metavar="WHSEC",
        help="the subscription's signing secret (whsec_...); repeat to accept several",
    )

    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ValueError as error:
        parser.error(str(error))
    if args.command in NEEDS_CURRENT_SCHEMA:
        from app.db import schema_problem

        if (problem := schema_problem(settings.database_url)) is not None:
            print(f"timeline: {problem}", file=sys.stderr)
            return 2
    handler = {
        "migrate": _migrate,
        "serve": _serve,
        "worker": _worker,
        "project": _project,
        "keys": _keys,
        "import": _import,
        "export": _export,
        "verify": _verify,
        "receive": _receive,
    }[args.command]
    return handler(args, settings) or 0


def _migrate(args, settings: Settings) -> int:
    from app.db import migrate

    migrate(settings.database_url)
    print(f"database at {_safe_url(settings.database_url)} is at the newest schema")
    return 0


def _serve(args, settings: Settings) -> int:
    import uvicorn

    from app.api.limits import ConfiguredHeaderTimeout
    from app.api.main import create_app
    from app.db import is_sqlite
    from app.metrics import MULTIPROCESS_DIR

    if args.workers < 1:
        print("timeline: --workers must be 1 or more", file=sys.stderr)
        return 2
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_level": "info",
        "access_log": settings.access_log,
        "http": ConfiguredHeaderTimeout,
        "timeout_keep_alive": settings.keep_alive_seconds,
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "limit_concurrency": settings.max_connections or None,
    }
    if args.workers == 1:
        uvicorn.run(create_app(settings), **options)
        return 0
    if is_sqlite(settings.database_url):
        print(
            "timeline: note: on SQLite every worker dispatches webhooks and keeps the assertion index "
            "(the database's single writer keeps them apart); PostgreSQL elects one of each",
            file=sys.stderr,
        )
    # The workers are new processes that import the app by name and read the same environment. Each
    # counts its own requests and deliveries; prometheus-client's multiprocess mode, in a directory
    # they share, lets a scrape of any of them add up all.
    with tempfile.TemporaryDirectory(prefix="timeline-metrics-") as shared:
        os.environ.setdefault(MULTIPROCESS_DIR, shared)
        uvicorn.run("app.api.main:create_app", factory=True, workers=args.workers, **options)
    return 0


def _project(args, settings: Settings) -> int:
    import asyncio
    import logging
    import signal

    from app.db import create_engine
    from app.leadership import Leadership
    from app.projections.index.follower import IndexFollower
    from app.projections.index.projector import Projector
    from app.projections.reader import Timelines
    from app.projections.snapshots import SnapshotStore
    from app.store import EventStore

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    engine = create_engine(settings.database_url, durability=settings.durability)
    store = EventStore(engine)
    projector = Projector(store, Timelines(store, SnapshotStore(engine)))
    leadership = Leadership(engine)
    try:
        if args.rebuild:
            from app.projections.index.rebuild import RebuildAbandoned, rebuild

            def report(position: int, head: int) -> None:
                print(f"rebuilding the assertion index: position {position} of {head}", flush=True)

            try:
                rebuilt = rebuild(store, projector.timelines, progress=report)
            except RebuildAbandoned as error:
                print(f"timeline: {error}", file=sys.stderr)
                return 1
            print(
                f"the rebuilt assertion index is live at position {rebuilt.position} "
                f"(generation {rebuilt.generation}, replacing {rebuilt.replaced})"
            )
            return 0
        if args.once:
            if not leadership.held():
                print(
                    f"timeline: another process keeps the assertion index; it is at position {projector.position()}",
                    file=sys.stderr,
                )
                return 1
            position = projector.catch_up()
            print(f"the assertion index is at position {position} (head {store.head_position()})")
            return 0

        follower = IndexFollower(projector, leadership)

        async def run() -> None:
            stopped = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stopped.set)
            follower.start()
            await stopped.wait()
            await follower.stop()

        asyncio.run(run())
        return 0
    finally:
        leadership.release()
        engine.dispose()


def _worker(args, settings: Settings) -> int:
    import asyncio
    import logging
    import signal

    from app.db import create_engine
    from app.webhooks.dispatcher import Dispatcher

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    engine = create_engine(settings.database_url, durability=settings.durability)
    try:
        dispatcher = Dispatcher(engine, settings)
    except ValueError as error:
        print(f"timeline: {error}", file=sys.stderr)
        return 2

    async def run() -> None:
        loop = asyncio.get_running_loop()
        # SIGTERM / Ctrl-C: stop leasing, finish the attempts in flight, record them, exit.
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, dispatcher.request_stop)
        await dispatcher.run()

    try:
        asyncio.run(run())
    finally:
        engine.dispose()
    return 0


def _keys(args, settings: Settings) -> int:
    from app.db import create_engine
    from app.store.keys import KeyRing, parse_scopes

    ring = KeyRing(create_engine(settings.database_url))
    if args.keys_command == "create":
        try:
            scopes = parse_scopes(args.scopes)
        except ValueError as error:
            print(f"timeline: {error}", file=sys.stderr)
            return 2
        record, secret = ring.create(args.name, scopes)
        print(f"created key {record.id} ({record.name}, scopes {','.join(sorted(record.scopes))});")
        print("it is shown once, now; only its hash is stored:")
        print(secret)
    elif args.keys_command == "list":
        for key in ring.list():
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            print(f"{key.id}  tl_{key.prefix}_…  {key.name}  {','.join(sorted(key.scopes))}  {state}")
    elif args.keys_command == "revoke":
        from app.access import revoke_key
        from app.webhooks.subscriptions import UnusableOwner

        try:
            revocation = revoke_key(ring.engine, args.key, hand_over_to=args.hand_over_to)
        except UnusableOwner as error:
            print(f"timeline: {error}; nothing was revoked", file=sys.stderr)
            return 1
        if revocation is None:
            print(f"timeline: no active key {args.key!r}", file=sys.stderr)
            return 1
        print(f"revoked {args.key}")
        if revocation.paused:
            print(f"paused its {len(revocation.paused)} webhook subscription(s): {', '.join(revocation.paused)}")
            heir = revocation.handed_over_to
            if heir is not None:
                print(
                    f"they now belong to {heir.name} ({heir.id}), which resumes them with PATCH "
                    '/v1/subscriptions/{id} {"paused": false}'
                )
            else:
                print('an admin can hand them to another key: POST /v1/subscriptions/{id}/owner {"key_id": ...}')
    return 0


def _import(args, settings: Settings) -> int:
    from tqdm import tqdm

    from app.db import create_engine
    from app.importing import ImportStopped, Progress, import_file

    name = "standard input" if str(args.file) == "-" else args.file.name

    class Bars(Progress):
        """Progress on standard error: the check (bytes of the file), then the write (events)."""

        def __init__(self, size: int | None):
            self.check = tqdm(total=size, unit="B", unit_scale=True, desc=f"checking {name}", disable=args.quiet)
            self.write: tqdm | None = None

        def checked(self, nbytes: int) -> None:
            self.check.update(nbytes)

        def writing(self, events: int) -> None:
            self.check.close()
            self.write = tqdm(total=events, unit="event", desc=f"importing {name}", disable=args.quiet)

        def written(self, events: int) -> None:
            if self.write is not None:
                self.write.update(events)

        def close(self) -> None:
            self.check.close()
            if self.write is not None:
                self.write.close()

    engine = create_engine(settings.database_url, durability=settings.durability)
    try:
        with sys.stdin.buffer if str(args.file) == "-" else args.file.open("rb") as stream:
            bars = Bars(None if str(args.file) == "-" else args.file.stat().st_size)
            try:
                report = import_file(
                    engine,
                    stream,
                    dry_run=args.dry_run,
                    batch_size=args.batch_size,
                    max_problems=args.max_problems,
                    progress=bars,
                )
            finally:
                bars.close()
    except ImportStopped as stopped:
        print(f"timeline: {stopped}", file=sys.stderr)
        print(stopped.report.summary())
        return 1
    except OSError as error:
        print(f"timeline: {error}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    for line in report.problem_lines():
        print(f"timeline: {line}", file=sys.stderr)
    print(report.summary())
    return 1 if report.refused else 0


def _export(args, settings: Settings) -> int:
    """The global log in position order, a page at a time (memory stays flat). Positions are gap-free
    and only ever grow, so paging by position yields a consistent prefix of the log. Each event is
    written as stored (at its own schema version, never upcast): the bytes the log's Merkle tree
    hashes, so `timeline verify` can check the export against a checkpoint, and `timeline import`
    upcasts it as it does any older event."""
    import os

    from app.api.serialize import envelope
    from app.db import create_engine
    from app.store import EventStore
    from app.store.tree import LogTree, as_stored

    engine = create_engine(settings.database_url)
    store, tree = EventStore(engine, upcast=as_stored, open_sealed=False), LogTree(engine)
    after = 0
    out = sys.stdout
    try:
        while page := store.read_all(after_position=after, limit=1000):
            # The leaf hashes the tree recorded as each event was appended: beside the events, they
            # let `timeline verify` name the very event that was changed.
            recorded = dict(enumerate(tree.leaves(after, len(page)), start=after + 1))
            out.write(
                "".join(
                    json.dumps({**envelope(event), **_leaf_hash(recorded.get(event.position))}, separators=(",", ":"))
                    + "\n"
                    for event in page
                )
            )
            after = page[-1].position
        out.flush()
    except BrokenPipeError:
        # The reader has stopped (`timeline export | head`): the export ends there, quietly. Python
        # would try to flush stdout again on exit and fail once more, so point it at /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        engine.dispose()
    return 0


def _leaf_hash(recorded: bytes | None) -> dict[str, str]:
    return {} if recorded is None else {"leaf_hash": recorded.hex()}


def _verify(args, settings: Settings) -> int:
    """0: verified; 1: the log is not the one signed (the first position that does not match is
    named); 2: nothing could be checked (a missing or unreadable input)."""
    from app.verify import VerifyError

    try:
        if args.url:
            return _watch(args)
        if not (args.export and args.checkpoint and args.key):
            print("timeline: give --export FILE, --checkpoint FILE and --key FILE, or --url URL", file=sys.stderr)
            return 2
        return _verify_export(args)
    except VerifyError as error:
        print(f"timeline: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"timeline: {error.filename or ''}: {error.strerror or error}", file=sys.stderr)
        return 2


def _verify_export(args) -> int:
    from app.verify import verify_export

    notes = [path.read_text() for path in args.checkpoint]
    key = args.key.read_text()
    if str(args.export) == "-":
        verdict = verify_export(sys.stdin.buffer, key, notes)
    else:
        with args.export.open("rb") as lines:
            verdict = verify_export(lines, key, notes)
    for line in verdict.checked:
        print(line)
    for line in verdict.problems:
        print(f"NOT VERIFIED: {line}")
    return 0 if verdict.verified else 1


def _watch(args) -> int:
    import time
    from urllib.parse import urlsplit

    import httpx

    from app.verify import Seen, VerifyError, check_new_checkpoint

    base = args.url.rstrip("/")
    state = args.state or Path.home() / ".timeline-verify" / f"{urlsplit(base).netloc.replace(':', '_')}.json"
    seen = Seen.loads(state.read_text()) if state.exists() else None
    with httpx.Client(base_url=base, timeout=30) as client:
        while True:
            try:
                served_key = client.get("/v1/log/key").raise_for_status().text
                key = args.key.read_text() if args.key else (seen.key if seen else served_key)
                if served_key.strip() != key.strip():
                    print(f"NOT VERIFIED: the service now serves another verifier key ({served_key.strip()})")
                    return 1
                answer = client.get("/v1/log/checkpoint")
                if answer.status_code == 404:
                    print("no checkpoint issued yet")
                else:
                    note = answer.raise_for_status().text
                    size = int(answer.headers.get("Timeline-Tree-Size", "0"))
                    proof = None
                    if seen is not None and size >= seen.size:
                        proof = (
                            client.get("/v1/log/consistency", params={"from": seen.size, "to": size})
                            .raise_for_status()
                            .json()["proof"]
                        )
                    verdict, seen_now = check_new_checkpoint(key, note, seen, proof)
                    for line in verdict.checked:
                        print(line, flush=True)
                    for line in verdict.problems:
                        print(f"NOT VERIFIED: {line}", flush=True)
                    if not verdict.verified or seen_now is None:
                        return 1
                    seen = seen_now
                    state.parent.mkdir(parents=True, exist_ok=True)
                    state.write_text(seen.dumps())
            except httpx.HTTPError as error:
                raise VerifyError(f"the service at {base} did not answer as a timeline service does: {error}") from None
            if args.watch is None:
                return 0
            time.sleep(args.watch)


def _receive(args, settings: Settings) -> int:
    from app.receiver import make_server

    try:
        server = make_server(args.host, args.port, args.secret, sys.stdout)
    except (ValueError, OSError) as error:
        print(f"timeline: {error}", file=sys.stderr)
        return 2
    host = f"[{args.host}]" if ":" in args.host else args.host
    secrets = "1 secret" if len(args.secret) == 1 else f"{len(args.secret)} secrets"
    print(
        f"listening on http://{host}:{server.server_address[1]} (any path), verifying with {secrets}; Ctrl-C stops",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())
