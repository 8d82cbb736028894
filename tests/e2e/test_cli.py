"""The `timeline` command as an operator uses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.store import EventStore
from app.store.keys import KeyRing
from tests.support.live import timeline

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
    assert "imported 122 events into 5 incidents" in first.stdout
    assert "importing" in first.stderr  # the progress bar
    again = timeline("import", str(SAMPLES), env=env)
    assert "imported 0 events" in again.stdout and "122 already present" in again.stdout
    assert store.head_position() == 122

    broken = tmp_path / "broken.ndjson"
    opened = {"incident_id": "fresh-incident", "type": "IncidentOpened", "data": {"title": "Fresh"}}
    invalid = {"incident_id": "fresh-incident", "type": "AssertionRecorded", "data": {"assertion_id": "x"}}
    broken.write_text(json.dumps(opened) + "\n" + json.dumps(invalid) + "\n")
    result = timeline("import", str(broken), env=env, check=False)
    assert result.returncode == 1 and "line 2" in result.stderr
    assert store.head_position() == 122  # nothing of the bad file was written


def test_export_round_trips_through_import(env, store, tmp_path, request):
    timeline("import", str(SAMPLES), env=env)
    exported = timeline("export", env=env).stdout.splitlines()
    assert len(exported) == 122
    first = json.loads(exported[0])
    assert set(first) >= {"position", "incident_id", "version", "event_id", "type", "schema_version", "data",
                          "metadata", "reported_at", "recorded_at"}

    dump = tmp_path / "export.ndjson"
    dump.write_text("\n".join(exported) + "\n")
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    timeline("migrate", env={"TIMELINE_DATABASE_URL": other_url})
    timeline("import", str(dump), env={"TIMELINE_DATABASE_URL": other_url})
    from app.db import create_engine

    other = EventStore(create_engine(other_url))
    copied = other.read_all(limit=1000)
    original = store.read_all(limit=1000)
    assert [(e.event_id, e.incident_id, e.version, e.type, e.data, e.reported_at) for e in copied] == [
        (e.event_id, e.incident_id, e.version, e.type, e.data, e.reported_at) for e in original
    ]
    other.engine.dispose()
