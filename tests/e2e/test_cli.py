"""The `timeline` command as an operator uses it."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.store import EventStore, NewEvent
from app.store.keys import KeyRing
from tests.support.live import REPO, timeline

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples" / "minneapolis-2026.ndjson"


@pytest.fixture
def env(database_url) -> dict[str, str]:
    return {"TIMELINE_DATABASE_URL": database_url}


def test_keys_are_shown_once_and_stored_only_as_a_hash(env, engine):
    created = timeline("keys", "create", "--name", "newsdesk", "--scopes", "write,webhooks", env=env)
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("tl_") and " " not in key
    with engine.connect() as conn:
        dump = json.dumps([list(map(str, row)) for row in conn.execute(sa.text("SELECT * FROM api_keys"))])
    assert key not in dump
    found = KeyRing(engine).authenticate(key)
    assert found is not None and found.scopes == {"write", "webhooks"}

    listed = timeline("keys", "list", env=env).stdout
    assert "newsdesk" in listed and key not in listed
    timeline("keys", "revoke", found.id, env=env)
    assert KeyRing(engine).authenticate(key) is None
    assert "revoked" in timeline("keys", "list", env=env).stdout


def test_bad_scopes_are_refused(env, engine):
    result = timeline("keys", "create", "--name", "x", "--scopes", "write,superuser", env=env, check=False)
    assert result.returncode != 0 and "scopes" in result.stderr
    assert KeyRing(engine).list() == []


def test_import_is_checked_first_and_harmless_to_repeat(env, store, tmp_path):
    first = timeline("import", str(SAMPLES), env=env)
    assert "imported 145 events into 5 incidents and the actors registry (0 already present, 0 refused)" in first.stdout
    assert "checking" in first.stderr and "importing" in first.stderr  # the progress bars
    again = timeline("import", str(SAMPLES), env=env)
    assert "imported 0 events into 0 incidents (145 already present, 0 refused)" in again.stdout
    assert store.head_position() == 145

    broken = tmp_path / "broken.ndjson"
    opened = {"incident_id": "fresh-incident", "type": "IncidentOpened", "data": {"title": "Fresh"}}
    invalid = {"incident_id": "fresh-incident", "type": "AssertionRecorded", "data": {"assertion_id": "x"}}
    dangling = {
        "incident_id": "fresh-incident",
        "type": "AssertionRanked",
        "data": {"assertion_id": "y", "rank": "normal"},
    }
    retitled = {"incident_id": "alex-pretti-shooting", "type": "IncidentOpened", "data": {"title": "Another title"}}
    revised = {
        "incident_id": "fresh-incident",
        "type": "IncidentRevised",
        "data": {"summary": "Later"},
        "reported_at": "soon",
    }
    broken.write_text("\n".join(json.dumps(line) for line in (opened, invalid, revised, dangling, retitled)) + "\n")
    for extra in ((), ("--dry-run",)):
        result = timeline("import", str(broken), "--quiet", *extra, env=env, check=False)
        assert result.returncode == 1
        problems = [line for line in result.stderr.splitlines() if line.startswith("timeline: line ")]
        assert [line.split(":")[1].strip() for line in problems] == ["line 2", "line 3", "line 4", "line 5"], (
            result.stderr
        )
        assert "line 5: conflict: incident 'alex-pretti-shooting' is already open" in problems[3]
        assert "4 lines (1 of them a conflict)" in result.stdout and "nothing" in result.stdout
        assert store.head_position() == 145  # nothing of the bad file was written


def test_a_dry_run_says_what_would_happen_and_writes_nothing(env, store, tmp_path):
    timeline("import", str(SAMPLES), env=env)
    lines = SAMPLES.read_text().splitlines()
    extra = {
        "incident_id": "alex-pretti-shooting",
        "type": "AssertionRanked",
        "data": {"assertion_id": "noem-weapon-claim", "rank": "deprecated", "reason": "contradicted by the videos"},
    }
    extended = tmp_path / "extended.ndjson"
    extended.write_text("\n".join([json.dumps(extra), *reversed(lines)]) + "\n")
    dry = timeline("import", str(extended), "--dry-run", env=env)
    assert dry.stdout.strip() == (
        "dry run: would import 1 event into 1 incident (145 already present, 0 refused); nothing was written"
    )
    assert store.head_position() == 145
    real = timeline("import", str(extended), env=env)
    assert "imported 1 event into 1 incident (145 already present, 0 refused)" in real.stdout
    assert store.head_position() == 146


def test_import_reads_standard_input(env, store):
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "import", "-", "--quiet"],
        input=SAMPLES.read_bytes(),
        env={**os.environ, **env},
        cwd=REPO,
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert b"imported 145 events into 5 incidents and the actors registry" in result.stdout
    assert store.head_position() == 145


def test_export_round_trips_through_import(env, store, tmp_path, request):
    timeline("import", str(SAMPLES), env=env)
    exported = timeline("export", env=env).stdout.splitlines()
    assert len(exported) == 145
    first = json.loads(exported[0])
    assert set(first) >= {
        "position",
        "incident_id",
        "version",
        "event_id",
        "type",
        "schema_version",
        "data",
        "metadata",
        "reported_at",
        "recorded_at",
    }

    dump = tmp_path / "export.ndjson"
    dump.write_text("\n".join(exported) + "\n")
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    timeline("migrate", env={"TIMELINE_DATABASE_URL": other_url})
    timeline("import", str(dump), env={"TIMELINE_DATABASE_URL": other_url})
    again = timeline("import", str(dump), env={"TIMELINE_DATABASE_URL": other_url})
    assert "imported 0 events into 0 incidents (145 already present, 0 refused)" in again.stdout
    from app.db import create_engine

    other = EventStore(create_engine(other_url))

    def log(events):
        return [
            (
                e.position,
                e.event_id,
                e.incident_id,
                e.version,
                e.type,
                e.schema_version,
                e.data,
                e.metadata,
                e.reported_at,
                e.reported_day,
            )
            for e in events
        ]

    assert log(other.read_all(limit=1000)) == log(store.read_all(limit=1000))
    other.engine.dispose()


def test_export_into_head_ends_quietly(env, store):
    """`timeline export | head -n 1`: the reader stops early; the export ends there, exit 0, nothing on stderr."""
    # ~1.5 MB of log, far more than a pipe holds: the export is still writing when head leaves
    store.append("bulk", [NewEvent("IncidentOpened", {"title": "Bulk"})])
    for _ in range(2):
        store.append("bulk", [NewEvent("IncidentRevised", {"summary": "s" * 600}) for _ in range(1000)])
    result = subprocess.run(
        ["sh", "-c", f"{shlex.quote(sys.executable)} -m app.cli export | head -n 1"],
        env={**os.environ, **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and result.stderr == ""
    assert json.loads(result.stdout)["position"] == 1

    export = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "export"],
        env={**os.environ, **env},
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert json.loads(export.stdout.readline())["position"] == 1
    export.stdout.close()  # as head does after its line
    _, stderr = export.communicate(timeout=120)
    assert export.returncode == 0 and stderr == b""


def test_project_once_brings_the_assertion_index_to_the_head(env, store):
    from app.projections.index.projector import Projector
    from app.projections.reader import Timelines

    for n in range(3):
        data = {"assertion_id": f"a{n}", "kind": "shooting", "occurred": "2026-01-24", "headline": f"h{n}"}
        store.append(
            "cli-index", [NewEvent("AssertionRecorded", {**data, "actors": [], "sources": [{"outlet": "CNN"}]}, 2)]
        )
    done = timeline("project", "--once", env=env)
    head = store.head_position()
    assert f"the assertion index is at position {head} (head {head})" in done.stdout
    assert Projector(store, Timelines(store, None)).progress().lag == 0


def test_project_rebuild_swaps_in_a_fresh_copy_that_answers_the_same(env, store):
    from app.projections.index.query import AssertionIndex
    from app.projections.timeline import Filters

    for n in range(5):
        data = {"assertion_id": f"a{n}", "kind": "shooting", "occurred": "2026-01-2" + str(n), "headline": f"h{n}"}
        store.append(
            "cli-index", [NewEvent("AssertionRecorded", {**data, "actors": [], "sources": [{"outlet": "CNN"}]}, 2)]
        )
    timeline("project", "--once", env=env)
    head = store.head_position()
    before = AssertionIndex(store.engine).page(head, Filters(), limit=None).assertions
    done = timeline("project", "--rebuild", env=env)
    assert f"the rebuilt assertion index is live at position {head} (generation 2, replacing 1)" in done.stdout
    assert f"rebuilding the assertion index: position {head} of {head}" in done.stdout
    assert AssertionIndex(store.engine).page(head, Filters(), limit=None).assertions == before != []
    again = timeline("project", "--rebuild", env=env)
    assert "(generation 3, replacing 2)" in again.stdout


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("setting, logged", [(None, True), ("false", False)])
def test_serve_writes_an_access_log_line_per_request_unless_told_not_to(env, tmp_path, setting, logged):
    import httpx

    from tests.support.live import free_port, wait_until_healthy

    extra = {"TIMELINE_LOG_KEY_FILE": str(tmp_path / "log.key"), "TIMELINE_WEBHOOK_DISPATCHER": "false"}
    if setting is not None:
        extra["TIMELINE_ACCESS_LOG"] = setting
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env={**os.environ, **env, **extra},
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process=server)
        for _ in range(3):
            assert httpx.get(f"http://127.0.0.1:{port}/v1/incidents").status_code == 200
    finally:
        server.terminate()
        out, err = server.communicate(timeout=20)
    access = '"GET /v1/incidents HTTP/1.1" 200'
    assert (out.decode().count(access) == 3) is logged, out.decode()[-2000:]
    assert "Application startup complete" in err.decode()  # the service's own lines stay
