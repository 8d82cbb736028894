"""The published /openapi.json: what FastAPI makes of the routes, with two things it cannot say itself.

* Errors. Every error is RFC 9457 problem details (app.api.problems); the routes declare which
  statuses they send (`problems.documented`), and here every operation's 422 — which FastAPI
  documents on its own as `HTTPValidationError`, a body this service never sends — becomes the
  problem schema too, and FastAPI's validation-error schemas are dropped.
* Events. An append's `events` are checked against the event catalog (events.catalog), not by the
  request model, so that a bad event is reported with the catalog's own messages; the model takes
  any `type` and any `data`. The document says what the catalog takes instead: each item is one
  of the catalog's types (`oneOf` with a `discriminator` on `type`), each with its data's schema.

Only the document changes: requests are validated exactly as before.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.api.problems import PROBLEM_JSON, PROBLEM_REF, TITLES
from app.api.schemas import ProblemDetails
from events.catalog import APPENDABLE_EVENTS, CATALOG

SCHEMAS = "#/components/schemas/"
APPEND_BODY = "AppendIn"
EVENT_SUFFIX = "Event"  # the documented event of type X is the component XEvent; its data is X
FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")


def install(app: FastAPI) -> None:
    """Make `app.openapi()` (and so /openapi.json and /docs) return the document described above."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            app.openapi_schema = rewrite(document)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def rewrite(document: dict[str, Any]) -> dict[str, Any]:
    components = document.setdefault("components", {}).setdefault("schemas", {})
    add_components(components, _component_schemas(ProblemDetails))
    for methods in document.get("paths", {}).values():
        for operation in methods.values():
            if isinstance(operation, dict):
                _problem_errors(operation)
    for name in FASTAPI_VALIDATION:
        components.pop(name, None)
    _catalog_events(components)
    return document


def _problem_errors(operation: dict[str, Any]) -> None:
    """Every 4xx the operation documents, as problem+json (FastAPI's own 422 included)."""
    for status, response in operation.get("responses", {}).items():
        if not (str(status).startswith("4") and str(status).isdigit()):
            continue
        content = response.setdefault("content", {})
        if status == "422":
            content.pop("application/json", None)  # FastAPI's HTTPValidationError
            response["description"] = TITLES[422]
        if any(media.startswith("text/") for media in content):
            continue  # an HTML page (the widget's 404): documented as what it is
        content[PROBLEM_JSON] = {"schema": {"$ref": PROBLEM_REF}}


def _catalog_events(components: dict[str, Any]) -> None:
    append = components.get(APPEND_BODY)
    event_in = components.get("EventIn")
    if not isinstance(append, dict) or not isinstance(event_in, dict):
        return
    shared = event_in.get("properties", {})
    mapping: dict[str, str] = {}
    # An incident's events; the actors registry's have routes of their own (/v1/actors).
    for name in APPENDABLE_EVENTS:
        event_type = CATALOG[name]
        add_components(components, _component_schemas(event_type.model))
        variant = {
            "title": f"{name}{EVENT_SUFFIX}",
            "description": f"An event of type {name} (schema version {event_type.schema_version}).",
            "type": "object",
            "additionalProperties": False,
            "required": ["type", "data"],
            "properties": {
                "type": {"type": "string", "const": name, "title": "Type"},
                "data": {"$ref": f"{SCHEMAS}{name}"},
                **{key: copy.deepcopy(value) for key, value in shared.items() if key not in ("type", "data")},
            },
        }
        add_components(components, {f"{name}{EVENT_SUFFIX}": variant})
        mapping[name] = f"{SCHEMAS}{name}{EVENT_SUFFIX}"
    append["properties"]["events"]["items"] = {
        "oneOf": [{"$ref": ref} for ref in mapping.values()],
        "discriminator": {"propertyName": "type", "mapping": mapping},
    }
    del components["EventIn"]  # only the append body used it


def _component_schemas(model: Any) -> dict[str, dict[str, Any]]:
    """A pydantic model's JSON schema and those of the models it uses, as named components."""
    schema = model.model_json_schema(ref_template=SCHEMAS + "{model}")
    found = schema.pop("$defs", {})
    found[model.__name__] = schema
    return found


def add_components(components: dict[str, Any], schemas: dict[str, dict[str, Any]]) -> None:
    for name, schema in schemas.items():
        if name in components and components[name] != schema:
            raise RuntimeError(f"two different schemas are both named {name!r} in the OpenAPI document")
        components[name] = schema
