"""Run the benchmarks: `python -m benchmarks [SECTION ...] [--quick]` (every section when none is named).

A section is a module of this package with a `run(options)` function that measures, prints its
table(s) and returns nothing, and optionally `add_arguments(parser)` for options of its own.
Register a new one (timeline folds, webhook delivery, ...) by adding
a line to SECTIONS; keep its module's top-level imports light (the standard library), since every
section is imported to collect its options; import the heavy things inside `run`.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time
from datetime import datetime, timezone

SECTIONS: dict[str, tuple[str, str]] = {
    # name: (module, what it measures)
    "append": ("benchmarks.append", "append throughput: this store vs eventsourcing vs the raw-driver floor"),
    "timeline": (
        "benchmarks.timeline",
        "timeline reads: the pure fold, GET /timeline, as-of reads at the end of long histories",
    ),
    "assertions": (
        "benchmarks.assertions",
        "the analysts' read model: GET /v1/assertions at 100,000 assertions vs the fold, index rebuild, read_all",
    ),
    "serving": (
        "benchmarks.serving",
        "a timeline on a front page: GET /timeline under wrk vs a bare Starlette app serving the same bytes",
    ),
    "webhooks": (
        "benchmarks.webhooks",
        "webhook delivery: append-to-delivery latency, deliveries/s, a hanging receiver beside fast ones",
    ),
    "extraction": (
        "benchmarks.extraction",
        "proposing a report's dated facts: ms per report, against an empty and a full record",
    ),
    "proofs": (
        "benchmarks.proofs",
        "the verifiable log: inclusion and consistency proofs per second, from the store and over HTTP",
    ),
    "import": (
        "benchmarks.importing",
        "timeline import of a large generated file: events/s vs the raw-driver floor, peak RSS",
    ),
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Reproducible speed figures against peers and the raw-driver floor.",
        epilog="sections: " + "; ".join(f"{name}: {what}" for name, (_, what) in SECTIONS.items()),
    )
    parser.add_argument("sections", nargs="*", metavar="SECTION", help="sections to run (default: all)")
    parser.add_argument(
        "--quick", action="store_true", help="a tiny run that checks everything works; figures mean nothing"
    )
    parser.add_argument("--rounds", type=int, default=None, help="rounds per measurement (default: 3, 1 with --quick)")
    parser.add_argument(
        "--backends", default="sqlite,postgres", help="comma-separated backends to run on (default: sqlite,postgres)"
    )
    for module, _ in SECTIONS.values():
        add_arguments = getattr(importlib.import_module(module), "add_arguments", None)
        if add_arguments is not None:
            add_arguments(parser)
    options = parser.parse_args(argv)
    unknown = [name for name in options.sections if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    options.sections = options.sections or list(SECTIONS)
    options.backends = [name.strip() for name in options.backends.split(",") if name.strip()]
    if options.rounds is None:
        options.rounds = 1 if options.quick else 3
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse_args(sys.argv[1:] if argv is None else argv)
    print(
        f"benchmarks {' '.join(options.sections)}{' (quick)' if options.quick else ''} — "
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"{platform.machine()}, {_cpu_count()} CPUs, load average {_load()}",
        flush=True,
    )
    for name in options.sections:
        module, what = SECTIONS[name]
        print(f"\n== {name}: {what}", flush=True)
        started = time.monotonic()
        importlib.import_module(module).run(options)
        print(f"({name} took {time.monotonic() - started:.0f} s)", flush=True)
    return 0


def _load() -> str:
    """The 1, 5 and 15 minute load averages: on a shared machine, how busy the others were."""
    import os

    return " ".join(f"{value:.1f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 0)


if __name__ == "__main__":
    sys.exit(main())
