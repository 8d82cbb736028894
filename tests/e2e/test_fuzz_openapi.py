"""No input makes the service fail: schemathesis over its own /openapi.json, on SQLite and PostgreSQL.

A real `timeline serve` (webhook dispatcher off) on a fresh migrated database, seeded with the
sample incidents and one webhook subscription, is fuzzed by schemathesis's CLI twice:

* `admin`: every request carries an admin key, so writes get past auth; all phases (examples,
  coverage, fuzzing, stateful);
* `mixed-auth`: no fixed Authorization header; the schema's optional `authorization` header
  parameter is generated, sometimes as the admin key, sometimes absent or garbage (the fuzzing
  phase only, fewer cases).

The checks (tests/support/fuzzing.py CHECKS): no 5xx, and every response as the document says —
its status documented for the operation, its content type documented for that status, its body
valid against the documented schema, its headers as documented; the test fails on any failed
check (and on schemathesis errors, such as a request the server never answered). The schema is
the service's own, sharpened by tests/support/schemathesis_hooks.py so that generated inputs reach the seeded ids and the event
catalog. The case counts are below; a fixed seed (TIMELINE_FUZZ_SEED overrides it) makes a run
repeatable, and TIMELINE_FUZZ_SCALE multiplies the counts for a longer hunt.

Figures (operations, cases, failures) are printed in the terminal summary, under "schemathesis
fuzzing". Everything a run leaves — schemathesis's output and reports, the server's stderr with
its tracebacks and its access log — is in test-artifacts/fuzz/<backend>/.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import defaultdict
from pathlib import Path

import httpx
import pytest

from tests.support.fuzzing import LoggedServer, RunResult, run_schemathesis
from tests.support.live import REPO, timeline

pytestmark = pytest.mark.e2e

SAMPLES = REPO / "events" / "samples" / "minneapolis-2026.ndjson"
ARTIFACTS = REPO / "test-artifacts" / "fuzz"
SEED = int(os.environ.get("TIMELINE_FUZZ_SEED", "20260201"))
# Multiplies every case count and time limit, for a longer hunt than CI's: TIMELINE_FUZZ_SCALE=5.
SCALE = float(os.environ.get("TIMELINE_FUZZ_SCALE", "1"))
WEBHOOK_URL = "https://hooks.example.com/incident-timeline"  # passes the default destination policy

# Fuzzing-phase cases per operation (the coverage phase makes its own, as many as the schema
# needs); the writes that store events and the reads that fold them get more.
ADMIN_CASES = {
    "default": 25,
    "POST /v1/incidents/{incident_id}/events": 150,
    "POST /v1/incidents": 60,
    "GET /v1/incidents/{incident_id}/timeline": 60,
    "GET /v1/incidents/{incident_id}/timeline/changes": 40,
    "GET /v1/assertions": 40,
}
MIXED_AUTH_CASES = {"default": 25}
RUN_TIMEOUT = {"admin": 200, "mixed-auth": 100}  # seconds: a hung run fails instead of stalling CI
SUMMARY_PLUGIN = "timeline-fuzz-summary"


def scaled(cases: dict[str, int]) -> dict[str, int]:
    return {name: max(1, round(count * SCALE)) for name, count in cases.items()}


class FuzzSummary:
    """Prints every run's figures at the end of the session, whatever pytest's -r and -q say."""

    def __init__(self):
        self.lines: list[str] = []

    def pytest_terminal_summary(self, terminalreporter):
        if self.lines:
            terminalreporter.section("schemathesis fuzzing")
            for line in self.lines:
                terminalreporter.write_line(line)


@pytest.fixture
def summary(request) -> FuzzSummary:
    manager = request.config.pluginmanager
    plugin = manager.get_plugin(SUMMARY_PLUGIN)
    if plugin is None:
        plugin = FuzzSummary()
        manager.register(plugin, SUMMARY_PLUGIN)
    return plugin


@pytest.fixture
def artifacts(backend) -> Path:
    directory = ARTIFACTS / backend
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


@pytest.fixture
def seeded(database_url, artifacts):
    """A served database holding the sample incidents; yields (server, admin key, known ids)."""
    env = {"TIMELINE_DATABASE_URL": database_url, "TIMELINE_WEBHOOK_DISPATCHER": "false"}
    timeline("import", "--quiet", str(SAMPLES), env=env)
    key = timeline("keys", "create", "--name", "fuzzer", "--scopes", "admin", env=env).stdout.strip().splitlines()[-1]
    server = LoggedServer(env, artifacts).start()
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=10) as client:
            incidents = [incident["id"] for incident in client.get("/v1/incidents").json()["incidents"]]
            created = client.post("/v1/subscriptions", json={"url": WEBHOOK_URL, "description": "fuzzing"})
            assert created.status_code == 201, created.text
        assertion_ids = sorted(
            {
                event["data"]["assertion_id"]
                for event in map(json.loads, SAMPLES.read_text().splitlines())
                if "assertion_id" in event.get("data", {})
            }
        )
        known = {
            "incident_ids": incidents,
            "subscription_ids": [created.json()["id"]],
            "assertion_ids": assertion_ids,
            "webhook_urls": [WEBHOOK_URL],
        }
        yield server, key, known
    finally:
        server.stop()


@pytest.mark.timeout(SCALE * sum(RUN_TIMEOUT.values()) + 120)
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_no_generated_request_gets_a_server_error_or_an_undocumented_response(backend, seeded, artifacts, summary):
    server, key, known = seeded
    runs = [
        run_schemathesis(
            server.url,
            name="admin",
            directory=artifacts,
            context=known,
            cases=scaled(ADMIN_CASES),
            seed=SEED,
            headers=(f"Authorization: Bearer {key}",),
            timeout=SCALE * RUN_TIMEOUT["admin"],
        ),
        run_schemathesis(
            server.url,
            name="mixed-auth",
            directory=artifacts,
            context={**known, "authorization": [f"Bearer {key}"]},
            cases=scaled(MIXED_AUTH_CASES),
            seed=SEED,
            phases=("fuzzing",),
            timeout=SCALE * RUN_TIMEOUT["mixed-auth"],
        ),
    ]
    server.stop()  # flushes its log
    exceptions = server.exceptions()

    figures = [f"[{backend}] {run.figures()}" for run in runs]
    figures.append(
        f"[{backend}] server: {len(exceptions)} logged exceptions, "
        f"{len({e.root_cause for e in exceptions})} distinct; logs and reports in {artifacts.relative_to(REPO)}/"
    )
    summary.lines.extend(figures)
    (artifacts / "summary.txt").write_text("\n".join(figures) + "\n")
    print("\n".join(figures))

    clean = not exceptions and all(not (run.failures or run.errors or run.exit_code) for run in runs)
    assert clean, report(backend, runs, exceptions, figures)


def report(backend: str, runs: list[RunResult], exceptions, figures: list[str]) -> str:
    lines = [f"schemathesis found server errors or could not finish on {backend}:", *figures, ""]
    by_cause = defaultdict(list)
    for exception in exceptions:
        by_cause[exception.root_cause].append(exception)
    if by_cause:
        lines.append(f"exceptions in the server's log ({len(by_cause)} distinct):")
        for (kind, frame), group in sorted(by_cause.items(), key=lambda item: -len(item[1])):
            requests = sorted({e.request for e in group if e.request})
            lines.append(f"  {len(group)} x {group[0].exception}")
            lines.append(f"      at {frame or '(no frame in app/ or events/)'}; e.g. {', '.join(requests[:3])}")
        lines.append("")
    for run in runs:
        if run.failures:
            lines.append(f"failing cases, {run.name} run ({len(run.failures)}):")
            lines.extend("  " + failure.describe() for failure in run.failures)
        if run.errors:
            lines.append(f"schemathesis errors, {run.name} run:")
            lines.extend(f"  {error}" for error in run.errors)
        if run.exit_code != 0 and not (run.failures or run.errors):
            lines.append(f"schemathesis ({run.name}) exited with {run.exit_code}; see {run.log}")
    return "\n".join(lines)
