"""What changed: across incidents (from the assertion index) and per incident, by recording and by
publication time, on both backends."""

from __future__ import annotations

import pytest

from tests.api.conftest import assertion
from tests.api.test_timeline_samples import samples  # noqa: F401  (the fixture)

PROBLEM = "application/problem+json"
PRETTI = "/v1/incidents/alex-pretti-shooting"


def head(client) -> int:
    return client.get("/healthz").json()["head_position"]


def append(client, writer, incident: str, events: list[dict]) -> None:
    response = client.post(f"/v1/incidents/{incident}/events", json={"events": events}, headers=writer)
    assert response.status_code == 201, response.text


def incident_ids(client) -> list[str]:
    return [incident["id"] for incident in client.get("/v1/incidents").json()["incidents"]]


def later_story(client, writer) -> None:
    """A new claim, a revision, a source and a retraction, in two incidents, reported after the samples."""
    other = next(i for i in incident_ids(client) if i != "alex-pretti-shooting")
    other_claim = client.get(f"/v1/incidents/{other}/timeline").json()["entries"][0]["assertion_id"]
    append(
        client,
        writer,
        "alex-pretti-shooting",
        [
            {**assertion("late-claim", "2026-01-25", headline="A later claim"), "reported_at": "2026-02-05T09:00:00Z"},
            {
                "type": "SourceAttached",
                "data": {"assertion_id": "pretti-shot", "source": {"outlet": "Late Outlet"}},
                "reported_at": "2026-02-04T09:00:00Z",
            },
        ],
    )
    append(
        client,
        writer,
        other,
        [
            {
                "type": "AssertionRevised",
                "data": {"assertion_id": other_claim, "changes": {"headline": "Revised later"}, "reason": "a test"},
                "reported_at": "2026-02-05T10:00:00Z",
            },
            {"type": "AssertionRetracted", "data": {"assertion_id": other_claim, "reason": "a test"}},
        ],
    )


def keyed(changes: dict) -> dict[str, set]:
    return {
        "added": {(e["incident_id"], e["assertion_id"]) for e in changes["added"]},
        "changed": {(c["incident_id"], c["assertion_id"]) for c in changes["changed"]},
        "retracted": {(e["incident_id"], e["assertion_id"]) for e in changes["retracted"]},
    }


def test_changes_across_incidents_are_the_union_of_each_incidents(client, writer, samples):  # noqa: F811
    since = head(client)
    versions = {i: client.get(f"/v1/incidents/{i}").json()["version"] for i in incident_ids(client)}
    later_story(client, writer)
    across = client.get("/v1/changes", params={"since": since})
    assert across.status_code == 200, across.text
    body = across.json()
    assert body["since"]["position"] == since and body["until"]["position"] == head(client)
    union: dict[str, set] = {"added": set(), "changed": set(), "retracted": set()}
    for incident, version in versions.items():
        one = client.get(f"/v1/incidents/{incident}/timeline/changes", params={"since": version}).json()
        union["added"] |= {(incident, e["assertion_id"]) for e in one["added"]}
        union["changed"] |= {(incident, c["assertion_id"]) for c in one["changed"]}
        union["retracted"] |= {(incident, e["assertion_id"]) for e in one["retracted"]}
    assert keyed(body) == union
    assert union["added"] and union["changed"] and union["retracted"], "the later story has one of each"
    (change,) = [c for c in body["changed"] if c["assertion_id"] == "pretti-shot"]
    assert [s["outlet"] for s in change["fields"]["sources"]["after"]][-1] == "Late Outlet"

    only = client.get("/v1/changes", params={"since": since, "incident": "alex-pretti-shooting"}).json()
    assert {incident for incident, _ in keyed(only)["added"] | keyed(only)["changed"]} == {"alex-pretti-shooting"}
    assert client.get("/v1/changes", params={"since": head(client)}).json()["added"] == []


def test_changes_by_publication_time_on_both_endpoints(client, writer, samples):  # noqa: F811
    later_story(client, writer)
    window = {"since_reported": "2026-02-02", "until_reported": "2026-02-04T12:00:00Z"}
    one = client.get(f"{PRETTI}/timeline/changes", params=window).json()
    assert [c["assertion_id"] for c in one["changed"]] == ["pretti-shot"] and one["added"] == []
    assert one["since"]["reported_as_of"] and one["until"]["reported_as_of"]
    across = client.get("/v1/changes", params=window).json()
    assert keyed(across)["changed"] == {("alex-pretti-shooting", "pretti-shot")} and across["added"] == []

    wider = client.get("/v1/changes", params={"since_reported": "2026-02-02", "until_reported": "2026-02-05"}).json()
    assert ("alex-pretti-shooting", "late-claim") in keyed(wider)["added"]
    assert len(keyed(wider)["changed"]) == 2  # the source, and the revision reported on Feb 5


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/changes", {}, "since"),
        (f"{PRETTI}/timeline/changes", {}, "since"),
        ("/v1/changes", {"since": "999999"}, "since"),
        ("/v1/changes", {"since": "2", "until": "1"}, None),
        ("/v1/changes", {"since_reported": "2026-02-05", "until_reported": "2026-02-01"}, None),
        (f"{PRETTI}/timeline/changes", {"since_reported": "2026-02-05", "until_reported": "2026-02-01"}, None),
        ("/v1/changes", {"since_reported": "last tuesday"}, "since_reported"),
    ],
    ids=["no-start", "no-start-one", "past-the-end", "reversed", "reversed-reported", "reversed-one", "not-a-time"],
)
def test_bad_change_bounds_are_explained(client, samples, path, params, field):  # noqa: F811
    response = client.get(path, params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["detail"]
    if field:
        assert field in {e["field"].split(".")[-1] for e in body.get("errors", [])}, body
