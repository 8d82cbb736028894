"""The v1 event catalog: what each type accepts and refuses, and the upcaster."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from events import catalog
from events.catalog import InvalidEvent
from events.upcasting import upcast

SOURCE = {
    "outlet": "FOX 9",
    "url": "https://www.fox9.com/news/x",
    "published_at": "2026-02-02T12:00:00Z",
    "quote": "Saturday, Jan. 24",
}
GOOD = {
    "IncidentOpened": {
        "title": "Shooting of Alex Pretti",
        "location": {"name": "Minneapolis", "lat": 44.96, "lon": -93.27},
        "tags": ["ice"],
    },
    "IncidentRevised": {"summary": "A new summary"},
    "IncidentsLinked": {"related_incident_id": "renee-good-shooting", "relation": "follows"},
    "AssertionRecorded": {
        "assertion_id": "pretti-shot",
        "kind": "shooting",
        "occurred": "2026-01-24",
        "headline": "Pretti shot",
        "sources": [SOURCE],
    },
    "SourceAttached": {"assertion_id": "pretti-shot", "source": {"outlet": "CNN"}},
    "AssertionDisputed": {"assertion_id": "noem-claim", "by_assertion_id": "videos", "note": "phone, not a gun"},
    "AssertionRevised": {"assertion_id": "pretti-shot", "changes": {"occurred": "2026-01-24~"}, "reason": "exact day"},
    "AssertionRanked": {"assertion_id": "pretti-shot", "rank": "preferred"},
    "AssertionRetracted": {"assertion_id": "pretti-shot", "reason": "withdrawn"},
    "ErasureRecorded": {"key_id": "0b9f6f0e7c554b599d1b5d1c4c1d9a10", "reason": "her request", "positions": [7, 9]},
    "ActorRegistered": {"actor_id": "kristi-noem", "name": "Kristi Noem", "kind": "person", "aliases": ["Noem"]},
    "ActorAliased": {"actor_id": "kristi-noem", "alias": "DHS Secretary Kristi Noem"},
    "ActorsMerged": {"actor_id": "department-of-homeland-security", "merged_actor_id": "dhs-officials"},
}


def test_the_catalog_covers_every_type_in_the_design():
    assert set(catalog.CATALOG) == set(GOOD)
    assert all(event_type.schema_version >= 1 for event_type in catalog.CATALOG.values())


@pytest.mark.parametrize("type_name", sorted(GOOD))
def test_each_type_accepts_good_data_and_its_model_is_frozen(type_name):
    data = catalog.validate(type_name, GOOD[type_name])
    model = catalog.parse(type_name, data)
    with pytest.raises(ValidationError):
        setattr(model, next(iter(type(model).model_fields)), "changed")


BAD = [
    ("IncidentOpened", {"title": ""}, "data.title"),
    ("IncidentOpened", {"title": "t", "location": {"name": "x", "lat": 91}}, "data.location.lat"),
    ("IncidentRevised", {}, "at least one"),
    ("IncidentsLinked", {"related_incident_id": "Bad Id", "relation": "follows"}, "related_incident_id"),
    ("IncidentsLinked", {"related_incident_id": "a", "relation": "cousin"}, "relation"),
    ("AssertionRecorded", {**GOOD["AssertionRecorded"], "sources": []}, "at least one source"),
    ("AssertionRecorded", {**GOOD["AssertionRecorded"], "kind": "rumour"}, "unknown kind"),
    ("AssertionRecorded", {**GOOD["AssertionRecorded"], "occurred": "Saturday, Jan. 24"}, "data.occurred"),
    (
        "AssertionRecorded",
        {**GOOD["AssertionRecorded"], "sources": [{"outlet": "x", "url": "javascript:alert(1)"}]},
        "url",
    ),
    (
        "AssertionRecorded",
        {**GOOD["AssertionRecorded"], "sources": [{"outlet": "x", "published_at": "2026-02-02T12:00:00"}]},
        "published_at",
    ),
    ("AssertionRecorded", {**GOOD["AssertionRecorded"], "surprise": 1}, "surprise"),
    ("AssertionDisputed", {"assertion_id": "a", "by_assertion_id": "a"}, "cannot dispute itself"),
    ("AssertionRevised", {"assertion_id": "a", "changes": {}, "reason": "r"}, "at least one"),
    ("AssertionRevised", {"assertion_id": "a", "changes": {"occurred": "2026-13"}, "reason": "r"}, "changes.occurred"),
    ("AssertionRanked", {"assertion_id": "a", "rank": "best"}, "rank"),
    ("AssertionRetracted", {"assertion_id": "a"}, "reason"),
    ("ActorRegistered", {"actor_id": "Kristi Noem", "name": "Kristi Noem"}, "data.actor_id"),
    ("ActorRegistered", {"actor_id": "kristi-noem", "name": "Kristi Noem", "kind": "celebrity"}, "data.kind"),
    ("ActorRegistered", {"actor_id": "kristi-noem", "name": "Kristi Noem", "aliases": ["..."]}, "letters or digits"),
    ("ActorAliased", {"actor_id": "kristi-noem", "alias": " "}, "data.alias"),
    ("ActorsMerged", {"actor_id": "dhs", "merged_actor_id": "dhs"}, "cannot be merged into itself"),
    ("Unheard", {}, "unknown event type"),
]


@pytest.mark.parametrize(("type_name", "data", "mention"), BAD, ids=[f"{t}-{m}" for t, _, m in BAD])
def test_bad_data_names_the_field(type_name, data, mention):
    with pytest.raises(InvalidEvent) as error:
        catalog.validate(type_name, data)
    assert mention in str(error.value)


def test_the_assertion_upcaster_turns_one_source_into_a_list():
    v1 = {"assertion_id": "a", "kind": "other", "occurred": "2026", "headline": "h", "source": {"outlet": "CNN"}}
    version, data = upcast("AssertionRecorded", 1, v1)
    assert version == catalog.current_version("AssertionRecorded") == 2
    assert data["sources"] == [{"outlet": "CNN"}] and "source" not in data
    assert v1["source"] == {"outlet": "CNN"}  # the stored dict is left as written
    catalog.validate("AssertionRecorded", data)
    assert upcast("AssertionRecorded", 2, data) == (2, data)
    assert upcast("IncidentOpened", 1, {"title": "t"}) == (1, {"title": "t"})


def test_a_private_persons_name_may_not_be_in_an_assertion_id():
    data = {
        **GOOD["AssertionRecorded"],
        "assertion_id": "jane-doe-saw-it",
        "actors": [{"name": "Jane Doe", "private": True}, "DHS"],
    }
    with pytest.raises(catalog.InvalidEvent, match="must not contain a private person's name"):
        catalog.validate("AssertionRecorded", data)
    assert catalog.validate("AssertionRecorded", {**data, "assertion_id": "neighbour-saw-it"})["actors"] == [
        {"name": "Jane Doe", "private": True},
        "DHS",
    ]
