"""A publication known to the day is kept, shown and cut off as a day, through the API."""

from __future__ import annotations

from tests.api.conftest import assertion

EVENTS = "/v1/incidents/alex-pretti-shooting/events"
TIMELINE = "/v1/incidents/alex-pretti-shooting/timeline"


def entries(client, **params) -> dict[str, dict]:
    response = client.get(TIMELINE, params=params)
    assert response.status_code == 200, response.text
    return {entry["assertion_id"]: entry for entry in response.json()["entries"]}


def test_a_day_stays_a_day_and_counts_from_its_end(client, incident, writer):
    day_only = {
        **assertion("on-the-day", sources=[{"outlet": "FOX 9", "published_at": "2026-02-02"}]),
        "reported_at": "2026-02-02",
    }
    timed = {**assertion("in-the-afternoon"), "reported_at": "2026-02-02T20:15:00Z"}
    response = client.post(EVENTS, json={"events": [day_only, timed]}, headers=writer)
    assert response.status_code == 201, response.text

    stream = client.get(EVENTS).json()["events"]
    assert [e["reported_at"] for e in stream[1:]] == ["2026-02-02", "2026-02-02T20:15:00Z"]
    assert stream[1]["data"]["sources"][0]["published_at"] == "2026-02-02", "stored as the report gave it"
    shown = entries(client)
    assert shown["on-the-day"]["first_reported_at"] == "2026-02-02"
    assert shown["in-the-afternoon"]["first_reported_at"] == "2026-02-02T20:15:00Z"

    assert set(entries(client, reported_as_of="2026-02-02T20:15:00Z")) == {"in-the-afternoon"}
    assert set(entries(client, reported_as_of="2026-02-02T23:59:59Z")) == {"in-the-afternoon"}
    assert set(entries(client, reported_as_of="2026-02-02")) == {"on-the-day", "in-the-afternoon"}
    assert set(entries(client, reported_as_of="2026-02-01")) == set()


def test_a_day_given_with_an_offset_ends_in_that_offset(client, incident, writer):
    event = {**assertion("minneapolis-evening"), "reported_at": "2026-02-02-06:00"}
    assert client.post(EVENTS, json={"events": [event]}, headers=writer).status_code == 201
    assert client.get(EVENTS).json()["events"][-1]["reported_at"] == "2026-02-02-06:00"
    assert "minneapolis-evening" not in entries(client, reported_as_of="2026-02-02")
    assert "minneapolis-evening" in entries(client, reported_as_of="2026-02-03T06:00:00Z")


def test_the_earliest_publication_is_the_one_public_first(client, incident, writer):
    """A time on the day beats the day itself: the day is only certain once it has ended."""
    recorded = assertion("pretti-shot", sources=[{"outlet": "FOX 9", "published_at": "2026-02-02"}])
    attach = {
        "type": "SourceAttached",
        "data": {"assertion_id": "pretti-shot", "source": {"outlet": "CNN", "published_at": "2026-02-02T15:00:00Z"}},
    }
    response = client.post(EVENTS, json={"events": [{**recorded, "reported_at": "2026-02-02"}, attach]}, headers=writer)
    assert response.status_code == 201, response.text
    assert entries(client)["pretti-shot"]["first_reported_at"] == "2026-02-02T15:00:00Z"


def test_a_day_in_the_future_is_refused_but_today_is_not(client, incident, writer):
    from datetime import date, timedelta

    today, tomorrow = date.today(), date.today() + timedelta(days=2)
    ok = client.post(
        EVENTS, json={"events": [{**assertion("today"), "reported_at": today.isoformat()}]}, headers=writer
    )
    assert ok.status_code == 201, ok.text
    refused = client.post(
        EVENTS, json={"events": [{**assertion("later"), "reported_at": tomorrow.isoformat()}]}, headers=writer
    )
    assert refused.status_code == 422 and "future" in refused.json()["detail"]
