"""Analysts' questions over the sample incidents, served by the assertion index, on both backends.

Each narrowing is checked against the fold-everything read with the same test applied in Python;
exports name their position and digest, and give the same bytes later at that position.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json

import pyarrow.parquet as pq
import pytest

from app.projections.index.search import search_text, words
from app.projections.timeline import Filters
from tests.api.conftest import assertion
from tests.api.test_timeline_samples import samples  # noqa: F401  (the fixture)

PROBLEM = "application/problem+json"


def everything(client, **params) -> dict:
    response = client.get("/v1/assertions", params={"limit": 1000, "include_retracted": "true", **params})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("params", "keep"),
    [
        ({"disputed": "true"}, lambda e: bool(e["disputed_by"])),
        ({"disputed": "false"}, lambda e: not e["disputed_by"]),
        ({"status": "retracted"}, lambda e: e["status"] == "retracted"),
        ({"rank": "preferred"}, lambda e: e["rank"] == "preferred"),
        ({"min_sources": "3"}, lambda e: len(e["sources"]) >= 3),
        (
            {"occurred_from": "2026-01-24", "occurred_to": "2026-01-31", "occurred_match": "within"},
            lambda e: (
                e["occurred"].get("earliest", "") >= "2026-01-24"
                and e["occurred"].get("latest", "9999") <= "2026-01-31"
            ),
        ),
        ({"q": "Body cameras"}, lambda e: {"body", "cameras"} <= set(words(search_text(e)))),
        ({"q": "Noem"}, lambda e: "noem" in words(search_text(e))),
    ],
    ids=["disputed", "undisputed", "retracted", "preferred", "three-sources", "within", "words", "a-name"],
)
def test_each_narrowing_keeps_what_it_says(client, writer, samples, params, keep):  # noqa: F811
    retraction = {"type": "AssertionRetracted", "data": {"assertion_id": "pretti-shot", "reason": "a test"}}
    retracted = client.post("/v1/incidents/alex-pretti-shooting/events", json={"events": [retraction]}, headers=writer)
    assert retracted.status_code == 201, retracted.text
    whole = everything(client)["assertions"]
    expected = [entry for entry in whole if keep(entry)]
    got = everything(client, **params)
    assert got["assertions"] == expected
    assert 0 < len(expected) < len(whole), "the samples should have some of each, not all"


def test_within_is_stricter_than_overlap(client, samples):  # noqa: F811
    window = {"occurred_from": "2026-01-24", "occurred_to": "2026-01-31"}
    overlap = {e["assertion_id"] for e in everything(client, **window)["assertions"]}
    within = {e["assertion_id"] for e in everything(client, occurred_match="within", **window)["assertions"]}
    assert within < overlap


def test_the_fold_path_narrows_the_same_way(app, client, samples):  # noqa: F811
    """The fold-everything path (the reference, and what answers an `as_of_version`) narrows as the index does."""
    from app.projections.index.query import Narrowing
    from app.projections.timeline import CutOff

    reads = app.state.reads
    narrowing = Narrowing(disputed=True, min_sources=2)
    filters = Filters(include_retracted=True)
    folded = reads.fold_assertions(CutOff(), filters, incidents=set(), limit=None, offset=0, narrowing=narrowing)
    indexed = everything(client, disputed="true", min_sources="2")
    assert folded.assertions == indexed["assertions"] and folded.total == indexed["total"] > 0


@pytest.mark.parametrize("format", ["csv", "geojson", "parquet"])
def test_exports_name_their_position_and_give_the_same_bytes_later(client, writer, samples, format):  # noqa: F811
    first = client.get("/v1/assertions", params={"format": format, "disputed": "true"})
    assert first.status_code == 200, first.text
    position = int(first.headers["timeline-position"])
    digest = base64.b64encode(hashlib.sha256(first.content).digest()).decode()
    assert first.headers["content-digest"] == f"sha-256=:{digest}:"
    assert f"assertions-{position}." in first.headers["content-disposition"]

    dispute = {
        "type": "AssertionDisputed",
        "data": {"assertion_id": "pretti-shot", "by_assertion_id": "late-claim", "note": "later"},
    }
    late = assertion("late-claim", "2026-01-25", headline="A later claim")
    appended = client.post(
        "/v1/incidents/alex-pretti-shooting/events", json={"events": [late, dispute]}, headers=writer
    )
    assert appended.status_code == 201, appended.text

    again = client.get("/v1/assertions", params={"format": format, "disputed": "true", "as_of_position": position})
    assert again.content == first.content and again.headers["timeline-position"] == str(position)
    now = client.get("/v1/assertions", params={"format": format, "disputed": "true"})
    assert now.content != first.content and int(now.headers["timeline-position"]) > position

    count = len(everything(client, disputed="true", as_of_position=str(position))["assertions"])
    if format == "csv":
        rows = list(csv.DictReader(io.StringIO(first.content.decode())))
        assert len(rows) == count and rows[0]["event_id"] and rows[0]["disputed"] == "true"
    elif format == "geojson":
        collection = json.loads(first.content)
        assert collection["type"] == "FeatureCollection"
        assert len(collection["features"]) + collection["omitted"] == count
    else:
        assert pq.read_table(io.BytesIO(first.content)).num_rows == count


def test_a_position_not_yet_written_is_refused(client, samples):  # noqa: F811
    head = client.get("/healthz").json()["head_position"]
    response = client.get("/v1/assertions", params={"min_position": head + 10})
    assert response.status_code == 422 and response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["errors"][0]["field"] == "min_position"
    reached = client.get("/v1/assertions", params={"min_position": head})
    assert reached.status_code == 200 and reached.json()["position"] >= head


def test_a_cursor_not_made_here_is_refused(client, samples):  # noqa: F811
    response = client.get("/v1/assertions", params={"cursor": "not-a-cursor"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "cursor"


def test_health_says_how_far_behind_the_index_is(client, samples):  # noqa: F811
    everything(client)
    health = client.get("/healthz").json()
    assert health["assertion_index"] == {"position": health["head_position"], "lag": 0}


def test_search_takes_any_text_as_words(client, samples):  # noqa: F811
    """Query syntax of the search engines never gets through: quotes, operators and stars are words or nothing."""
    for text in ['"', "AND OR NOT", "cam*", "body:cameras", "(noem", "NEAR(a b)", "-", "ü ß", "\u00e9"]:
        response = client.get("/v1/assertions", params={"q": text})
        assert response.status_code == 200, (text, response.text)


@pytest.mark.parametrize("reported", ["2026-02-01", "2026-02-02", "2026-02-04T12:00:00Z", "2026-02-05"])
def test_a_publication_cut_off_is_read_from_the_index_as_the_fold_gives_it(app, client, writer, samples, reported):  # noqa: F811
    from app.projections.timeline import CutOff
    from events.published import parse_published

    # Reported after the samples (all published by Feb 2), and appended out of publication order.
    later = [
        {**assertion("late-claim", "2026-01-25", headline="A later claim"), "reported_at": "2026-02-05T09:00:00Z"},
        {
            "type": "SourceAttached",
            "data": {"assertion_id": "pretti-shot", "source": {"outlet": "Late Outlet"}},
            "reported_at": "2026-02-04T09:00:00Z",
        },
    ]
    appended = client.post("/v1/incidents/alex-pretti-shooting/events", json={"events": later}, headers=writer)
    assert appended.status_code == 201, appended.text
    cut_off = CutOff(reported_as_of=parse_published(reported).moment)
    filters = Filters(include_retracted=True)
    folded = app.state.reads.fold_assertions(cut_off, filters, incidents=set(), limit=None, offset=0)
    indexed = everything(client, reported_as_of=reported)
    assert indexed["assertions"] == folded.assertions
    assert indexed["cut_off"]["reported_as_of"] is not None


@pytest.mark.parametrize(
    "sort", ["occurred", "-occurred", "first_reported", "-first_reported", "recorded", "-recorded"]
)
def test_every_order_pages_by_cursor_without_skips_or_repeats(client, samples, sort):  # noqa: F811
    from app.projections.index.query import SORTS

    whole = everything(client, sort=sort)["assertions"]
    assert whole == sorted(whole, key=SORTS[sort].key, reverse=sort.startswith("-"))
    walked, cursor = [], None
    while True:
        params = {"sort": sort, "limit": 7, "include_retracted": "true", **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/assertions", params=params).json()
        walked += page["assertions"]
        if not (cursor := page["next_cursor"]):
            break
    assert walked == whole


def test_orders_differ_and_a_cursor_keeps_to_its_own(client, samples):  # noqa: F811
    ids = {
        sort: [e["assertion_id"] for e in everything(client, sort=sort)["assertions"]]
        for sort in ("occurred", "recorded")
    }
    assert ids["occurred"] != ids["recorded"] and sorted(ids["occurred"]) == sorted(ids["recorded"])
    newest = everything(client, sort="-recorded")["assertions"]
    assert [e["recorded_at"] for e in newest] == sorted((e["recorded_at"] for e in newest), reverse=True)
    cursor = client.get("/v1/assertions", params={"sort": "recorded", "limit": 3}).json()["next_cursor"]
    refused = client.get("/v1/assertions", params={"sort": "occurred", "limit": 3, "cursor": cursor})
    assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM
    assert "same sort" in refused.json()["detail"]


def test_outlet_and_its_earlier_name_source_agree(client, samples):  # noqa: F811
    by_outlet = everything(client, outlet="cnn")
    assert by_outlet["total"] > 0 and by_outlet == everything(client, source="CNN")
    clash = client.get("/v1/assertions", params={"outlet": "CNN", "source": "FOX 9"})
    assert clash.status_code == 422 and "give one of them" in clash.json()["detail"]


def test_an_actor_is_found_under_every_name_outlets_use(app, client, writer, samples):  # noqa: F811
    from events.names import name_key

    registry = app.state.reads.actors.registry()
    names = registry.names_of("kristi-noem")
    assert {"kristi noem", "noem"} <= names
    # A claim attributed to her as another outlet writes her name, appended now.
    claim = assertion(
        "noem-title", "2026-01-26", headline="Noem defends the agents", attributed_to="DHS Secretary Kristi Noem"
    )
    appended = client.post("/v1/incidents/alex-pretti-shooting/events", json={"events": [claim]}, headers=writer)
    assert appended.status_code == 201, appended.text

    whole = everything(client)["assertions"]
    expected = [e for e in whole if e["attributed_to"] and name_key(e["attributed_to"]) in names]
    got = everything(client, actor="kristi-noem")
    assert got["assertions"] == expected and len({e["attributed_to"] for e in expected}) >= 2
    assert all(e["attributed_to_actor"] == "kristi-noem" for e in got["assertions"])
    assert everything(client, actor="kristi-noem", disputed="true")["total"] <= got["total"]

    # A merged actor's id finds what the one it was merged into said, and the other way round.
    merged = everything(client, actor="dhs-officials")
    assert merged == everything(client, actor="department-of-homeland-security") and merged["total"] > 0

    unknown = client.get("/v1/assertions", params={"actor": "no-such-actor"})
    assert unknown.status_code == 404 and unknown.headers["content-type"] == PROBLEM


def test_an_incident_with_the_incidents_linked_to_it_either_way(client, samples):  # noqa: F811
    links = client.get("/v1/incidents/alex-pretti-shooting").json()["links"]
    linked_to = {link["incident_id"] for link in links}
    linking = {
        incident["id"]
        for incident in client.get("/v1/incidents").json()["incidents"]
        if any(
            link["incident_id"] == "alex-pretti-shooting"
            for link in client.get(f"/v1/incidents/{incident['id']}").json()["links"]
        )
    }
    assert linked_to and linking, "the samples link the Pretti shooting both ways"
    alone = everything(client, incident="alex-pretti-shooting")
    with_links = everything(client, incident="alex-pretti-shooting", linked="true")
    expected = {"alex-pretti-shooting"} | linked_to | linking
    assert {e["incident_id"] for e in with_links["assertions"]} == expected & {
        e["incident_id"] for e in everything(client)["assertions"]
    }
    assert with_links["total"] > alone["total"]
    assert everything(client, linked="true") == everything(client)  # with no incident named, every one
