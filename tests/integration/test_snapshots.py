"""Snapshots are only a cache: any events and any cut-off give the same timeline with or without them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.projections import reader as reader_module
from app.projections.reader import Timelines
from app.projections.snapshots import SnapshotStore
from app.projections.timeline import CutOff, Filters, entries, fold
from app.store import NewEvent
from app.store.tables import snapshots as snapshots_table
from tests.support.examples import examples

BASE = datetime(2026, 1, 20, tzinfo=timezone.utc)
OCCURRED = ["2026-01-24", "2026-01", "2026-01-21/2026-01-31", "2025", "2026-01-24~", "2026-01-2X", "2025-10"]


@st.composite
def histories(draw):
    """A valid incident stream: assertions recorded, then corroborated, disputed, revised, ranked, retracted."""
    events = [NewEvent("IncidentOpened", {"title": "t", "tags": []}, reported_at=BASE)]
    recorded: list[str] = []
    for step in range(draw(st.integers(min_value=1, max_value=30))):
        reported_at = BASE + timedelta(hours=draw(st.integers(min_value=0, max_value=200)))
        choice = draw(
            st.sampled_from(["record", "record", "source", "dispute", "revise", "rank", "retract", "incident"])
        )
        if choice == "record" or not recorded:
            assertion_id = f"a{len(recorded)}"
            recorded.append(assertion_id)
            data = {
                "assertion_id": assertion_id,
                "kind": draw(st.sampled_from(["shooting", "official_statement"])),
                "occurred": draw(st.sampled_from(OCCURRED)),
                "headline": f"h{step}",
                "actors": [],
                "sources": [{"outlet": draw(st.sampled_from(["CNN", "FOX 9"]))}],
            }
            events.append(NewEvent("AssertionRecorded", data, schema_version=2, reported_at=reported_at))
            continue
        target = draw(st.sampled_from(recorded))
        if choice == "source":
            data = {"assertion_id": target, "source": {"outlet": draw(st.sampled_from(["CNN", "Sky News", "NYT"]))}}
            events.append(NewEvent("SourceAttached", data, reported_at=reported_at))
        elif choice == "dispute" and len(recorded) > 1:
            other = draw(st.sampled_from([a for a in recorded if a != target]))
            events.append(
                NewEvent(
                    "AssertionDisputed", {"assertion_id": target, "by_assertion_id": other}, reported_at=reported_at
                )
            )
        elif choice == "revise":
            changes = {"occurred": draw(st.sampled_from(OCCURRED)), "headline": f"revised {step}"}
            events.append(
                NewEvent(
                    "AssertionRevised",
                    {"assertion_id": target, "changes": changes, "reason": "r"},
                    reported_at=reported_at,
                )
            )
        elif choice == "rank":
            events.append(
                NewEvent(
                    "AssertionRanked",
                    {"assertion_id": target, "rank": draw(st.sampled_from(["preferred", "deprecated"]))},
                    reported_at=reported_at,
                )
            )
        elif choice == "retract":
            events.append(
                NewEvent("AssertionRetracted", {"assertion_id": target, "reason": "withdrawn"}, reported_at=reported_at)
            )
        else:
            events.append(NewEvent("IncidentRevised", {"summary": f"s{step}"}, reported_at=reported_at))
    return events


def append_in_batches(store, incident_id, events, sizes):
    index, turn = 0, 0
    while index < len(events):
        size = sizes[turn % len(sizes)]
        store.append(incident_id, events[index : index + size])
        index, turn = index + size, turn + 1


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    history=histories(),
    sizes=st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=4),
    warm_versions=st.lists(st.integers(min_value=1, max_value=40), max_size=4),
    cut=st.tuples(
        st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=220), st.booleans(), st.booleans()
    ),
)
def test_snapshots_change_no_result(store, monkeypatch, history, sizes, warm_versions, cut):
    monkeypatch.setattr(reader_module, "SNAPSHOT_EVERY", 2)
    incident_id = f"i-{uuid.uuid4().hex[:12]}"
    append_in_batches(store, incident_id, history, sizes)
    stored = store.read_stream(incident_id)
    current = stored[-1].version
    cached = Timelines(store, SnapshotStore(store.engine))
    uncached = Timelines(store, None)

    # reads at other versions first, so snapshots exist below and above the cut-off
    for version in warm_versions:
        cached.state(incident_id, min(version, current))

    as_of_version, hours, use_reported, use_as_of = cut
    as_of = stored[min(as_of_version, current) - 1].recorded_at if use_as_of and as_of_version else None
    cut_off = CutOff(
        as_of=as_of,
        as_of_version=as_of_version if not use_as_of else None,
        reported_as_of=BASE + timedelta(hours=hours) if use_reported else None,
    )
    everything = Filters(include_retracted=True)
    expected = entries(fold(incident_id, [e for e in stored if cut_off.admits(e)]), everything)

    for timelines in (cached, uncached, cached):
        version = timelines.version_for(incident_id, cut_off, current)
        state = timelines.state(incident_id, version, reported_as_of=cut_off.reported_as_of)
        assert entries(state, everything) == expected


def test_snapshots_of_another_projection_version_are_ignored_and_discarded(store):
    store.append("a", [NewEvent("IncidentOpened", {"title": "t"})])
    old = SnapshotStore(store.engine, projection_version=0)
    old.save("a", 1, {"incident": {"title": "stale"}, "version": 1, "assertions": {}})
    current = SnapshotStore(store.engine)
    assert current.nearest("a", 1) is None
    assert current.discard_stale() == 1
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(snapshots_table)).scalar() == 0


def test_a_long_read_leaves_snapshots_that_later_reads_start_from(store, monkeypatch):
    every = reader_module.SNAPSHOT_EVERY
    store.append("a", [NewEvent("IncidentOpened", {"title": "t"})])
    store.append("a", [NewEvent("IncidentRevised", {"summary": str(n)}) for n in range(3 * every)])
    snapshots = SnapshotStore(store.engine)
    timelines = Timelines(store, snapshots)
    head = store.stream_version("a")  # 3 * every + 1
    at_head = timelines.state("a", head)
    assert snapshots.nearest("a", head)[0] == 3 * every
    assert snapshots.nearest("a", 3 * every - 1)[0] == 2 * every
    assert snapshots.nearest("a", 2 * every - 1) is None

    calls = []
    original = store.read_stream
    monkeypatch.setattr(store, "read_stream", lambda *a, **k: calls.append(k) or original(*a, **k))
    assert timelines.state("a", head) == at_head
    behind = timelines.state("a", head - 5)
    assert behind["incident"]["summary"] == str(3 * every - 6)
    assert calls == [
        {"after_version": 3 * every, "up_to_version": head},
        {"after_version": 2 * every, "up_to_version": head - 5},
    ]
