"""The API documents itself: its errors as they are sent, and the events an append takes."""

from __future__ import annotations

import json

import pytest

from app.api import schemas
from app.api.problems import PROBLEM_JSON
from events.catalog import CATALOG
from tests.api.conftest import assertion
from tests.api.test_articles import REPORT

PROBLEM_REF = "#/components/schemas/ProblemDetails"
# The one documented 4xx that is not problem+json: the widget's page for an unknown incident, HTML
# because it is shown in an iframe.
HTML_ERRORS = {("get", "/widget/incidents/{incident_id}", "404")}


@pytest.fixture
def document(client) -> dict:
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
    assert set(mapping) == set(CATALOG) and len(CATALOG) == 9
    assert [branch["$ref"] for branch in items["oneOf"]] == [mapping[name] for name in CATALOG]
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


def test_documented_responses_describe_what_is_sent(client, writer, incident):
    """The response models only document: what the routes send fits them, field for field."""

    def fits(model, response, status=200):
        assert response.status_code == status, response.text
        body = response.json()
        model.model_validate(body)
        documented = set(model.model_fields)
        if model.model_config.get("extra") != "allow":
            assert set(body) <= documented, set(body) - documented
        return body

    appended = client.post(f"/v1/incidents/{incident}/events", json={"events": [assertion("a-1")]}, headers=writer)
    fits(schemas.AppendOut, appended, 201)
    fits(schemas.IncidentList, client.get("/v1/incidents", headers=writer))
    fits(schemas.IncidentOut, client.get(f"/v1/incidents/{incident}", headers=writer))
    page = fits(schemas.StreamPage, client.get(f"/v1/incidents/{incident}/events", headers=writer))
    assert set(page["events"][0]) <= set(schemas.EventOut.model_fields)
    fits(schemas.LogPage, client.get("/v1/events", headers=writer))
    article = fits(
        schemas.ArticleOut, client.post("/v1/articles", json={**REPORT, "incident_id": incident}, headers=writer), 201
    )
    fits(schemas.ArticleOut, client.post("/v1/articles", json={**REPORT, "incident_id": incident}, headers=writer))
    fits(schemas.ArticleList, client.get("/v1/articles", headers=writer))
    fits(schemas.ArticleOut, client.get(f"/v1/articles/{article['id']}", headers=writer))
    first, second = (proposal["id"] for proposal in article["proposals"][:2])
    proposals = f"/v1/articles/{article['id']}/proposals"
    fits(schemas.AcceptedOut, client.post(f"{proposals}/{first}/accept", headers=writer))
    fits(schemas.RejectedOut, client.post(f"{proposals}/{second}/reject", json={"reason": "not said"}, headers=writer))
