"""Stored events rendered as CloudEvents 1.0 structured JSON."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from cloudevents.core.bindings.http import HTTPMessage, from_http_event

from app.webhooks.cloudevent import CONTENT_TYPE, cloudevent_type, rfc3339, to_cloudevent

EVENT_ID = uuid.UUID("0b8f6c1e-2d4a-4c1b-9f3e-7a5d2c6b8e10")
RECORDED = datetime(2026, 1, 27, 9, 15, 30, 250000, tzinfo=timezone.utc)
REPORTED = datetime(2026, 1, 24, 14, 30, tzinfo=timezone(timedelta(hours=-6)))


def stored_event(**changes):
    event = {
        "position": 1042,
        "incident_id": "minneapolis-shooting-2026",
        "version": 7,
        "event_id": EVENT_ID,
        "type": "AssertionRecorded",
        "schema_version": 2,
        "data": {
            "assertion_id": "a-17",
            "kind": "official_statement",
            "occurred": "2026-01-24",
            "headline": "Police chief: officer placed on leave — “standard procedure”",
            "sources": [{"outlet": "Star Tribune", "url": "https://example.com/a"}],
        },
        "metadata": {"actor": "editor-key-3", "correlation_id": "corr-9", "causation_id": None},
        "reported_at": REPORTED,
        "recorded_at": RECORDED,
    }
    event.update(changes)
    return event


def parse(body: str):
    return from_http_event(HTTPMessage(headers={"content-type": CONTENT_TYPE}, body=body.encode("utf-8")))


def test_raw_json_carries_every_required_and_promised_attribute():
    raw = json.loads(to_cloudevent(stored_event(), source="https://timeline.example.org"))
    assert raw == {
        "specversion": "1.0",
        "id": str(EVENT_ID),
        "source": "https://timeline.example.org/v1/incidents/minneapolis-shooting-2026",
        "type": "org.incident-timeline.AssertionRecorded.v2",
        "subject": "minneapolis-shooting-2026",
        "time": "2026-01-27T09:15:30.250000Z",
        "datacontenttype": "application/json",
        "incidentversion": 7,
        "position": 1042,
        "treesize": 1042,
        "reportedat": "2026-01-24T20:30:00Z",
        "correlationid": "corr-9",
        "data": stored_event()["data"],
    }


def test_the_cloudevents_sdk_reads_it_back():
    event = parse(to_cloudevent(stored_event(), source="https://timeline.example.org/"))
    assert event.get_specversion() == "1.0"
    assert event.get_id() == str(EVENT_ID)
    assert event.get_source() == "https://timeline.example.org/v1/incidents/minneapolis-shooting-2026"
    assert event.get_type() == "org.incident-timeline.AssertionRecorded.v2"
    assert event.get_subject() == "minneapolis-shooting-2026"
    assert event.get_time() == RECORDED
    assert event.get_datacontenttype() == "application/json"
    assert event.get_extension("incidentversion") == 7
    assert event.get_extension("position") == 1042
    assert event.get_data() == stored_event()["data"]


def test_extension_names_are_legal():
    raw = json.loads(to_cloudevent(stored_event(), source=""))
    core = {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data"}
    for name in set(raw) - core:
        assert name.isascii() and name.isalnum() and name == name.lower(), name


def test_an_empty_base_source_gives_a_relative_uri_reference():
    raw = json.loads(to_cloudevent(stored_event(), source=""))
    assert raw["source"] == "/v1/incidents/minneapolis-shooting-2026"


def test_the_actors_registrys_events_come_from_its_own_resource():
    registered = stored_event(
        incident_id="_actors", type="ActorRegistered", schema_version=1, data={"actor_id": "x", "name": "X"}
    )
    raw = json.loads(to_cloudevent(registered, source="https://timeline.example"))
    assert raw["source"] == "https://timeline.example/v1/actors" and raw["subject"] == "_actors"


def test_the_body_is_deterministic_and_ascii():
    first = to_cloudevent(stored_event(), source="/timeline")
    assert first == to_cloudevent(stored_event(), source="/timeline")
    assert first.isascii()
    assert json.loads(first)["data"]["headline"].endswith("“standard procedure”")


def test_times_are_converted_to_utc():
    recorded = datetime(2026, 1, 27, 11, 0, tzinfo=timezone(timedelta(hours=2)))
    raw = json.loads(to_cloudevent(stored_event(recorded_at=recorded), source=""))
    assert raw["time"] == "2026-01-27T09:00:00Z"


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        to_cloudevent(stored_event(recorded_at=datetime(2026, 1, 27, 9, 0)), source="")


def test_missing_optional_envelope_parts_are_left_out():
    raw = json.loads(to_cloudevent(stored_event(reported_at=None, metadata={}), source=""))
    assert "reportedat" not in raw and "correlationid" not in raw and "causationid" not in raw


def test_the_required_attributes_are_never_left_to_the_parser_to_invent():
    # The SDK fills in a missing id/time, so the raw body is what proves they are sent.
    raw = json.loads(to_cloudevent(stored_event(), source=""))
    for name in ("id", "source", "specversion", "type", "time", "subject"):
        assert raw[name]


def test_helpers():
    assert cloudevent_type("IncidentOpened", 1) == "org.incident-timeline.IncidentOpened.v1"
    assert rfc3339("2026-01-24T14:30:00+01:00") == "2026-01-24T13:30:00Z"
    assert CONTENT_TYPE == "application/cloudevents+json; charset=utf-8"
