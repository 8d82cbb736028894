"""The API documents itself: its errors as they are sent, and the events an append takes."""

from __future__ import annotations

import json
import shutil

import pytest
from fastapi.testclient import TestClient
from jsonschema_rs import Draft202012Validator

from app.api.main import create_app
from app.api.problems import PROBLEM_JSON
from app.config import Settings
from events.actors import ACTOR_EVENTS
from events.catalog import APPENDABLE_EVENTS, INCIDENT_STREAM_EVENTS
from tests.api.conftest import assertion
from tests.api.test_articles import REPORT

PROBLEM_REF = "#/components/schemas/ProblemDetails"
# The one documented 4xx that is not problem+json: the widget's page for an unknown incident, HTML
# because it is shown in an iframe.
HTML_ERRORS = {("get", "/widget/incidents/{incident_id}", "404")}


@pytest.fixture(scope="module")
def document(sqlite_template, tmp_path_factory) -> dict:
    """The published document, read once: it names no backend (the tests that send requests run on both)."""
    path = tmp_path_factory.mktemp("openapi") / "timeline.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    with TestClient(create_app(Settings(database_url=url, webhook_dispatcher=False))) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200, response.text
    return response.json()


def operations(document: dict):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def test_every_error_response_is_problem_json(document):
    checked = 0
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if not status.startswith("4") or (method, path, status) in HTML_ERRORS:
                continue
            where = f"{method.upper()} {path} {status}"
            assert list(response.get("content", {})) == [PROBLEM_JSON], where
            assert response["content"][PROBLEM_JSON]["schema"] == {"$ref": PROBLEM_REF}, where
            checked += 1
    assert checked > 50


def test_the_problem_schema_says_what_an_error_holds(document):
    problem = document["components"]["schemas"]["ProblemDetails"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert {"instance", "errors"} <= set(problem["properties"])
    assert problem.get("additionalProperties", True) is not False  # problems add fields of their own
    field_error = document["components"]["schemas"]["FieldError"]
    assert set(field_error["required"]) == {"field", "message"}


@pytest.mark.parametrize(
    "method, path, statuses",
    [
        ("post", "/v1/incidents/{incident_id}/events", {"400", "401", "403", "404", "409", "413", "415", "422"}),
        ("post", "/v1/incidents", {"400", "401", "403", "409", "413", "415", "422"}),
        ("get", "/v1/incidents/{incident_id}/timeline", {"401", "403", "404", "422"}),
        ("get", "/v1/events", {"401", "403", "422"}),
        ("patch", "/v1/subscriptions/{subscription_id}", {"400", "401", "403", "404", "409", "413", "415", "422"}),
        ("post", "/v1/articles/{article_id}/proposals/{proposal_id}/accept", {"401", "404", "409", "415", "422"}),
    ],
)
def test_routes_document_the_errors_they_send(document, method, path, statuses):
    documented = {status for status in document["paths"][path][method]["responses"] if status.startswith("4")}
    assert statuses <= documented


def test_fastapis_validation_error_is_documented_nowhere(document):
    text = json.dumps(document)
    assert "HTTPValidationError" not in text
    assert "#/components/schemas/ValidationError" not in text
    assert "ValidationError" not in document["components"]["schemas"]


def test_the_append_body_is_a_union_of_the_catalogs_events(document):
    schemas = document["components"]["schemas"]
    body = document["paths"]["/v1/incidents/{incident_id}/events"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/AppendIn"}
    items = schemas["AppendIn"]["properties"]["events"]["items"]
    assert items["discriminator"]["propertyName"] == "type"
    mapping = items["discriminator"]["mapping"]
    assert set(mapping) == set(APPENDABLE_EVENTS) and len(APPENDABLE_EVENTS) == 9
    assert set(INCIDENT_STREAM_EVENTS) - set(APPENDABLE_EVENTS) == {"ErasureRecorded"}, "an erasure records itself"
    assert [branch["$ref"] for branch in items["oneOf"]] == [mapping[name] for name in APPENDABLE_EVENTS]
    assert not set(mapping) & ACTOR_EVENTS, "the actors registry's events are not an incident's"
    for name, ref in mapping.items():
        variant = schemas[ref.removeprefix("#/components/schemas/")]
        assert variant["properties"]["type"]["const"] == name
        assert variant["properties"]["data"] == {"$ref": f"#/components/schemas/{name}"}
        assert set(variant["required"]) == {"type", "data"}
        assert {"reported_at", "metadata"} <= set(variant["properties"])
        assert schemas[name] is not None
    # The data's own fields and rules show, e.g. an assertion's required fields and its sources.
    recorded = schemas["AssertionRecorded"]
    assert {"assertion_id", "kind", "occurred", "headline", "sources"} <= set(recorded["required"])
    assert recorded["additionalProperties"] is False
    assert "EventIn" not in schemas  # the runtime model, which takes any type and data, is not shown


def test_every_ref_resolves(document):
    schemas = document["components"]["schemas"]
    refs = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.add(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    missing = {ref for ref in refs if ref.removeprefix("#/components/schemas/") not in schemas}
    assert not missing


def test_the_documented_body_changes_no_validation(client, writer, incident):
    """Only the document changed: an unknown type is still the catalog's 422, not a schema error."""
    response = client.post(
        f"/v1/incidents/{incident}/events", json={"events": [{"type": "Nope", "data": {}}]}, headers=writer
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.json()["errors"][0]["field"] == "events[0].type"


def closed(schema):
    """The document's schemas with every object closed: a field the document does not name fails.

    Only objects that say nothing of other fields are closed; those documented as open
    (`additionalProperties: true`, e.g. a proposal's own fields) stay open.
    """
    if isinstance(schema, dict):
        schema = {key: closed(value) for key, value in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    return schema


@pytest.fixture
def conforms(document):
    """Check a response against what /openapi.json documents for its operation and status."""
    components = closed(document["components"])

    def check(method: str, path: str, response, status: int = 200) -> dict:
        assert response.status_code == status, response.text
        documented = document["paths"][path][method]["responses"]
        assert str(status) in documented, f"{method.upper()} {path} does not document {status}"
        content = documented[str(status)]["content"]
        media = response.headers["content-type"].split(";")[0]
        assert media in content, f"{method.upper()} {path} sends {media}, documents {sorted(content)}"
        body = response.json()
        schema = {**closed(content[media]["schema"]), "components": components}
        errors = [f"{list(e.instance_path)}: {e.message}" for e in Draft202012Validator(schema).iter_errors(body)]
        assert errors == [], f"{method.upper()} {path}: " + "; ".join(errors[:5])
        return body

    return check


def test_every_operation_documents_what_it_sends_on_success(document):
    for method, path, operation in operations(document):
        success = {status: response for status, response in operation["responses"].items() if status.startswith("2")}
        assert success, f"{method.upper()} {path} documents no success"
        for status, response in success.items():
            if status == "204":
                continue
            content = response.get("content", {})
            assert content, f"{method.upper()} {path} {status} documents no body"
            for media, described in content.items():
                if media == "text/event-stream":
                    continue  # a stream of messages, described in words
                assert described.get("schema"), f"{method.upper()} {path} {status} {media} has no schema"


def test_documented_responses_describe_what_is_sent(client, conforms, writer, incident, keys):
    """The response models only document: what the routes send fits the published document exactly."""
    admin_key, secret = keys.create("desk admin", frozenset({"admin"}))
    admin = {"Authorization": f"Bearer {secret}"}
    _, secret = keys.create("alerts", frozenset({"webhooks"}))
    manager = {"Authorization": f"Bearer {secret}"}
    revised = {
        "type": "AssertionRevised",
        "data": {"assertion_id": "a-1", "changes": {"headline": "New"}, "reason": "r"},
    }
    disputed = {"type": "AssertionDisputed", "data": {"assertion_id": "a-1", "by_assertion_id": "a-2", "note": "no"}}
    retracted = {"type": "AssertionRetracted", "data": {"assertion_id": "a-2", "reason": "wrong"}}
    events = "/v1/incidents/{incident_id}/events"
    here = f"/v1/incidents/{incident}"

    conforms("post", events, client.post(f"{here}/events", json={"events": [assertion("a-1")]}, headers=writer), 201)
    client.post(f"{here}/events", json={"events": [assertion("a-2", "2026-01")]}, headers=writer)
    client.post(f"{here}/events", json={"events": [revised, disputed, retracted]}, headers=writer)
    conforms("get", "/v1/incidents", client.get("/v1/incidents", headers=writer))
    conforms("get", "/v1/incidents/{incident_id}", client.get(here, headers=writer))
    page = conforms("get", events, client.get(f"{here}/events", headers=writer))
    assert {"AssertionRevised", "AssertionDisputed", "AssertionRetracted"} <= {e["type"] for e in page["events"]}
    conforms("get", "/v1/events", client.get("/v1/events", headers=writer))
    conforms("get", "/healthz", client.get("/healthz"))

    timeline = "/v1/incidents/{incident_id}/timeline"
    body = conforms("get", timeline, client.get(f"{here}/timeline?history=true&include_retracted=true", headers=writer))
    assert {"a-1", "a-2"} == {entry["assertion_id"] for entry in body["entries"]}
    assert any(entry["revisions"].get("history") for entry in body["entries"])
    conforms("get", timeline, client.get(f"{here}/timeline?format=timelinejs", headers=writer))
    for format, media in (("csv", "text/csv"), ("ndjson", "application/x-ndjson")):
        response = client.get(f"{here}/timeline?format={format}", headers=writer)
        assert response.headers["content-type"].split(";")[0] == media
        assert media in body_types(client, timeline)
    changes = conforms("get", f"{timeline}/changes", client.get(f"{here}/timeline/changes?since=1", headers=writer))
    assert changes["added"] and changes["retracted"]
    found = conforms("get", "/v1/assertions", client.get("/v1/assertions?include_retracted=true", headers=writer))
    assert found["total"] == 2

    article = conforms(
        "post",
        "/v1/articles",
        client.post("/v1/articles", json={**REPORT, "incident_id": incident}, headers=writer),
        201,
    )
    conforms(
        "post", "/v1/articles", client.post("/v1/articles", json={**REPORT, "incident_id": incident}, headers=writer)
    )
    conforms("get", "/v1/articles", client.get("/v1/articles", headers=writer))
    conforms("get", "/v1/articles/{article_id}", client.get(f"/v1/articles/{article['id']}", headers=writer))
    first, second = (proposal["id"] for proposal in article["proposals"][:2])
    proposals = f"/v1/articles/{article['id']}/proposals"
    decided = "/v1/articles/{article_id}/proposals/{proposal_id}"
    conforms("post", f"{decided}/accept", client.post(f"{proposals}/{first}/accept", headers=writer))
    conforms(
        "post",
        f"{decided}/reject",
        client.post(f"{proposals}/{second}/reject", json={"reason": "not said"}, headers=writer),
    )

    subscriptions = "/v1/subscriptions"
    one = f"{subscriptions}/{{subscription_id}}"
    created = conforms(
        "post",
        subscriptions,
        client.post(subscriptions, json={"url": "https://hooks.example.com/t"}, headers=manager),
        201,
    )
    mine = f"{subscriptions}/{created['id']}"
    conforms("get", subscriptions, client.get(subscriptions, headers=manager))
    conforms("get", one, client.get(mine, headers=manager))
    conforms("patch", one, client.patch(mine, json={"paused": True}, headers=manager))
    conforms("post", f"{one}/rotate-secret", client.post(f"{mine}/rotate-secret", headers=manager))
    conforms("get", f"{one}/deliveries", client.get(f"{mine}/deliveries", headers=manager))
    conforms("post", f"{one}/replay", client.post(f"{mine}/replay", json={"from_position": 1}, headers=manager), 202)
    conforms("post", f"{one}/owner", client.post(f"{mine}/owner", json={"key_id": admin_key.id}, headers=admin))


def body_types(client, path: str) -> set[str]:
    return set(client.get("/openapi.json").json()["paths"][path]["get"]["responses"]["200"]["content"])
