"""Bad input gets a clear 4xx problem+json, never a 500, and the log does not change."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import assertion

GOOD_BATCH = {"events": [assertion("pretti-shot")]}


def _json(body) -> dict:
    return {"content": json.dumps(body).encode(), "content_type": "application/json"}


CASES = [
    # (name, path, request parts, headers kind, expected status, text the detail must mention)
    (
        "malformed JSON",
        "/events",
        {"content": b'{"events": [', "content_type": "application/json"},
        "writer",
        400,
        "not valid JSON",
    ),
    ("body is a list", "/events", _json([1, 2]), "writer", 422, "body"),
    ("events is not a list", "/events", _json({"events": "many"}), "writer", 422, "events"),
    (
        "expected_version is a string",
        "/events",
        _json({"expected_version": "one", **GOOD_BATCH}),
        "writer",
        422,
        "expected_version",
    ),
    (
        "negative expected_version",
        "/events",
        _json({"expected_version": -1, **GOOD_BATCH}),
        "writer",
        422,
        "expected_version",
    ),
    ("unknown field", "/events", _json({"evnts": []}), "writer", 422, "evnts"),
    (
        "unknown event type",
        "/events",
        _json({"events": [{"type": "AssertionInvented", "data": {}}]}),
        "writer",
        422,
        "events[0].type",
    ),
    (
        "data is not an object",
        "/events",
        _json({"events": [{"type": "AssertionRecorded", "data": "x"}]}),
        "writer",
        422,
        "events[0].data",
    ),
    (
        "missing headline",
        "/events",
        _json(
            {
                "events": [
                    {
                        "type": "AssertionRecorded",
                        "data": {k: v for k, v in assertion("x")["data"].items() if k != "headline"},
                    }
                ]
            }
        ),
        "writer",
        422,
        "events[0].data.headline",
    ),
    (
        "unknown kind",
        "/events",
        _json({"events": [assertion("x", kind="rumour")]}),
        "writer",
        422,
        "events[0].data.kind",
    ),
    ("no sources", "/events", _json({"events": [assertion("x", sources=[])]}), "writer", 422, "at least one source"),
    (
        "invalid EDTF",
        "/events",
        _json({"events": [assertion("x", occurred="last Saturday")]}),
        "writer",
        422,
        "events[0].data.occurred",
    ),
    (
        "impossible date",
        "/events",
        _json({"events": [assertion("x", occurred="2026-02-30")]}),
        "writer",
        422,
        "events[0].data.occurred",
    ),
    (
        "second event invalid",
        "/events",
        _json({"events": [assertion("ok"), assertion("bad", occurred="2026-13")]}),
        "writer",
        422,
        "events[1].data.occurred",
    ),
    (
        "dispute of an unknown assertion",
        "/events",
        _json(
            {"events": [{"type": "AssertionDisputed", "data": {"assertion_id": "ghost", "by_assertion_id": "other"}}]}
        ),
        "writer",
        422,
        "ghost",
    ),
    (
        "reported_at without zone",
        "/events",
        _json({"events": [{**assertion("x"), "reported_at": "2026-02-02T12:00:00"}]}),
        "writer",
        422,
        "reported_at",
    ),
    (
        "reported_at in the future",
        "/events",
        _json({"events": [{**assertion("x"), "reported_at": "2099-01-01T00:00:00Z"}]}),
        "writer",
        422,
        "future",
    ),
    (
        "IncidentOpened again",
        "/events",
        _json({"events": [{"type": "IncidentOpened", "data": {"title": "t"}}]}),
        "writer",
        422,
        "already open",
    ),
    ("empty batch", "/events", _json({"events": []}), "writer", 422, "events"),
    (
        "batch over 1000 events",
        "/events",
        _json({"events": [assertion(f"a{i}") for i in range(1001)]}),
        "writer",
        422,
        "events",
    ),
    (
        "oversized body",
        "/events",
        {"content": b'{"events": [' + b" " * (1024 * 1024) + b"]}", "content_type": "application/json"},
        "writer",
        413,
        "limited to",
    ),
    (
        "wrong content type",
        "/events",
        {"content": json.dumps(GOOD_BATCH).encode(), "content_type": "text/plain"},
        "writer",
        415,
        "application/json",
    ),
    (
        "no content type",
        "/events",
        {"content": json.dumps(GOOD_BATCH).encode(), "content_type": None},
        "writer",
        415,
        "application/json",
    ),
    ("no key", "/events", _json(GOOD_BATCH), "none", 401, "API key"),
    ("bad key", "/events", _json(GOOD_BATCH), "bad", 401, "unknown or has been revoked"),
    ("not a bearer key", "/events", _json(GOOD_BATCH), "basic", 401, "Bearer"),
    ("key without write scope", "/events", _json(GOOD_BATCH), "reader", 403, "'write' scope"),
    (
        "stale version",
        "/events",
        _json({"expected_version": 0, **GOOD_BATCH}),
        "writer",
        409,
        "not the expected version 0",
    ),
    ("unknown incident", "/../no-such-incident/events", _json(GOOD_BATCH), "writer", 404, "no-such-incident"),
    ("incident id not a slug", "", _json({"id": "Not A Slug", "title": "t"}), "writer-open", 422, "id"),
    ("incident without title", "", _json({"id": "new-one"}), "writer-open", 422, "title"),
    (
        "incident that exists",
        "",
        _json({"id": "alex-pretti-shooting", "title": "again"}),
        "writer-open",
        409,
        "already exists",
    ),
]


def _export(store) -> list:
    return [event.as_dict() for event in store.read_all(limit=10_000)]


@pytest.mark.parametrize(("name", "path", "parts", "who", "status", "mention"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_a_clear_problem_and_changes_nothing(
    client, store, incident, writer, reader, name, path, parts, who, status, mention
):
    headers = {
        "writer": writer,
        "writer-open": writer,
        "reader": reader,
        "none": {},
        "bad": {"Authorization": "Bearer tl_nope_nope"},
        "basic": {"Authorization": "Basic dXNlcjpwYXNz"},
    }[who].copy()
    if parts.get("content_type"):
        headers["Content-Type"] = parts["content_type"]
    url = "/v1/incidents" if who == "writer-open" else f"/v1/incidents/{incident}{path}"
    url = url.replace(f"{incident}/../", "")
    before = _export(store)

    response = client.post(url, content=parts["content"], headers=headers)

    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status and problem["title"] and mention in json.dumps(problem)
    assert "Traceback" not in response.text
    assert _export(store) == before


def test_a_reused_idempotency_key_with_another_body_is_refused(client, store, incident, writer):
    headers = {**writer, "Idempotency-Key": "req-1"}
    first = client.post(f"/v1/incidents/{incident}/events", json=GOOD_BATCH, headers=headers)
    assert first.status_code == 201
    before = _export(store)
    other = client.post(f"/v1/incidents/{incident}/events", json={"events": [assertion("other")]}, headers=headers)
    assert other.status_code == 422
    assert other.headers["content-type"].startswith("application/problem+json")
    assert "already used" in other.json()["detail"]
    assert _export(store) == before


def test_an_idempotent_repeat_returns_the_original_status_and_body(client, store, incident, writer):
    headers = {**writer, "Idempotency-Key": "req-1"}
    first = client.post(f"/v1/incidents/{incident}/events", json=GOOD_BATCH, headers=headers)
    again = client.post(f"/v1/incidents/{incident}/events", json=GOOD_BATCH, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert len(store.read_stream(incident)) == 2


def test_reads_reject_bad_paging(client, incident):
    for url in (
        "/v1/events?limit=0",
        "/v1/events?limit=1001",
        "/v1/events?after_position=-1",
        f"/v1/incidents/{incident}/events?after_version=x",
    ):
        response = client.get(url)
        assert response.status_code == 422, url
        assert response.headers["content-type"].startswith("application/problem+json")
