"""The front-page read answered from memory (app.api.fast_timeline): the same answer as the route's,
byte for byte and header for header, without the router; everything else goes on to the route."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.projections.heads import HeadVersions
from tests.api.conftest import assertion

INCIDENT = "alex-pretti-shooting"
TIMELINE = f"/v1/incidents/{INCIDENT}/timeline"
SAME = ("etag", "cache-control", "content-type", "content-length")


@pytest.fixture
def recorded(client, incident, writer) -> str:
    response = client.post(f"/v1/incidents/{incident}/events", json={"events": [assertion("first")]}, headers=writer)
    assert response.status_code == 201, response.text
    return incident


@pytest.fixture
def routed(app, monkeypatch) -> list[str]:
    """The paths that reached the router, from now on."""
    reached: list[str] = []
    router_class = type(app.router)
    real = router_class.__call__

    async def counting(self, scope, receive, send):
        if scope["type"] == "http":
            reached.append(scope["path"])
        await real(self, scope, receive, send)

    monkeypatch.setattr(router_class, "__call__", counting)
    return reached


def test_a_repeat_public_read_is_answered_as_the_route_answers_without_the_router(client, recorded, routed):
    first = client.get(TIMELINE)  # the route renders it and fills the cache
    assert routed == [TIMELINE]
    again = client.get(TIMELINE)
    assert routed == [TIMELINE], "the repeat read reached the router"
    by_route = client.get(TIMELINE, params={"format": "json"})  # a query: the route answers
    assert routed == [TIMELINE, TIMELINE]
    for answer in (again, by_route):
        assert answer.status_code == 200
        assert answer.content == first.content
        assert {name: answer.headers.get(name) for name in SAME} == {name: first.headers.get(name) for name in SAME}


def test_head_and_if_none_match_are_answered_as_the_route_answers(client, recorded, routed):
    first = client.get(TIMELINE)
    head = client.head(TIMELINE)
    assert head.status_code == 200 and head.content == b""
    assert {name: head.headers.get(name) for name in SAME} == {name: first.headers.get(name) for name in SAME}
    fast = client.get(TIMELINE, headers={"If-None-Match": first.headers["etag"]})
    routed_304 = client.get(TIMELINE, params={"format": "json"}, headers={"If-None-Match": first.headers["etag"]})
    assert fast.status_code == routed_304.status_code == 304
    assert fast.content == routed_304.content == b""
    assert {n: fast.headers.get(n) for n in SAME} == {n: routed_304.headers.get(n) for n in SAME}
    assert routed.count(TIMELINE) == 2  # the first GET and the one with a query


def test_an_append_is_never_hidden_by_the_fast_answer(client, recorded, writer):
    before = client.get(TIMELINE)
    client.get(TIMELINE)
    appended = client.post(f"/v1/incidents/{INCIDENT}/events", json={"events": [assertion("second")]}, headers=writer)
    assert appended.status_code == 201
    after = client.get(TIMELINE)
    assert after.headers["etag"] != before.headers["etag"]
    assert [entry["assertion_id"] for entry in after.json()["entries"]] == ["first", "second"]


def test_a_read_with_a_key_goes_to_the_route_and_is_private(client, recorded, reader, routed):
    client.get(TIMELINE)
    keyed = client.get(TIMELINE, headers=reader)
    assert keyed.status_code == 200 and keyed.headers["cache-control"] == "private, no-cache"
    assert routed == [TIMELINE, TIMELINE]


def test_when_reads_need_a_key_the_fast_answer_is_never_given(settings, engine, writer, reader):
    app = create_app(settings.model_copy(update={"public_read": False}), engine=engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        opened = client.post("/v1/incidents", json={"id": INCIDENT, "title": "T"}, headers=writer)
        assert opened.status_code == 201
        assert client.get(TIMELINE, headers=reader).status_code == 200  # rendered and kept
        refused = client.get(TIMELINE)
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith("application/problem+json")


def test_a_busy_copy_is_claimed_for_a_refresh_past_half_its_life_and_only_once():
    now = [0.0]
    versions = {"s": 3}
    heads = HeadVersions(lambda stream_id: versions[stream_id], refresh_seconds=1.0, clock=lambda: now[0])
    assert heads.version("s") == 3
    assert heads.claim_refresh("s") is None  # young: nothing to do
    now[0] = 0.6
    claimed = heads.claim_refresh("s")
    assert claimed == 0.6
    assert heads.claim_refresh("s") is None  # claimed already
    versions["s"] = 4
    heads.refresh("s", claimed)
    assert heads.fresh("s") == 4
    now[0] = 0.9  # 0.3 s after the refresh began: fresh, and not past half its life again
    assert heads.fresh("s") == 4 and heads.claim_refresh("s") is None
    now[0] = 1.2
    assert heads.claim_refresh("s") == 1.2
    assert heads.claim_refresh("never-read") is None
