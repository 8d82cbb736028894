"""Events an older, laxer version stored still read: every read path answers, the dispatcher delivers.

Each poison value is written straight into the events table, below the checks the write handlers
make today, as the earlier version that let it in would have written it.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.db import utcnow, writer
from app.store import NewEvent
from app.store.appenders import APPEND_LOCK
from app.store.tables import head_position, stream_version, streams
from app.webhooks.dispatcher import Dispatcher
from tests.integration.test_dispatcher import OWNER, Running, webhook_settings
from tests.support.webhook_receiver import Receiver

INCIDENT = "poisoned"
EARLY = "0001-01-01T00:00:00+05:00"
PLUS_FIVE = timezone(timedelta(hours=5))


def source(**extra) -> dict:
    return {"outlet": "FOX 9", **extra}


def recorded(assertion_id: str, **changes) -> dict:
    data = {
        "assertion_id": assertion_id,
        "kind": "shooting",
        "occurred": "2026-01-24",
        "headline": f"Headline {assertion_id}",
        "sources": [source()],
    }
    data.update(changes)
    return data


def store_as_an_older_version(engine, incident_id: str, type_name: str, data: dict, reported_at: str) -> None:
    """One row, as an earlier version's append wrote it: no checks, times given as text."""
    # A writer from the start (BEGIN IMMEDIATE on SQLite, the appends' lock on PostgreSQL), as the
    # real append is: the service's own writers (its assertion index) may commit in between.
    with writer(engine.connect()) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(APPEND_LOCK)))
        position = conn.execute(sa.select(head_position)).scalar_one() + 1
        version = (conn.execute(sa.select(stream_version(incident_id))).scalar() or 0) + 1
        now = utcnow().isoformat(" ")
        if version == 1:
            conn.execute(sa.insert(streams).values(incident_id=incident_id, opened_at=utcnow()))
        # Literal SQL, so the time reaches the column as the text an older version sent, and the
        # JSON as json.dumps wrote it (NUL and lone surrogates as \u escapes).
        conn.execute(
            sa.text(
                "INSERT INTO events (position, incident_id, version, event_id, type, schema_version, data, metadata,"
                " reported_at, recorded_at) VALUES (:position, :incident, :version, :event_id, :type, :schema_version,"
                " :data, '{}', :reported_at, :recorded_at)"
            ),
            {
                "position": position,
                "incident": incident_id,
                "version": version,
                "event_id": f"00000000-0000-4000-8000-{position:012d}",
                "type": type_name,
                "schema_version": 2 if type_name == "AssertionRecorded" else 1,
                "data": json.dumps(data),
                "reported_at": reported_at,
                "recorded_at": now,
            },
        )


@pytest.fixture
def poisoned(backend, engine, store) -> str:
    """An incident holding every poison value an earlier version accepted on this backend."""
    # On SQLite the earlier version failed before writing a time before year 1; the text it would
    # have left is what SQLite's own date functions give for such a time.
    early_reported = "0001-12-31 19:00:00+00 BC" if backend == "postgres" else "0000-12-31 19:00:00.000000"
    store_as_an_older_version(engine, INCIDENT, "IncidentOpened", {"title": "Poisoned"}, early_reported)
    store.append(INCIDENT, [NewEvent("AssertionRecorded", recorded("readable"), 2)])
    for event in (
        recorded("early-source", sources=[source(published_at=EARLY)]),
        recorded("nul-headline", headline="Shot\u0000dead"),
        recorded("lone-surrogate", headline="Shot \ud800"),
        recorded("no-sources", sources=None),
        recorded("bad-date", occurred="last Saturday"),
    ):
        store_as_an_older_version(engine, INCIDENT, "AssertionRecorded", event, utcnow().isoformat(" "))
    store_as_an_older_version(engine, INCIDENT, "AssertionRecorded", recorded("early-reported"), early_reported)
    return INCIDENT


READS = [
    "/v1/incidents",
    f"/v1/incidents/{INCIDENT}",
    f"/v1/incidents/{INCIDENT}/events",
    "/v1/events",
    f"/v1/incidents/{INCIDENT}/timeline",
    f"/v1/incidents/{INCIDENT}/timeline?format=csv",
    f"/v1/incidents/{INCIDENT}/timeline?format=ndjson",
    f"/v1/incidents/{INCIDENT}/timeline?format=timelinejs",
    f"/v1/incidents/{INCIDENT}/timeline?history=true",
    f"/v1/incidents/{INCIDENT}/timeline?reported_as_of=2026-01-01T00:00:00Z",
    f"/v1/incidents/{INCIDENT}/timeline?as_of_version=3",
    f"/v1/incidents/{INCIDENT}/timeline/changes?since=0",
    f"/v1/incidents/{INCIDENT}/timeline/changes?since=2&until=5",
    "/v1/assertions",
    f"/widget/incidents/{INCIDENT}",
]


@pytest.fixture
def client(settings, engine):
    with TestClient(create_app(settings, engine=engine), raise_server_exceptions=False) as client:
        yield client


def test_every_read_path_survives_what_is_stored(client, poisoned, caplog):
    with caplog.at_level(logging.WARNING, logger="timeline"):
        for url in READS:
            response = client.get(url)
            assert response.status_code == 200, (url, response.text)
        for url in READS:  # and again: snapshots, caches and the "logged once" bookkeeping change nothing
            assert client.get(url).status_code == 200, url

    events_page = client.get(f"/v1/incidents/{INCIDENT}/events").json()["events"]
    opened = events_page[0]
    assert opened["reported_at"] == "0001-01-01T00:00:00Z"
    assert opened["unreadable"][0]["field"] == "reported_at", "the clamped time is flagged, not passed off as stored"
    assert [e["version"] for e in events_page] == list(range(1, 9)), "nothing is left out of the raw stream"

    timeline = client.get(f"/v1/incidents/{INCIDENT}/timeline").json()
    shown = {entry["assertion_id"]: entry for entry in timeline["entries"]}
    assert {"readable", "early-source", "nul-headline", "lone-surrogate", "bad-date", "early-reported"} <= set(shown)
    assert shown["early-source"]["first_reported_at"] == "0001-01-01T00:00:00Z"
    assert shown["nul-headline"]["headline"] == "Shot\u0000dead", "read as stored"
    assert shown["bad-date"]["occurred"] == {"edtf": "last Saturday"}
    assert [problem["version"] for problem in timeline["unreadable"]] == [6], "the event with no sources is flagged"
    listed = client.get("/v1/incidents").json()["incidents"]
    assert [i["title"] for i in listed if i["id"] == INCIDENT] == ["Poisoned"]
    unreadable_logs = [r for r in caplog.records if "cannot be read by this version" in r.getMessage()]
    assert len(unreadable_logs) == 1, "each unreadable event is logged once per process"


def test_the_incident_still_takes_appends_that_check_its_assertions(client, poisoned, keys, store):
    _, secret = keys.create("newsdesk", frozenset({"write"}))
    headers = {"Authorization": f"Bearer {secret}"}
    batch = {
        "events": [
            {"type": "AssertionRecorded", "data": recorded("after-the-poison")},
            {"type": "AssertionRetracted", "data": {"assertion_id": "nul-headline", "reason": "garbled"}},
            {"type": "SourceAttached", "data": {"assertion_id": "readable", "source": source(outlet="AP")}},
        ]
    }
    response = client.post(f"/v1/incidents/{INCIDENT}/events", json=batch, headers=headers)
    assert response.status_code == 201, response.text
    again = client.post(f"/v1/incidents/{INCIDENT}/events", json={"events": batch["events"][:1]}, headers=headers)
    assert again.status_code == 422 and "already recorded" in again.text, "the reference check still reads the ids"
    assert client.get(f"/v1/incidents/{INCIDENT}/timeline").status_code == 200


def test_the_dispatcher_delivers_past_what_is_stored(database_url, engine, store, poisoned):
    from app.webhooks.subscriptions import Subscriptions

    with Receiver() as receiver:
        subscription, secret = Subscriptions(engine).create(OWNER, receiver.url, from_position=1)
        receiver.secrets.append(secret)
        with Running(Dispatcher(engine, webhook_settings(database_url))):
            store.append(INCIDENT, [NewEvent("AssertionRecorded", recorded("later"), 2)])
            head = store.head_position()
            receiver.wait_for(lambda r: len(r.delivered_ids()) == head, what=f"all {head} events, poison included")
        delivered = receiver.delivered()
    versions = sorted({r.version for r in delivered})
    assert versions == list(range(1, 10))
    opened = next(r for r in delivered if r.version == 1)
    assert opened.raw["reportedat"] == "0001-01-01T00:00:00Z"
    assert opened.verified_with == (0,)
    assert datetime.fromisoformat(opened.raw["time"].replace("Z", "+00:00")) <= utcnow()
