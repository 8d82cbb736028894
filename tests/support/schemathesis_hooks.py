"""Schemathesis hooks for tests/e2e/test_fuzz_openapi.py; loaded by the `schemathesis run` process.

The service's own `/openapi.json` is fuzzed, with one change made here before schemathesis
reads it: the inputs that get past the first check get more likely. A sharpened schema is
`anyOf: [{enum: <known good values>}, <the original schema without them>]` (or adds alternatives
next to the original), so everything the original schema allows is still generated. The additions:

* the ids the test seeded (the sample incidents, a subscription, the samples' assertion ids) for
  path parameters, the `incident` query parameter and id fields in bodies, so reads and writes
  reach real incidents instead of stopping at a 404;
* for each event of `POST /v1/incidents/{id}/events` (published as `oneOf` the catalog's types, see
  app.api.openapi), each type's data pointed at a sharpened copy of the catalog's schema (ids the
  test seeded, `kind` often a known kind, `occurred` often an EDTF date), plus a branch for type
  names the catalog lacks; and IncidentOpened's fields for `POST /v1/incidents`; so events get
  stored and every later read folds them;
* a webhook URL the destination policy accepts, and the catalog's type names, for subscriptions;

And, only when the context lists keys (`authorization`), each generated request's Authorization
header is, at hypothesis's choice, as generated from the schema (absent or garbage), one of those
keys, or left out: a run without a fixed header mixes authorised, anonymous and bad credentials.

The context (which ids, which key) is the JSON file named by TIMELINE_FUZZ_CONTEXT.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import sys
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CONTEXT_ENV = "TIMELINE_FUZZ_CONTEXT"
PREFIX = "FuzzCatalog"  # components added here, named apart from the service's own

# Dates in the forms the samples use, and some at the edges of what events.dates parses.
OCCURRED = [
    "2026-01-24",
    "2026-01",
    "2026",
    "2026-01-24~",
    "2026-01-24?",
    "2026-01-24%",
    "2026-01-XX",
    "2026-XX",
    "2026-21",
    "2026-01-24/2026-02-02",
    "2026-01/2026-02-02",
    "../2026-01-24",
    "2026-01-24/..",
    "2026-01-24T09:05:00Z",
    "2026-01-24T09:05:00-06:00",
    "0000",
    "9999-12-31",
    "-0001",
    "Y170000002",
    "2026-02-29",
    "2026-02-30",
    "[2026-01-24,2026-01-26]",
]


def anyof_known(schema: Any, values: list) -> Any:
    """`schema`, with `values` made likely. The other branch excludes them: schemathesis (like
    hypothesis-jsonschema) drops an anyOf branch that another branch contains, here the enum."""
    if not values or not isinstance(schema, dict) or "enum" in schema:
        return schema  # an enum (the catalog's kinds) says its good values already
    return {"anyOf": [{"enum": list(values)}, {"allOf": [schema, {"not": {"enum": list(values)}}]}]}


@functools.cache
def load_context() -> dict:
    path = os.environ.get(CONTEXT_ENV)
    return json.loads(Path(path).read_text()) if path else {}


@schemathesis.hook
def before_load_schema(context, raw_schema: dict) -> None:
    known = load_context()
    if known:
        sharpen(raw_schema, known)


@schemathesis.hook
def flatmap_headers(context, headers: dict | None):
    keys = load_context().get("authorization", [])
    if not keys:
        return st.just(headers)
    others = {name: value for name, value in (headers or {}).items() if name.lower() != "authorization"}
    return st.sampled_from([headers, *({**others, "Authorization": key} for key in keys), others or None])


def sharpen(raw: dict, known: dict) -> None:
    """Add known-good alternatives to `raw` (an OpenAPI 3 document) in place; skip what is not there."""
    incidents = known.get("incident_ids", [])
    components = raw.setdefault("components", {}).setdefault("schemas", {})
    by_parameter = {
        ("path", "incident_id"): incidents,
        ("path", "subscription_id"): known.get("subscription_ids", []),
        ("query", "incident"): incidents,
    }
    for methods in raw.get("paths", {}).values():
        for operation in methods.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                values = by_parameter.get((parameter.get("in"), str(parameter.get("name", "")).lower()))
                if values and "schema" in parameter:
                    parameter["schema"] = anyof_known(parameter["schema"], values)
    for body in list(components.values()):  # the service's own bodies, e.g. an article's incident
        properties = body.get("properties") if isinstance(body, dict) else None
        if isinstance(properties, dict) and "incident_id" in properties:
            properties["incident_id"] = anyof_known(properties["incident_id"], incidents)
    try:
        catalog_variants = _catalog_event_schemas(components, known)
    except Exception as error:  # the catalog moved: fuzz the published schema alone
        print(f"[fuzz hooks] not sharpening event bodies: {error!r}", file=sys.stderr)
        catalog_variants = {}
    event_in = components.get("EventIn")
    if isinstance(event_in, dict) and catalog_variants:
        shared = event_in.get("properties", {})
        variants = [
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["type", "data"],
                "properties": {
                    **shared,
                    "type": {"const": name},
                    "data": {"$ref": f"#/components/schemas/{PREFIX}{name}"},
                },
            }
            for name in catalog_variants
        ]
        # The published schema stays as the last branch, for the type names the catalog lacks.
        unknown_type = {"properties": {"type": {"not": {"enum": list(catalog_variants)}}}}
        components["EventIn"] = {"anyOf": [*variants, {"allOf": [event_in, unknown_type]}]}
    _sharpen_documented_events(components, catalog_variants)
    incident_in = components.get("IncidentIn")
    opened = components.get(f"{PREFIX}IncidentOpened")
    if isinstance(incident_in, dict) and isinstance(opened, dict):
        full = copy.deepcopy(incident_in)
        full.setdefault("properties", {}).update(opened.get("properties", {}))
        full["additionalProperties"] = False  # IncidentOpened's data forbids other fields
        full["required"] = sorted(set(full.get("required", [])) | set(opened.get("required", [])))
        components["IncidentIn"] = {"anyOf": [full, {"allOf": [incident_in, {"not": {"required": ["title"]}}]}]}
    for name in ("SubscriptionIn", "SubscriptionPatch"):
        body = components.get(name)
        if not isinstance(body, dict):
            continue
        properties = body.get("properties", {})
        if "url" in properties:
            properties["url"] = anyof_known(properties["url"], known.get("webhook_urls", []))
        if "incidents" in properties:
            properties["incidents"] = (
                {
                    "anyOf": [
                        {"type": "array", "minItems": 1, "maxItems": 3, "items": {"enum": incidents}},
                        properties["incidents"],
                    ]
                }
                if incidents
                else properties["incidents"]
            )
        if "types" in properties and catalog_variants:
            properties["types"] = {
                "anyOf": [
                    {"type": "array", "minItems": 1, "maxItems": 3, "items": {"enum": list(catalog_variants)}},
                    properties["types"],
                ]
            }


def _sharpen_documented_events(components: dict, catalog_variants: dict[str, dict]) -> None:
    """The published append body: `events` items are `oneOf` the catalog's types (app.api.openapi),
    each `<Name>Event` with `data` the catalog model's schema. Their data is pointed at the sharpened
    copies, and a last branch keeps type names the catalog lacks (and any data) in play."""
    append = components.get("AppendIn")
    items = append.get("properties", {}).get("events", {}).get("items") if isinstance(append, dict) else None
    if not isinstance(items, dict) or "oneOf" not in items or not catalog_variants:
        return
    for name in catalog_variants:
        variant = components.get(f"{name}Event")
        if isinstance(variant, dict) and "data" in variant.get("properties", {}):
            variant["properties"]["data"] = {"$ref": f"#/components/schemas/{PREFIX}{name}"}
    unknown_type = {
        "type": "object",
        "required": ["type", "data"],
        "properties": {"type": {"type": "string", "not": {"enum": list(catalog_variants)}}, "data": {"type": "object"}},
    }
    append["properties"]["events"]["items"] = {"anyOf": [items, unknown_type]}


def _catalog_event_schemas(components: dict, known: dict) -> dict[str, dict]:
    """Each catalog event type's data schema, added to `components` as FuzzCatalog<Name>."""
    from events.catalog import CATALOG, KINDS

    assertion_ids = known.get("assertion_ids", [])
    incidents = known.get("incident_ids", [])
    added: dict[str, dict] = {}
    for name, event_type in CATALOG.items():
        schema = event_type.model.model_json_schema(ref_template=f"#/components/schemas/{PREFIX}{{model}}")
        for def_name, definition in schema.pop("$defs", {}).items():
            components[f"{PREFIX}{def_name}"] = _sharpen_fields(definition, KINDS, assertion_ids, incidents)
        components[f"{PREFIX}{name}"] = added[name] = _sharpen_fields(schema, KINDS, assertion_ids, incidents)
    return added


def _sharpen_fields(schema: Any, kinds, assertion_ids: list, incidents: list) -> Any:
    """Known values for the fields whose checks a JSON schema cannot say (kinds, EDTF dates, ids)."""
    if isinstance(schema, list):
        return [_sharpen_fields(item, kinds, assertion_ids, incidents) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: _sharpen_fields(value, kinds, assertion_ids, incidents) for key, value in schema.items()}
    properties = result.get("properties")
    if isinstance(properties, dict):
        for field, values in (
            ("kind", sorted(kinds)),
            ("occurred", OCCURRED),
            ("assertion_id", assertion_ids),
            ("by_assertion_id", assertion_ids),
            ("related_incident_id", incidents),
        ):
            if field in properties:
                properties[field] = anyof_known(properties[field], values)
    return result
