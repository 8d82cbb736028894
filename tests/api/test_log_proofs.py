"""The verifiable log over HTTP: the verifier key, signed checkpoints, inclusion and consistency
proofs (RFC 9162, lowercase hex), each checked here with the verification functions against the
checkpoint's signed root; and every bad request a problem+json."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from app.proofs.leaves import event_leaf
from app.proofs.merkle import verify_consistency, verify_inclusion
from app.proofs.notes import Checkpoint, Verifier
from tests.api.conftest import assertion


def opened(client, note: str) -> Checkpoint:
    verifier = Verifier.decode(client.get("/v1/log/key").text.strip())
    return Checkpoint.parse(verifier.open(note))


def add_assertions(client, writer, incident: str, *ids: str) -> None:
    for assertion_id in ids:
        response = client.post(
            f"/v1/incidents/{incident}/events", json={"events": [assertion(assertion_id)]}, headers=writer
        )
        assert response.status_code == 201, response.text


def test_the_verifier_key_is_the_key_in_the_key_file(client, app, settings):
    answer = client.get("/v1/log/key")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    name, key_hash, _ = answer.text.strip().split("+", 2)
    assert name == settings.log_name and len(key_hash) == 8
    assert settings.log_key_file.exists() and oct(settings.log_key_file.stat().st_mode & 0o777) == "0o600"
    assert Verifier.decode(answer.text.strip()).public_key == app.state.log.signer.public_key


def test_a_checkpoint_signs_the_tree_and_every_event_proves_its_place_in_it(client, app, writer, incident):
    add_assertions(client, writer, incident, "shot", "statement", "leave")
    app.state.log.checkpoint_now()
    answer = client.get("/v1/log/checkpoint")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    checkpoint = opened(client, answer.text)
    events = client.get("/v1/events", params={"limit": 1000}).json()["events"]
    assert checkpoint.size == len(events) == int(answer.headers["Timeline-Tree-Size"])
    for event in events:
        proof = client.get(f"/v1/events/{event['position']}/proof").json()
        assert proof["tree_size"] == checkpoint.size and proof["leaf_index"] == event["position"] - 1
        assert proof["root_hash"] == checkpoint.root.hex()
        assert proof["leaf_hash"] == event_leaf(event).hex(), "the leaf is the event as the log shows it"
        path = [bytes.fromhex(node) for node in proof["audit_path"]]
        assert verify_inclusion(proof["leaf_index"], checkpoint.size, event_leaf(event), path, checkpoint.root)
        assert all(node == node.lower() and len(node) == 64 for node in proof["audit_path"])


def test_a_later_checkpoint_is_consistent_with_an_earlier_one(client, app, writer, incident):
    add_assertions(client, writer, incident, "shot")
    first = app.state.log.checkpoint_now()
    add_assertions(client, writer, incident, "statement", "leave", "policy")
    second = app.state.log.checkpoint_now()
    assert first is not None and second is not None and first.tree_size < second.tree_size
    earlier = opened(client, client.get("/v1/log/checkpoint", params={"size": first.tree_size}).text)
    later = opened(client, client.get("/v1/log/checkpoint").text)
    answer = client.get("/v1/log/consistency", params={"from": earlier.size, "to": later.size}).json()
    assert (answer["from"], answer["to"]) == (earlier.size, later.size)
    proof = [bytes.fromhex(node) for node in answer["proof"]]
    assert verify_consistency(earlier.size, later.size, earlier.root, later.root, proof)
    tampered = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
    assert not verify_consistency(earlier.size, later.size, earlier.root, later.root, tampered)
    # A proof of an event at an older checkpoint's size verifies against that checkpoint.
    old = client.get("/v1/events/1/proof", params={"size": earlier.size}).json()
    assert old["root_hash"] == earlier.root.hex()


@pytest.mark.parametrize(
    "path, params, status, slug, words",
    [
        ("/v1/log/checkpoint", {"size": 99}, 404, "checkpoint-not-found", "at tree size 99"),
        ("/v1/log/checkpoint", {"size": "two"}, 422, None, "size"),
        ("/v1/events/0/proof", {"size": 1}, 422, None, "position"),
        ("/v1/events/3/proof", {"size": 2}, 422, "impossible-proof", "ask with size=3 or more"),
        ("/v1/events/1/proof", {"size": 10**6}, 404, "beyond-the-log", "ask of a tree size up to"),
        ("/v1/events/1/proof", {"size": -1}, 422, None, "size"),
        ("/v1/log/consistency", {"from": 2, "to": 1}, 422, "impossible-proof", "give from ≤ to"),
        ("/v1/log/consistency", {"from": 1, "to": 10**6}, 404, "beyond-the-log", "up to"),
        ("/v1/log/consistency", {"to": 1}, 422, None, "from"),
        ("/v1/log/consistency", {"from": 1, "to": 2**63}, 422, None, "to"),
    ],
)
def test_a_bad_request_is_a_problem_that_says_how_to_put_it_right(client, incident, path, params, status, slug, words):
    answer = client.get(path, params=params)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    if slug:
        assert problem["type"].endswith("/" + slug)
    assert words in answer.text


def test_an_empty_log_has_no_checkpoint_yet_and_says_so(client):
    for path in ("/v1/log/checkpoint", "/v1/events/1/proof"):
        answer = client.get(path)
        assert answer.status_code == 404 and answer.headers["content-type"].startswith("application/problem+json")
        assert "no checkpoint is issued yet: one is issued within 3600 s of an append" in answer.json()["detail"]


def test_the_server_issues_checkpoints_on_its_own_while_appends_happen(settings, engine, keys):
    _, secret = keys.create("desk", frozenset({"write"}))
    writer = {"Authorization": f"Bearer {secret}"}
    app = create_app(settings.model_copy(update={"checkpoint_seconds": 0.05}), engine=engine)
    with TestClient(app) as client:
        client.post("/v1/incidents", json={"id": "a-story", "title": "A story"}, headers=writer)
        sizes = set()
        for assertion_id in ("one", "two"):
            add_assertions(client, writer, "a-story", assertion_id)
            deadline = time.monotonic() + 20
            head = client.get("/v1/events").json()["head_position"]
            while time.monotonic() < deadline:
                answer = client.get("/v1/log/checkpoint")
                if answer.status_code == 200 and opened(client, answer.text).size == head:
                    sizes.add(head)
                    break
                time.sleep(0.05)
        assert sizes == {2, 3}, "a checkpoint at the head after each append, none asked for"


def test_a_timeline_names_a_checkpoint_that_holds_what_it_was_folded_from(client, app, writer, incident):
    add_assertions(client, writer, incident, "shot")
    before = client.get(f"/v1/incidents/{incident}/timeline")
    assert before.status_code == 200 and "Timeline-Checkpoint" not in before.headers, "none covers it yet"
    app.state.log.checkpoint_now()
    assert client.get(f"/v1/incidents/{incident}/timeline").headers["Timeline-Checkpoint"] == "2", "cached, named"
    add_assertions(client, writer, incident, "statement")
    assert "Timeline-Checkpoint" not in client.get(f"/v1/incidents/{incident}/timeline").headers
    app.state.log.checkpoint_now()
    now = client.get(f"/v1/incidents/{incident}/timeline")
    assert now.headers["Timeline-Checkpoint"] == "3"
    assert client.head(f"/v1/incidents/{incident}/timeline").headers["Timeline-Checkpoint"] == "3"
    # As of the first entry, the timeline was folded from the first two events, which it proves too.
    events = client.get("/v1/events", params={"limit": 10}).json()["events"]
    then = client.get(f"/v1/incidents/{incident}/timeline", params={"as_of": events[1]["recorded_at"]})
    assert then.json()["version"] == 2 and then.headers["Timeline-Checkpoint"] == "3"
    checkpoint = opened(client, client.get("/v1/log/checkpoint", params={"size": 3}).text)
    for event in events:
        proof = client.get(f"/v1/events/{event['position']}/proof", params={"size": checkpoint.size}).json()
        path = [bytes.fromhex(node) for node in proof["audit_path"]]
        assert verify_inclusion(event["position"] - 1, checkpoint.size, event_leaf(event), path, checkpoint.root)
