"""Nothing the store would take and then fail to read back gets in, by any field, parameter or header.

Every input here was once accepted (or answered with a 500) by an earlier version; each must now be
a 4xx problem that names the field, leave the log as it was, and leave every read working.
"""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import assertion

BIG = str(2**64)
EARLY = "0001-01-01T00:00:00+05:00"  # before year 1 once in UTC
LATE = "9999-12-31T23:00:00-12:00"  # after 9999 once in UTC
INCIDENT = "alex-pretti-shooting"
EVENTS = f"/v1/incidents/{INCIDENT}/events"


def batch(*events, **extra) -> dict:
    return {"events": list(events), **extra}


def recorded(**changes) -> dict:
    event = assertion("pretti-poison")
    event["data"].update(changes)
    return event


def with_source(**source) -> dict:
    return recorded(sources=[{"outlet": "FOX 9", **source}])


# (name, method, path, json body or None, extra headers, who, status, field the problem names)
CASES = [
    (
        "reported_at before year 1 in UTC",
        "POST",
        EVENTS,
        batch({**assertion("a"), "reported_at": EARLY}),
        {},
        "writer",
        422,
        "events[0].reported_at",
    ),
    (
        "reported_at after 9999 in UTC",
        "POST",
        EVENTS,
        batch({**assertion("a"), "reported_at": LATE}),
        {},
        "writer",
        422,
        "events[0].reported_at",
    ),
    (
        "an incident opened before year 1",
        "POST",
        "/v1/incidents",
        {"id": "early", "title": "t", "reported_at": EARLY},
        {},
        "writer",
        422,
        "reported_at",
    ),
    (
        "a source published before year 1",
        "POST",
        EVENTS,
        batch(with_source(published_at=EARLY)),
        {},
        "writer",
        422,
        "published_at",
    ),
    (
        "a source published after 9999",
        "POST",
        EVENTS,
        batch(with_source(published_at=LATE)),
        {},
        "writer",
        422,
        "published_at",
    ),
    (
        "an attached source published before year 1",
        "POST",
        EVENTS,
        batch(
            {
                "type": "SourceAttached",
                "data": {"assertion_id": "pretti-shot", "source": {"outlet": "AP", "published_at": EARLY}},
            }
        ),
        {},
        "writer",
        422,
        "published_at",
    ),
    (
        "a NUL in a headline",
        "POST",
        EVENTS,
        batch(recorded(headline="Shot\u0000dead")),
        {},
        "writer",
        422,
        "events[0].data.headline",
    ),
    ("a NUL in a quote", "POST", EVENTS, batch(with_source(quote="\u0000")), {}, "writer", 422, "quote"),
    (
        "a NUL in an incident title",
        "POST",
        "/v1/incidents",
        {"id": "nul-title", "title": "a\u0000b"},
        {},
        "writer",
        422,
        "title",
    ),
    (
        "a lone surrogate in a headline",
        "POST",
        EVENTS,
        batch(recorded(headline="Shot \ud800")),
        {},
        "writer",
        422,
        "events[0].data.headline",
    ),
    (
        "a lone surrogate in a revision",
        "POST",
        EVENTS,
        batch(
            {
                "type": "AssertionRevised",
                "data": {"assertion_id": "pretti-shot", "changes": {"text": "\udfff"}, "reason": "r"},
            }
        ),
        {},
        "writer",
        422,
        "changes.text",
    ),
    (
        "a NUL in an assertion id",
        "POST",
        EVENTS,
        batch(recorded(assertion_id="a\u0000b")),
        {},
        "writer",
        422,
        "assertion_id",
    ),
    (
        "a NUL in metadata",
        "POST",
        EVENTS,
        batch({**assertion("a"), "metadata": {"correlation_id": "c\u0000"}}),
        {},
        "writer",
        422,
        "metadata.correlation_id",
    ),
    ("NaN as a latitude", "POST", EVENTS, None, {}, "writer", 422, "lat"),
    (
        "expected_version past an integer",
        "POST",
        EVENTS,
        batch(assertion("a"), expected_version=2**64),
        {},
        "writer",
        422,
        "expected_version",
    ),
    (
        "a NUL in a subscription description",
        "POST",
        "/v1/subscriptions",
        {"url": "https://receiver.example/hook", "description": "d\u0000"},
        {},
        "webhooks",
        422,
        "description",
    ),
    (
        "after_position past bigint",
        "GET",
        f"/v1/events?after_position={BIG}",
        None,
        {},
        "reader",
        422,
        "after_position",
    ),
    ("after_version past an integer", "GET", f"{EVENTS}?after_version={BIG}", None, {}, "reader", 422, "after_version"),
    (
        "as_of_version past an integer",
        "GET",
        f"/v1/incidents/{INCIDENT}/timeline?as_of_version={BIG}",
        None,
        {},
        "reader",
        422,
        "as_of_version",
    ),
    (
        "a stream resumed past an integer",
        "GET",
        f"/v1/incidents/{INCIDENT}/stream?after_version={BIG}",
        None,
        {},
        "reader",
        422,
        "after_version",
    ),
    (
        "deliveries before past bigint",
        "GET",
        "/v1/subscriptions/{subscription}/deliveries?before=" + BIG,
        None,
        {},
        "webhooks",
        422,
        "before",
    ),
    (
        "a replay from past bigint",
        "POST",
        "/v1/subscriptions/{subscription}/replay",
        {"from_position": 2**64},
        {},
        "webhooks",
        422,
        "from_position",
    ),
    (
        "a superscript digit as since",
        "GET",
        f"/v1/incidents/{INCIDENT}/timeline/changes?since=%C2%B2",
        None,
        {},
        "reader",
        422,
        "since",
    ),
    (
        "a circled digit as until",
        "GET",
        f"/v1/incidents/{INCIDENT}/timeline/changes?since=0&until=%E2%91%A0",
        None,
        {},
        "reader",
        422,
        "until",
    ),
    (
        "since past an integer",
        "GET",
        f"/v1/incidents/{INCIDENT}/timeline/changes?since={BIG}",
        None,
        {},
        "reader",
        422,
        "since",
    ),
    (
        "since after 9999 in UTC",
        "GET",
        f"/v1/incidents/{INCIDENT}/timeline/changes?since={LATE.replace('+', '%2B')}",
        None,
        {},
        "reader",
        422,
        "since",
    ),
    (
        "a superscript digit as Last-Event-ID",
        "GET",
        f"/v1/incidents/{INCIDENT}/stream",
        None,
        {"Last-Event-ID": "²".encode()},
        "reader",
        422,
        "Last-Event-ID",
    ),
    (
        "as_of after 9999 in UTC",
        "GET",
        f"/v1/incidents/{INCIDENT}/timeline?as_of={LATE}",
        None,
        {},
        "reader",
        422,
        "as_of",
    ),
    (
        "reported_as_of before year 1 in UTC",
        "GET",
        f"/v1/incidents/{INCIDENT}/timeline?reported_as_of=0001-01-01T00:00:00%2B12:00",
        None,
        {},
        "reader",
        422,
        "reported_as_of",
    ),
    (
        "as_of before year 1 across incidents",
        "GET",
        "/v1/assertions?as_of=0001-01-01T00:00:00%2B12:00",
        None,
        {},
        "reader",
        422,
        "as_of",
    ),
    ("a NUL in an incident id in the path", "GET", "/v1/incidents/pretti%00/timeline", None, {}, "reader", 422, "path"),
    (
        "a NUL in an appended-to incident id",
        "POST",
        "/v1/incidents/pretti%00/events",
        batch(assertion("a")),
        {},
        "writer",
        422,
        "path",
    ),
    (
        "a NUL in a query parameter",
        "GET",
        "/v1/assertions?attributed_to=No%00em",
        None,
        {},
        "reader",
        422,
        "attributed_to",
    ),
    ("a NUL in a subscription id", "GET", "/v1/subscriptions/a%00b", None, {}, "webhooks", 422, "path"),
]

NAN_BODY = (
    b'{"events": [{"type": "AssertionRecorded", "data": {"assertion_id": "nan", "kind": "shooting",'
    b' "occurred": "2026-01-24", "headline": "h", "sources": [{"outlet": "o"}],'
    b' "location": {"name": "Minneapolis", "lat": NaN, "lon": 1}}}]}'
)

READS = [
    "/v1/incidents",
    f"/v1/incidents/{INCIDENT}",
    f"/v1/incidents/{INCIDENT}/events",
    "/v1/events",
    f"/v1/incidents/{INCIDENT}/timeline",
    f"/v1/incidents/{INCIDENT}/timeline?format=csv",
    f"/v1/incidents/{INCIDENT}/timeline?format=ndjson",
    f"/v1/incidents/{INCIDENT}/timeline?format=timelinejs",
    f"/v1/incidents/{INCIDENT}/timeline?reported_as_of=2026-12-31T00:00:00Z",
    f"/v1/incidents/{INCIDENT}/timeline/changes?since=0",
    "/v1/assertions",
    f"/widget/incidents/{INCIDENT}",
]


@pytest.fixture
def webhooks(keys) -> dict[str, str]:
    _, secret = keys.create("subscriber", frozenset({"webhooks"}))
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def recorded_incident(client, incident, writer) -> str:
    response = client.post(EVENTS, json=batch(assertion("pretti-shot")), headers=writer)
    assert response.status_code == 201, response.text
    return incident


def log_of(store) -> list[dict]:
    return [event.as_dict() for event in store.read_all(limit=10_000)]


def assert_every_read_works(client, reader) -> None:
    for url in READS:
        response = client.get(url, headers=reader)
        assert response.status_code == 200, (url, response.text)


@pytest.mark.parametrize(
    ("name", "method", "path", "body", "extra", "who", "status", "field"), CASES, ids=[c[0] for c in CASES]
)
def test_unstorable_input_is_refused_and_changes_nothing(
    client, store, recorded_incident, writer, reader, webhooks, name, method, path, body, extra, who, status, field
):
    headers = {**{"writer": writer, "reader": reader, "webhooks": webhooks}[who], **extra}
    if "{subscription}" in path:
        created = client.post("/v1/subscriptions", json={"url": "https://receiver.example/hook"}, headers=webhooks)
        assert created.status_code == 201, created.text
        path = path.replace("{subscription}", created.json()["id"])
    before = log_of(store)

    if method == "GET":
        response = client.get(path, headers=headers)
    else:
        # json.dumps keeps a lone surrogate as its \u escape, as a client's JSON encoder would send it
        content = NAN_BODY if body is None else json.dumps(body).encode()
        response = client.post(path, content=content, headers={**headers, "Content-Type": "application/json"})

    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status and problem["detail"]
    assert field in json.dumps(problem), problem
    assert "Traceback" not in response.text
    assert log_of(store) == before
    assert_every_read_works(client, reader)


def test_the_limits_themselves_are_accepted(client, store, recorded_incident, writer, reader):
    """The refusals above are at the edges, not inside them: the last storable values go in and read back."""
    edge = batch(
        {
            **recorded(assertion_id="first-moment", sources=[{"outlet": "AP", "published_at": "0001-01-01T00:00:00Z"}]),
            "reported_at": "0001-01-01T00:00:00Z",
        },
        recorded(assertion_id="last-moment", sources=[{"outlet": "AP", "published_at": "9999-12-31T23:59:59Z"}]),
        recorded(assertion_id="non-bmp", headline="Shot \U0001f4f7 on camera"),
    )
    response = client.post(EVENTS, json=edge, headers=writer)
    assert response.status_code == 201, response.text
    timeline = client.get(f"/v1/incidents/{INCIDENT}/timeline").json()
    shown = {entry["assertion_id"]: entry for entry in timeline["entries"]}
    assert shown["first-moment"]["first_reported_at"] == "0001-01-01T00:00:00Z"
    assert shown["non-bmp"]["headline"] == "Shot \U0001f4f7 on camera"
    assert client.get(f"/v1/events?after_position={2**63 - 1}").status_code == 200
    assert client.get(f"{EVENTS}?after_version={2**31 - 1}").status_code == 200
    assert_every_read_works(client, reader)


def test_the_import_holds_to_the_same_rule(engine, store, tmp_path):
    import io

    from app.importing import ImportError_, import_batches, read_ndjson

    opened = {"incident_id": "imported", "type": "IncidentOpened", "data": {"title": "Imported"}}
    bad_lines = [
        {**opened, "reported_at": EARLY},
        {**opened, "data": {"title": "a\u0000b"}},
        {**opened, "metadata": {"correlation_id": "\ud800"}},
        {**opened, "data": {"title": "t"}, "type": "IncidentOpened", "schema_version": 1, "reported_at": LATE},
    ]
    for line in bad_lines:
        with pytest.raises(ImportError_) as refused:
            import_batches(engine, read_ndjson(io.BytesIO(json.dumps(line).encode() + b"\n")))
        assert "line 1" in str(refused.value)
    assert store.head_position() == 0
