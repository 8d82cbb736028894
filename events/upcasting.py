"""Upcasters: old events stay stored as written and are brought to the current schema when read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


def _assertion_recorded_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 carried one `source`; v2 carries the list `sources`."""
    upgraded = {key: value for key, value in data.items() if key != "source"}
    upgraded["sources"] = [data["source"]] if data.get("source") else []
    return upgraded


# (type, from schema_version) -> function giving the data at schema_version + 1
UPCASTERS: dict[tuple[str, int], Upcaster] = {
    ("AssertionRecorded", 1): _assertion_recorded_v1_to_v2,
}


def upcast(type_name: str, schema_version: int, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Apply each upcaster in turn until no newer schema exists for this type."""
    while (step := UPCASTERS.get((type_name, schema_version))) is not None:
        data = step(data)
        schema_version += 1
    return schema_version, data
