"""A timeline on a front page: `GET /v1/incidents/{id}/timeline` under a real load generator, against a
bare Starlette app serving the very same bytes, in the same run.

The service is `timeline serve` itself (one uvicorn process, as deployed: its dispatcher and index
follower running, no webhook subscriptions), on a database holding an incident of 30 and one of 200
assertions (benchmarks.timeline.incident_history: recorded, corroborated, revised, ranked, disputed).
The peer is a Starlette app in its own uvicorn process that answers the same paths with the bytes
and headers the service answered (ETag, Cache-Control, Content-Type), and a 304 to a matching
If-None-Match: what serving the timeline costs when nothing but the bytes has to be found, the
floor a cache in the service can reach.

The load is wrk (Debian's package; installed here when missing and this is root): 2 threads, 16
connections, keep-alive, `--latency`, for `--serve-seconds` per run, on loopback, after the
service's assertion index has caught up and a one-second warm-up run against each side. Runs alternate
service, bare, service, bare ... for each (backend, incident, 200 or 304), and each round gives a
ratio of requests/s and of p99 latency. Goals (issue 13): >= 0.5x the bare app's requests/s, and a
p99 within 2x of its p99. The load generator and the servers share this machine's cores, the same
for both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import format_table, ratio_range, say, temporary_postgres

ASSERTIONS = (30, 200)
CONNECTIONS, THREADS = 16, 2
GOAL_RATE, GOAL_P99 = 0.5, 2.0
REPO = Path(__file__).resolve().parents[1]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--serve-seconds", type=float, default=5.0, help="seconds of wrk per run (serving)")


# -- the peer: the same bytes from a bare Starlette app ------------------------------------------


def bare_app(recorded: dict[str, Any]):
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    routes = []
    for path, answer in recorded.items():
        body = Path(answer["body_file"]).read_bytes()
        headers = answer["headers"]

        async def endpoint(request, body=body, headers=headers):
            if request.headers.get("if-none-match") == headers["etag"]:
                return Response(status_code=304, headers=headers)
            return Response(body, headers=headers)

        routes.append(Route(path, endpoint))
    return Starlette(routes=routes)


def serve_bare(port: int, recorded_file: str) -> None:
    import uvicorn

    uvicorn.run(bare_app(json.loads(Path(recorded_file).read_text())), host="127.0.0.1", port=port, log_level="warning")


# -- wrk ------------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("installing wrk (Debian's package) for the serving benchmark")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False, env=env, capture_output=True)
        if not shutil.which("wrk"):
            subprocess.run(["apt-get", "update", "-q"], check=False, env=env, capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, env=env, capture_output=True)
        found = shutil.which("wrk")
    if not found:
        raise SystemExit("the serving benchmark needs wrk: sudo apt-get install -y wrk")
    return found


UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def wrk(binary: str, url: str, seconds: float, headers: dict[str, str]) -> tuple[float, float, int]:
    """(requests/s, p99 seconds, non-2xx/3xx answers) of one wrk run."""
    command = [binary, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    printed = subprocess.run([*command, url], check=True, capture_output=True, text=True, timeout=seconds + 60).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", printed).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m)\b", printed, re.MULTILINE)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", printed)
    assert p99 is not None, printed
    return rate, float(p99.group(1)) * UNITS[p99.group(2)], int(bad.group(1)) if bad else 0


# -- the run ---------------------------------------------------------------------------------------


def free_port() -> int:
    from tests.support.live import free_port as free

    return free()


def wait_for(url: str, process: subprocess.Popen) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url}: no answer within 60 s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def load_incidents(url: str, counts: tuple[int, ...]) -> dict[int, str]:
    from app.db import create_engine
    from app.store import EventStore
    from benchmarks.timeline import incident_history, load

    engine = create_engine(url)
    try:
        store = EventStore(engine)
        incidents = {}
        for count in counts:
            incident_id = f"front-page-{count}"
            load(store, incident_id, incident_history(2 * count + 1, count, seed=count))
            incidents[count] = incident_id
        return incidents
    finally:
        engine.dispose()


def measure_backend(options, binary: str, name: str, url: str, counts: tuple[int, ...], work: Path) -> list[tuple]:
    import httpx

    from app.db import migrate

    migrate(url)
    incidents = load_incidents(url, counts)
    service_port, bare_port = free_port(), free_port()
    service = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(service_port)],
        env={**os.environ, "TIMELINE_DATABASE_URL": url},
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    bare = None
    try:
        service_url = f"http://127.0.0.1:{service_port}"
        wait_for(f"{service_url}/healthz", service)
        # The assertion index catches up with the loaded events first: steady state, not start-up.
        deadline = time.monotonic() + 120
        while httpx.get(f"{service_url}/healthz").json()["assertion_index"]["lag"] and time.monotonic() < deadline:
            time.sleep(0.1)
        recorded: dict[str, Any] = {}
        for count, incident_id in incidents.items():
            path = f"/v1/incidents/{incident_id}/timeline"
            answer = httpx.get(service_url + path, timeout=60)
            assert answer.status_code == 200 and len(answer.json()["entries"]) == count, answer.text[:300]
            body_file = work / f"{name}-{count}.json"
            body_file.write_bytes(answer.content)
            kept = {h: answer.headers[h] for h in ("etag", "cache-control", "content-type")}
            recorded[path] = {"body_file": str(body_file), "headers": kept, "count": count}
        recorded_file = work / f"{name}-recorded.json"
        recorded_file.write_text(json.dumps(recorded))
        bare = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.serving", "--bare", str(bare_port), str(recorded_file)],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        bare_url = f"http://127.0.0.1:{bare_port}"
        first = next(iter(recorded))
        wait_for(bare_url + first, bare)
        for path, answer in recorded.items():
            same = httpx.get(bare_url + path)
            assert same.content == Path(answer["body_file"]).read_bytes()

        rows = []
        for path, answer in recorded.items():
            for conditional in (False, True):
                headers = {"If-None-Match": answer["headers"]["etag"]} if conditional else {}
                rates, p99s = [], []
                # A warm-up run of each first: a server's first seconds under load (its thread
                # pool, its caches) are not the steady state a front page sees.
                wrk(binary, service_url + path, 1, headers)
                wrk(binary, bare_url + path, 1, headers)
                for _ in range(options.rounds):
                    mine = wrk(binary, service_url + path, options.serve_seconds, headers)
                    theirs = wrk(binary, bare_url + path, options.serve_seconds, headers)
                    assert mine[2] == 0 and theirs[2] == 0, (mine, theirs)
                    rates.append((mine[0], theirs[0]))
                    p99s.append((mine[1], theirs[1]))
                best = max(rates, key=lambda pair: pair[0] / pair[1])
                rate_ratios = [m / t for m, t in rates]
                p99_ratios = [m / t for m, t in p99s]
                median, p99_median = statistics.median(rate_ratios), statistics.median(p99_ratios)
                rows.append(
                    (
                        name,
                        f"{answer['count']} assertions",
                        "304" if conditional else "200",
                        f"{best[0]:,.0f}",
                        f"{best[1]:,.0f}",
                        ratio_range(rate_ratios),
                        f"{min(m for m, _ in p99s) * 1000:.1f} / {min(t for _, t in p99s) * 1000:.1f}",
                        ratio_range(p99_ratios),
                        "met" if median >= GOAL_RATE and p99_median <= GOAL_P99 else "NOT met",
                    )
                )
                say(f"  {name} {answer['count']} {'304' if conditional else '200'}: {rows[-1][5]} of the bare app")
        return rows
    finally:
        stop(service)
        if bare is not None:
            stop(bare)


def run(options: argparse.Namespace) -> None:
    binary = ensure_wrk()
    counts = ASSERTIONS[:1] if options.quick else ASSERTIONS
    if options.quick:
        options.serve_seconds = 1.0
    rows: list[tuple] = []
    with tempfile.TemporaryDirectory(prefix="bench-serving-") as directory:
        work = Path(directory)
        for backend in options.backends:
            say(f"serving on {backend}: loading {', '.join(map(str, counts))} assertions")
            if backend == "sqlite":
                rows += measure_backend(options, binary, "sqlite", f"sqlite:///{work / 'timeline.db'}", counts, work)
            elif backend == "postgres":
                server = temporary_postgres()
                try:
                    server.create_database("bench_serving")
                    rows += measure_backend(options, binary, "postgres", server.url("bench_serving"), counts, work)
                finally:
                    server.stop()
    print(
        f"\nGET /v1/incidents/{{id}}/timeline under wrk ({THREADS} threads, {CONNECTIONS} connections, "
        f"{options.serve_seconds:g} s per run, {options.rounds} round(s)): timeline serve vs a bare Starlette "
        f"app serving the same bytes; goals >= {GOAL_RATE}x requests/s and p99 <= {GOAL_P99}x"
    )
    print(
        format_table(
            [
                "backend",
                "incident",
                "status",
                "service req/s",
                "bare req/s",
                "req/s ratio",
                "p99 ms service / bare",
                "p99 ratio",
                "goal",
            ],
            rows,
        )
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--bare":
        serve_bare(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit("usage: python -m benchmarks serving (through python -m benchmarks)")
