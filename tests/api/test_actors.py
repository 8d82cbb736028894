"""The actors registry over HTTP, on both backends: its routes and refusals, its reserved stream, and
the actor ids that timelines, answers across incidents and proposals carry beside the names."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pytest

from app import commands
from app.importing import import_batches, import_file, read_ndjson
from app.store import NewEvent, VersionConflict
from events.actors import ACTORS_STREAM, NameTaken
from tests.api.conftest import assertion

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples" / "minneapolis-2026.ndjson"
NOEM = {"id": "kristi-noem", "name": "Kristi Noem", "kind": "person", "aliases": ["DHS Secretary Kristi Noem"]}
PROBLEM = "application/problem+json"


def register(client, writer, body: dict, status: int = 201) -> dict:
    response = client.post("/v1/actors", json=body, headers=writer)
    assert response.status_code == status, response.text
    return response.json()


def problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["type"].endswith(f"/{slug}") and body["detail"], body
    return body


def registry_version(client) -> int:
    return client.get("/v1/actors").json()["version"]


# -- the routes ---------------------------------------------------------------------------------


def test_an_actor_is_registered_and_read_back(client, writer):
    written = register(client, writer, NOEM)
    actor = written["actor"]
    assert actor["id"] == "kristi-noem" and actor["kind"] == "person"
    assert actor["aliases"] == ["DHS Secretary Kristi Noem"]
    assert actor["names"] == ["Kristi Noem", "DHS Secretary Kristi Noem"]
    assert actor["normalised_names"] == ["kristi noem", "noem"]  # the title is no part of a name
    assert written["version"] == 1 and len(written["positions"]) == 1

    response = client.get("/v1/actors/kristi-noem")
    assert response.status_code == 200 and response.json() == actor
    listed = client.get("/v1/actors").json()
    assert listed == {"version": 1, "actors": [actor]}


def test_registering_answers_with_where_the_actor_is(client, writer):
    response = client.post("/v1/actors", json=NOEM, headers=writer)
    assert response.status_code == 201 and response.headers["location"] == "/v1/actors/kristi-noem"


def test_q_finds_actors_by_name(client, writer):
    register(client, writer, NOEM)
    register(client, writer, {"id": "dhs", "name": "Department of Homeland Security", "kind": "body"})
    found = lambda q: [a["id"] for a in client.get("/v1/actors", params={"q": q}).json()["actors"]]  # noqa: E731
    assert found("noem") == ["kristi-noem"]
    assert found("Ms. Noem") == ["kristi-noem"]
    assert found("homeland") == found("DHS") == ["dhs"]
    assert found("nobody") == []


def test_an_alias_is_added_once(client, writer, store):
    register(client, writer, NOEM)
    added = client.post(
        "/v1/actors/kristi-noem/aliases", json={"alias": "Secretary Noem of South Dakota"}, headers=writer
    )
    assert added.status_code == 201, added.text
    assert added.json()["actor"]["aliases"][-1] == "Secretary Noem of South Dakota"
    head = store.head_position()
    again = client.post("/v1/actors/kristi-noem/aliases", json={"alias": "Kristi  NOEM"}, headers=writer)
    assert again.status_code == 200 and again.json()["positions"] == [], "a name the actor has changes nothing"
    assert store.head_position() == head


def test_a_name_that_belongs_to_another_actor_is_refused(client, writer, store):
    register(client, writer, NOEM)
    register(client, writer, {"id": "tom-homan", "name": "Tom Homan", "kind": "person"})
    head = store.head_position()
    taken = problem(
        client.post("/v1/actors/tom-homan/aliases", json={"alias": "Ms. Kristi Noem"}, headers=writer),
        409,
        "name-taken",
    )
    assert taken["actor_id"] == "kristi-noem" and "merge" in taken["detail"]
    problem(client.post("/v1/actors", json={**NOEM, "id": "noem-2"}, headers=writer), 409, "name-taken")
    problem(client.post("/v1/actors", json={**NOEM, "name": "Someone"}, headers=writer), 409, "actor-exists")
    assert store.head_position() == head, "nothing written"


def test_merging_redirects_the_merged_actor_and_refuses_a_cycle(client, writer):
    register(client, writer, {"id": "dhs", "name": "Department of Homeland Security", "kind": "body"})
    register(client, writer, {"id": "dhs-officials", "name": "DHS officials", "kind": "group"})
    merged = client.post("/v1/actors/dhs/merge", json={"actor_id": "dhs-officials"}, headers=writer)
    assert merged.status_code == 201, merged.text
    assert merged.json()["actor"]["merged_actor_ids"] == ["dhs-officials"]
    shown = client.get("/v1/actors/dhs-officials").json()
    assert shown["id"] == "dhs" and "DHS officials" in shown["names"]
    assert [a["id"] for a in client.get("/v1/actors").json()["actors"]] == ["dhs"]

    again = client.post("/v1/actors/dhs/merge", json={"actor_id": "dhs-officials"}, headers=writer)
    assert again.status_code == 200 and again.json()["positions"] == []
    problem(client.post("/v1/actors/dhs-officials/merge", json={"actor_id": "dhs"}, headers=writer), 409, "merge-cycle")
    register(client, writer, {"id": "cbp", "name": "Customs and Border Protection", "kind": "body"})
    into_merged = problem(
        client.post("/v1/actors/dhs-officials/merge", json={"actor_id": "cbp"}, headers=writer), 409, "actor-merged"
    )
    assert into_merged["merged_into"] == "dhs"


@pytest.mark.parametrize(
    ("path", "body", "status", "slug", "field"),
    [
        ("/v1/actors/nobody/aliases", {"alias": "Nobody"}, 404, "actor-not-found", None),
        ("/v1/actors/nobody/merge", {"actor_id": "kristi-noem"}, 404, "actor-not-found", None),
        ("/v1/actors/kristi-noem/merge", {"actor_id": "nobody"}, 422, "unknown-actor", "actor_id"),
        ("/v1/actors/kristi-noem/merge", {"actor_id": "kristi-noem"}, 422, "invalid-event", "events[0].data"),
        ("/v1/actors", {"id": "Kristi Noem", "name": "Kristi Noem"}, 422, "invalid-request", "id"),
        ("/v1/actors", {"id": "x", "name": "?!"}, 422, "invalid-request", "name"),
        ("/v1/actors", {"id": "x", "name": "X", "kind": "celebrity"}, 422, "invalid-request", "kind"),
        ("/v1/actors", {"id": "x", "name": "X", "surprise": 1}, 422, "invalid-request", "surprise"),
        ("/v1/actors/kristi-noem/aliases", {"alias": ""}, 422, "invalid-request", "alias"),
    ],
)
def test_bad_requests_say_what_is_wrong(client, writer, store, path, body, status, slug, field):
    register(client, writer, NOEM)
    head = store.head_position()
    found = problem(client.post(path, json=body, headers=writer), status, slug)
    if field is not None:
        assert field in [error["field"] for error in found["errors"]], found
    assert store.head_position() == head


def test_writes_need_the_write_scope(client, reader):
    assert client.post("/v1/actors", json=NOEM).status_code == 401
    assert client.post("/v1/actors", json=NOEM, headers=reader).status_code == 403
    assert client.get("/v1/actors/nobody").status_code == 404


# -- optimistic concurrency ---------------------------------------------------------------------


def test_a_stale_expected_version_is_a_409_and_writes_nothing(client, writer, store):
    register(client, writer, {**NOEM, "expected_version": 0})
    head = store.head_position()
    stale = problem(
        client.post("/v1/actors", json={"id": "tom-homan", "name": "Tom Homan", "expected_version": 0}, headers=writer),
        409,
        "version-conflict",
    )
    assert (stale["expected_version"], stale["current_version"]) == (0, 1)
    assert "actors registry" in stale["detail"]
    assert store.head_position() == head
    current = {"alias": "Noem", "expected_version": registry_version(client)}
    assert client.post("/v1/actors/kristi-noem/aliases", json=current, headers=writer).status_code == 201


def _racing(store, monkeypatch) -> None:
    """Let another writer's registration land between the checks and the append, once."""
    appending = store.append
    raced = []

    def append(stream, events, **kwargs):
        if stream == ACTORS_STREAM and not raced:
            raced.append(True)
            racer = NewEvent("ActorRegistered", {"actor_id": "racer", "name": "Kristi Noem"}, metadata={"actor": "x"})
            appending(ACTORS_STREAM, [racer])
        return appending(stream, events, **kwargs)

    monkeypatch.setattr(store, "append", append)


def test_a_write_raced_by_another_is_checked_again_or_refused_never_lost(store, monkeypatch):
    _racing(store, monkeypatch)
    with pytest.raises(NameTaken):  # checked again against the registry the racer made: the name is taken
        commands.register_actor(store, "kristi-noem", "Kristi Noem", actor="desk")
    registry = commands.registry_of(store)
    assert [a.id for a in registry.all()] == ["racer"] and registry.refused == []

    monkeypatch.undo()
    _racing(store, monkeypatch)
    with pytest.raises(VersionConflict):  # a request that named its version gets the conflict
        commands.register_actor(store, "tom-homan", "Tom Homan", actor="desk", expected_version=1)
    assert [a.id for a in commands.registry_of(store).all()] == ["racer"]


def test_concurrent_writers_of_one_name_leave_exactly_one_owner(client, writer, store):
    results: list[int] = []

    def claim(n: int) -> None:
        response = client.post("/v1/actors", json={"id": f"claimant-{n}", "name": "Tom Homan"}, headers=writer)
        results.append(response.status_code)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [201, 409, 409, 409], results
    registry = commands.registry_of(store)
    assert len(registry.all()) == 1 and registry.refused == []


# -- the reserved stream ------------------------------------------------------------------------


def test_the_registrys_stream_is_no_incident(client, writer, incident):
    register(client, writer, NOEM)
    assert [i["id"] for i in client.get("/v1/incidents").json()["incidents"]] == [incident]
    for path in (
        "/v1/incidents/_actors",
        "/v1/incidents/_actors/events",
        "/v1/incidents/_actors/timeline",
        "/v1/incidents/_actors/timeline/changes?since=0",
    ):
        found = problem(client.get(path), 404, "incident-not-found")
        assert "actors registry" in found["detail"], path
    assert client.get("/widget/incidents/_actors").status_code == 404
    appended = client.post("/v1/incidents/_actors/events", json={"events": [assertion("a")]}, headers=writer)
    assert "actors registry" in problem(appended, 404, "incident-not-found")["detail"]
    problem(client.post("/v1/incidents", json={"id": "_actors", "title": "x"}, headers=writer), 422, "invalid-request")
    # The global log holds everything, the registry's events too.
    logged = client.get("/v1/events", params={"after_position": 0}).json()["events"]
    assert [e["incident_id"] for e in logged] == [incident, ACTORS_STREAM]


def test_actor_events_go_to_the_registry_not_to_an_incident(client, writer, incident, store):
    head = store.head_position()
    event = {"type": "ActorRegistered", "data": {"actor_id": "kristi-noem", "name": "Kristi Noem"}}
    refused = problem(
        client.post(f"/v1/incidents/{incident}/events", json={"events": [event]}, headers=writer), 422, "invalid-event"
    )
    assert refused["errors"][0]["field"] == "events[0].type" and "/v1/actors" in refused["errors"][0]["message"]
    assert store.head_position() == head


# -- actor ids beside the names -----------------------------------------------------------------


def _record_noem_claim(client, writer, incident) -> None:
    claim = assertion(
        "noem-claim", kind="official_statement", attributed_to="DHS Secretary Kristi Noem", actors=["Noem", "Nobody"]
    )
    response = client.post(f"/v1/incidents/{incident}/events", json={"events": [claim]}, headers=writer)
    assert response.status_code == 201, response.text


def test_timeline_entries_carry_the_actor_beside_the_name_as_written(client, writer, incident):
    _record_noem_claim(client, writer, incident)
    timeline = f"/v1/incidents/{incident}/timeline"
    before = client.get(timeline)
    [entry] = before.json()["entries"]
    assert (entry["attributed_to"], entry["attributed_to_actor"]) == ("DHS Secretary Kristi Noem", None)
    assert entry["actor_ids"] == [None, None]

    register(client, writer, NOEM)
    after = client.get(timeline, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200, "a change to the registry is a change to the timeline"
    [entry] = after.json()["entries"]
    assert (entry["attributed_to"], entry["attributed_to_actor"]) == ("DHS Secretary Kristi Noem", "kristi-noem")
    assert entry["actors"] == ["Noem", "Nobody"] and entry["actor_ids"] == ["kristi-noem", None]
    assert client.get(timeline, headers={"If-None-Match": after.headers["etag"]}).status_code == 304
    # As of any cut-off, against the registry as it stands now.
    [then] = client.get(timeline, params={"as_of_version": 2}).json()["entries"]
    assert then["attributed_to_actor"] == "kristi-noem"
    changes = client.get(f"{timeline}/changes", params={"since": 1}).json()
    assert changes["added"][0]["attributed_to_actor"] == "kristi-noem"


def test_answers_across_incidents_resolve_at_the_position_they_reflect(client, writer, incident):
    _record_noem_claim(client, writer, incident)
    before = client.get("/v1/assertions").json()
    register(client, writer, NOEM)
    now = client.get("/v1/assertions").json()
    assert now["assertions"][0]["attributed_to_actor"] == "kristi-noem"
    assert now["assertions"][0]["actor_ids"] == ["kristi-noem", None]
    then = client.get("/v1/assertions", params={"as_of_position": before["position"]}).json()
    assert then["assertions"] == before["assertions"] and then["assertions"][0]["attributed_to_actor"] is None
    folded = client.get("/v1/assertions", params={"as_of_version": 5}).json()
    assert folded["assertions"][0]["attributed_to_actor"] == "kristi-noem"
    exported = client.get("/v1/assertions", params={"format": "csv"}).text
    assert "kristi-noem" in exported


def test_proposals_name_the_speakers_actor(client, writer, incident):
    report = {
        "outlet": "Springfield Courier",
        "published_at": "2026-02-04",
        "text": "Kristi Noem said on Monday that every officer in Minneapolis would wear a body camera.",
        "incident_id": incident,
    }
    posted = client.post("/v1/articles", json=report, headers=writer).json()
    [proposal] = posted["proposals"]
    assert proposal["attributed_to"] == "Kristi Noem" and proposal["speaker_actor_id"] is None
    register(client, writer, NOEM)
    [proposal] = client.get(f"/v1/articles/{posted['id']}").json()["proposals"]
    assert proposal["speaker_actor_id"] == "kristi-noem", "resolved against the registry as it stands"


def test_the_samples_register_their_recurring_speakers(engine, client):
    with SAMPLES.open("rb") as stream:
        report = import_batches(engine, read_ndjson(stream))
    assert report.registry and report.incidents == 5
    entries = {
        e["assertion_id"]: e for e in client.get("/v1/incidents/alex-pretti-shooting/timeline").json()["entries"]
    }
    assert entries["noem-weapon-claim"]["attributed_to_actor"] == "kristi-noem"
    assert entries["dhs-massacre-statement"]["attributed_to"] == "DHS officials"
    assert entries["dhs-massacre-statement"]["attributed_to_actor"] == "department-of-homeland-security"
    assert entries["cbp-review-resisted-arrest"]["attributed_to_actor"] == "customs-and-border-protection"
    noem = client.get("/v1/actors/kristi-noem").json()
    assert {"Noem", "DHS Secretary Kristi Noem"} <= set(noem["aliases"])
    dhs = client.get("/v1/actors/dhs-officials").json()
    assert dhs["id"] == "department-of-homeland-security" and dhs["merged_actor_ids"] == ["dhs-officials"]


# -- the import ---------------------------------------------------------------------------------


def _lines(*records: dict) -> io.BytesIO:
    return io.BytesIO(b"".join(json.dumps(record).encode() + b"\n" for record in records))


def _actor_line(type_name: str, **data) -> dict:
    return {"incident_id": ACTORS_STREAM, "type": type_name, "data": data}


def test_the_import_holds_the_registrys_lines_to_the_registrys_rules(engine, store):
    good = _actor_line("ActorRegistered", actor_id="kristi-noem", name="Kristi Noem", kind="person")
    report = import_file(engine, _lines(good, _actor_line("ActorAliased", actor_id="kristi-noem", alias="Noem")))
    assert (report.appended, report.incidents, report.registry, report.refused) == (2, 0, True, 0)
    assert "imported 2 events into the actors registry" in report.summary()

    refused = import_file(
        engine,
        _lines(
            _actor_line("ActorRegistered", actor_id="someone", name="Ms. Noem"),  # the name is Noem's
            _actor_line("ActorsMerged", actor_id="kristi-noem", merged_actor_id="nobody"),
            _actor_line("IncidentOpened", title="Not an actor"),
            {"incident_id": "an-incident", "type": "IncidentOpened", "data": {"title": "An incident"}},
            {"incident_id": "an-incident", **{k: v for k, v in good.items() if k != "incident_id"}},
        ),
    )
    problems = [str(problem) for problem in refused.problems]
    assert refused.refused == 4 and refused.appended == 0, problems
    assert "line 1:" in problems[0] and "belongs to actor 'kristi-noem'" in problems[0]
    assert "line 2:" in problems[1] and "no actor 'nobody'" in problems[1]
    assert "line 3:" in problems[2] and "not an event of the actors registry" in problems[2]
    assert "line 5:" in problems[3] and "/v1/actors" in problems[3]
    assert store.head_position() == 2, "nothing of a refused file is written"

    again = import_file(engine, _lines(good))
    assert (again.appended, again.skipped, again.refused) == (0, 1, 0), "the same registration is already there"
