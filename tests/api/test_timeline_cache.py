"""Timeline reads from the rendered-body cache: served again without folding, current as the head
versions say (own appends at once, another process's within the refresh bound), Cache-Control, HEAD."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient

from app import commands
from app.api.main import create_app
from app.api.rendered import ENTRY_OVERHEAD_BYTES, Rendered, RenderedCache
from app.api.routes import timeline as timeline_routes
from app.db import create_engine
from app.projections.heads import HeadVersions
from app.store import EventStore
from tests.api.conftest import assertion

INCIDENT = "alex-pretti-shooting"
TIMELINE = f"/v1/incidents/{INCIDENT}/timeline"
FORMATS = ["json", "timelinejs", "csv", "ndjson"]


@pytest.fixture
def app(settings, engine):
    # Long enough that only appends this process is told of (its own; on PostgreSQL every process's)
    # move the head within a test.
    return create_app(settings.model_copy(update={"timeline_head_refresh_seconds": 3600.0}), engine=engine)


@pytest.fixture
def counted(app, monkeypatch) -> dict[str, int]:
    """How often the timeline was folded and rendered."""
    calls = {"fold": 0, "render": 0}
    reads = app.state.reads
    fold, render = reads.timeline, timeline_routes.render_export

    def counting_fold(*args, **kwargs):
        calls["fold"] += 1
        return fold(*args, **kwargs)

    def counting_render(*args, **kwargs):
        calls["render"] += 1
        return render(*args, **kwargs)

    monkeypatch.setattr(reads, "timeline", counting_fold)
    monkeypatch.setattr(timeline_routes, "render_export", counting_render)
    return calls


@pytest.fixture
def recorded(client, incident, writer) -> str:
    response = client.post(f"/v1/incidents/{incident}/events", json={"events": [assertion("first")]}, headers=writer)
    assert response.status_code == 201, response.text
    return incident


def client_for(settings, engine, **changes) -> TestClient:
    return TestClient(create_app(settings.model_copy(update=changes), engine=engine), raise_server_exceptions=False)


def test_a_repeat_read_is_served_from_the_cache_without_folding(client, recorded, counted):
    first = client.get(TIMELINE)
    again = client.get(TIMELINE)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert counted == {"fold": 1, "render": 1}
    assert [entry["assertion_id"] for entry in again.json()["entries"]] == ["first"]
    unchanged = client.get(TIMELINE, headers={"If-None-Match": first.headers["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == first.headers["etag"]
    assert counted == {"fold": 1, "render": 1}


def test_a_repeat_read_asks_the_database_nothing(client, recorded, app, monkeypatch):
    client.get(TIMELINE)
    asked = []
    store = app.state.store
    for name in ("stream_version", "read_stream", "incident_version"):
        original = getattr(store, name)
        monkeypatch.setattr(
            store, name, lambda *a, _name=name, _original=original, **k: asked.append(_name) or _original(*a, **k)
        )
    assert client.get(TIMELINE).status_code == 200
    assert asked == []


def test_an_append_through_the_api_changes_the_etag_at_once(client, recorded, writer, counted):
    before = client.get(TIMELINE)
    appended = client.post(f"/v1/incidents/{INCIDENT}/events", json={"events": [assertion("second")]}, headers=writer)
    assert appended.status_code == 201
    after = client.get(TIMELINE)
    assert after.headers["etag"] != before.headers["etag"]
    assert after.json()["version"] == appended.json()["version"]
    assert [entry["assertion_id"] for entry in after.json()["entries"]] == ["first", "second"]
    assert client.get(TIMELINE, headers={"If-None-Match": before.headers["etag"]}).status_code == 200


def test_an_actor_registered_through_the_api_changes_the_etag_at_once(client, recorded, writer):
    before = client.get(TIMELINE)
    registered = client.post("/v1/actors", json={"id": "fox-9", "name": "FOX 9", "kind": "outlet"}, headers=writer)
    assert registered.status_code == 201, registered.text
    assert client.get(TIMELINE).headers["etag"] != before.headers["etag"]


def other_process_appends(database_url: str, assertion_id: str) -> int:
    """An append as another process makes it: its own engine and store, no signal to this app."""
    engine = create_engine(database_url)
    try:
        command = commands.EventCommand("AssertionRecorded", assertion(assertion_id)["data"])
        return commands.append_events(EventStore(engine), INCIDENT, [command], actor="elsewhere").version
    finally:
        engine.dispose()


def test_another_process_append_is_not_seen_before_the_bound_on_sqlite(client, recorded, database_url, backend):
    if backend != "sqlite":
        pytest.skip("PostgreSQL tells every process of an append: the next test")
    before = client.get(TIMELINE)
    other_process_appends(database_url, "elsewhere")
    # The bound here is an hour: the copy of the head is trusted, and the body it names is served.
    still = client.get(TIMELINE)
    assert still.headers["etag"] == before.headers["etag"] and still.content == before.content


def test_another_process_append_is_heard_at_once_on_postgresql(client, recorded, database_url, backend):
    if backend != "postgres":
        pytest.skip("SQLite tells nobody of a commit: the test before")
    before = client.get(TIMELINE)
    version = other_process_appends(database_url, "elsewhere")
    # The bound here is an hour, so only the notification can move this process's copy of the head.
    deadline = time.monotonic() + 30  # the notification arrives on the listener's thread; this stops a hang
    seen = before
    while seen.headers["etag"] == before.headers["etag"] and time.monotonic() < deadline:
        time.sleep(0.02)
        seen = client.get(TIMELINE)
    assert seen.headers["etag"] != before.headers["etag"]
    assert seen.json()["version"] == version


def test_another_process_append_is_seen_within_the_bound(settings, engine, database_url, writer):
    with client_for(settings, engine, timeline_head_refresh_seconds=0.2) as client:
        assert client.post("/v1/incidents", json={"id": INCIDENT, "title": "T"}, headers=writer).status_code == 201
        before = client.get(TIMELINE)
        version = other_process_appends(database_url, "elsewhere")
        deadline = time.monotonic() + 30  # bounded polling: the bound is 0.2 s; this only stops a hang
        seen = before
        while seen.headers["etag"] == before.headers["etag"] and time.monotonic() < deadline:
            time.sleep(0.05)
            seen = client.get(TIMELINE)
        assert seen.headers["etag"] != before.headers["etag"]
        assert seen.json()["version"] == version
        assert [entry["assertion_id"] for entry in seen.json()["entries"]] == ["elsewhere"]


def test_each_format_is_kept_on_its_own(client, recorded, counted):
    first = {format: client.get(TIMELINE, params={"format": format}) for format in FORMATS}
    again = {format: client.get(TIMELINE, params={"format": format}) for format in FORMATS}
    assert counted == {"fold": 4, "render": 4}
    assert len({response.headers["etag"] for response in first.values()}) == 4
    for format in FORMATS:
        assert again[format].content == first[format].content
        assert again[format].headers["content-type"] == first[format].headers["content-type"]
    assert first["csv"].headers["content-type"].startswith("text/csv")
    assert "attachment" in again["csv"].headers["content-disposition"]
    assert again["ndjson"].headers["content-type"] == "application/x-ndjson"
    assert json.loads(again["ndjson"].text.splitlines()[0])["assertion_id"] == "first"
    assert again["timelinejs"].json()["events"][0]["unique_id"] == "first"


def test_the_byte_bound_evicts_the_least_recently_used():
    cache = RenderedCache(max_bytes=2 * (100 + ENTRY_OVERHEAD_BYTES))
    body = Rendered(b"x" * 100)
    cache.put("a", body)
    cache.put("b", body)
    assert cache.get("a") is body  # now "b" is the least recently used
    cache.put("c", body)
    assert cache.get("b") is None and cache.get("a") is body and cache.get("c") is body
    assert cache.bytes <= cache.max_bytes and len(cache) == 2
    cache.put("huge", Rendered(b"x" * cache.max_bytes))
    assert cache.get("huge") is None and len(cache) == 2


def test_a_bound_smaller_than_a_body_keeps_nothing(settings, engine, writer, monkeypatch):
    with client_for(settings, engine, timeline_cache_bytes=ENTRY_OVERHEAD_BYTES) as client:
        client.post("/v1/incidents", json={"id": INCIDENT, "title": "T"}, headers=writer)
        client.post(f"/v1/incidents/{INCIDENT}/events", json={"events": [assertion("first")]}, headers=writer)
        calls = []
        reads = client.app.state.reads
        fold = reads.timeline
        monkeypatch.setattr(reads, "timeline", lambda *a, **k: calls.append(1) or fold(*a, **k))
        first, again = client.get(TIMELINE), client.get(TIMELINE)
        assert first.content == again.content and len(calls) == 2
        assert len(client.app.state.rendered) == 0


def test_cache_control_of_public_and_keyed_reads(client, recorded, reader, writer):
    public = client.get(TIMELINE)
    assert public.headers["cache-control"] == "public, max-age=5, stale-while-revalidate=30"
    revalidated = client.get(TIMELINE, headers={"If-None-Match": public.headers["etag"]})
    assert revalidated.status_code == 304
    assert revalidated.headers["cache-control"] == public.headers["cache-control"]
    for key in (reader, writer):  # any key sent makes it the key holder's
        keyed = client.get(TIMELINE, headers=key)
        assert keyed.status_code == 200 and keyed.headers["cache-control"] == "private, no-cache"
        assert keyed.content == public.content


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"timeline_max_age_seconds": 60, "timeline_stale_seconds": 600},
            "public, max-age=60, stale-while-revalidate=600",
        ),
        ({"timeline_max_age_seconds": 7, "timeline_stale_seconds": 0}, "public, max-age=7"),
        ({"timeline_max_age_seconds": 0}, "public, no-cache"),
    ],
)
def test_cache_control_honours_the_settings(settings, engine, writer, changes, expected):
    with client_for(settings, engine, **changes) as client:
        client.post("/v1/incidents", json={"id": INCIDENT, "title": "T"}, headers=writer)
        assert client.get(TIMELINE).headers["cache-control"] == expected


def test_reads_that_need_a_key_are_private(settings, engine, reader, writer):
    with client_for(settings, engine, public_read=False) as client:
        client.post("/v1/incidents", json={"id": INCIDENT, "title": "T"}, headers=writer)
        assert client.get(TIMELINE).status_code == 401
        assert client.get(TIMELINE, headers=reader).headers["cache-control"] == "private, no-cache"


@pytest.mark.parametrize("format", FORMATS)
def test_head_gives_the_headers_and_no_body(client, recorded, format):
    for _ in range(2):  # rendered afresh, then from the cache
        head = client.head(TIMELINE, params={"format": format})
        got = client.get(TIMELINE, params={"format": format})
        assert head.status_code == got.status_code == 200
        assert head.content == b""
        for name in ("etag", "cache-control", "content-type", "content-length"):
            assert head.headers[name] == got.headers[name], name
        assert int(head.headers["content-length"]) == len(got.content)


def test_an_unknown_incident_is_a_404_every_time(client, recorded):
    for _ in range(2):
        missing = client.get("/v1/incidents/no-such-incident/timeline")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
    assert client.get("/v1/incidents/_actors/timeline").status_code == 404


def test_the_head_copy_never_goes_back():
    now = [100.0]
    database = {"s": 5}

    def read(stream_id: str) -> int | None:
        if stream_id == "racing":
            heads.moved("racing", 7)  # our append lands while this refresh is reading version 5
            return 5
        return database.get(stream_id)

    heads = HeadVersions(read, refresh_seconds=1.0, clock=lambda: now[0])
    assert heads.version("s") == 5 and heads.fresh("s") == 5
    heads.moved("s", 7)  # an append of ours
    assert heads.fresh("s") == 7
    heads.moved("s", 6)  # an earlier append of ours, told later
    assert heads.fresh("s") == 7
    assert heads.version("racing") == 7 and heads.fresh("racing") == 7
    now[0] += 1.0
    assert heads.fresh("s") is None  # past the bound: the next read asks again
    database["s"] = 9
    assert heads.version("s") == 9
    assert heads.version("unknown") is None and heads.fresh("unknown") is None
    heads.moved("t", 3)  # a stream first seen by our own append is still read once
    assert heads.fresh("t") is None


def test_while_one_read_refreshes_a_head_the_others_keep_the_copy_for_at_most_the_bound():
    now = [0.0]
    reading: dict[str, int] = {}
    answers: list[int | None] = []
    heads: HeadVersions

    def read(stream_id: str) -> int | None:
        if not reading:
            return 3  # the first read
        # While this caller is at the database, another asks: it is given the copy, not sent too.
        answers.append(heads.fresh(stream_id))
        now[0] += 0.5  # the round trip
        answers.append(heads.fresh(stream_id))
        now[0] += 1.0  # a round trip longer than the bound: no longer trusted
        answers.append(heads.fresh(stream_id))
        return reading[stream_id]

    heads = HeadVersions(read, refresh_seconds=1.0, clock=lambda: now[0])
    assert heads.version("s") == 3
    reading["s"] = 5  # from here the database says 5
    now[0] += 1.0
    assert heads.fresh("s") is None  # due, and nobody is refreshing it: this caller asks
    assert heads.version("s") == 5
    assert answers == [3, 3, None]
    assert heads.fresh("s") is None  # the read began 1.5 s ago: already due again


def test_a_copy_past_the_bound_is_trusted_while_the_watch_says_nothing_was_committed():
    now = [0.0]
    token = [1]
    database = {"s": 3}
    reads: list[str] = []

    def read(stream_id: str) -> int | None:
        reads.append(stream_id)
        return database.get(stream_id)

    heads = HeadVersions(read, refresh_seconds=1.0, clock=lambda: now[0])
    assert heads.version("old") is None
    database["old"] = 1
    assert heads.version("old") == 1  # read before there was a watch: never vouched for by it
    heads.watch(lambda: token[0])
    now[0] = 0.1
    assert heads.version("s") == 3 and reads == ["old", "old", "s"]
    now[0] = 5.0
    assert heads.fresh("s") is None, "the watch was last read long ago: it vouches for nothing"
    assert heads.claim_refresh("s") is None, "read again, it says nothing was committed: no refresh"
    assert heads.fresh("s") == 3 and heads.version("s") == 3 and reads == ["old", "old", "s"]
    assert heads.fresh("old") is None, "read before the watch's first reading"
    token[0] = 2  # a commit, here or elsewhere
    database["s"] = 4
    now[0] = 5.6
    claimed = heads.claim_refresh("s")
    assert claimed == 5.6 and heads.fresh("s") == 3, "given while the claimed refresh reads, as without a watch"
    heads.refresh("s", claimed)
    assert heads.fresh("s") == 4
    now[0] = 9.0
    assert heads.version("s") == 4 and reads == ["old", "old", "s", "s"], "read after the commit: vouched for"
    heads.watch(None)
    assert heads.fresh("s") is None, "no watch: the bound alone"


def test_the_index_follower_polls_nothing_while_nothing_is_committed(
    settings, engine, database_url, writer, monkeypatch
):
    with client_for(settings, engine, index_poll_seconds=0.05) as client:
        assert client.post("/v1/incidents", json={"id": INCIDENT, "title": "T"}, headers=writer).status_code == 201
        projector = client.app.state.reads.follower.projector
        calls: list[float] = []
        catch_up = projector.catch_up

        def counted_catch_up(*args, **kwargs):
            calls.append(time.monotonic())
            return catch_up(*args, **kwargs)

        monkeypatch.setattr(projector, "catch_up", counted_catch_up)
        deadline = time.monotonic() + 30  # settled: the catch-ups after our commit and the index's own
        while (not calls or time.monotonic() - calls[-1] < 0.5) and time.monotonic() < deadline:
            time.sleep(0.05)
        settled = len(calls)
        time.sleep(0.5)  # ten polls
        assert len(calls) == settled, "a poll that found nothing committed ran a catch-up"
        other_process_appends(database_url, "elsewhere")
        head = client.app.state.store.head_position()
        while projector.position() < head and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(calls) > settled and projector.position() == head, "another process's append is followed"
