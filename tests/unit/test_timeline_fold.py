"""The timeline fold on plain lists of events: every event type, every cut-off, no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from app.projections.timeline import CutOff, Filters, entries, fold

T0 = datetime(2026, 1, 24, 18, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Ev:
    version: int
    type: str
    data: dict[str, Any]
    reported_at: datetime
    recorded_at: datetime
    position: int = field(default=0)


class Stream:
    """Builds a stream the way the store would: versions from 1, recorded an hour apart."""

    def __init__(self):
        self.events: list[Ev] = []

    def add(self, type_: str, reported_at: datetime | None = None, **data) -> "Stream":
        version = len(self.events) + 1
        recorded = T0 + timedelta(hours=version)
        self.events.append(Ev(version, type_, data, reported_at or recorded, recorded, position=100 + version))
        return self


def record(stream: Stream, assertion_id: str, occurred: str, *, kind="shooting", outlet="FOX 9", **extra) -> Stream:
    return stream.add(
        "AssertionRecorded",
        assertion_id=assertion_id,
        kind=kind,
        occurred=occurred,
        headline=f"Headline {assertion_id}",
        sources=[{"outlet": outlet, "quote": f"quote for {assertion_id}"}],
        **extra,
    )


def timeline(stream: Stream, cut_off: CutOff = CutOff(), filters: Filters = Filters(), **kwargs):
    state = fold("pretti", [e for e in stream.events if cut_off.admits(e)], **kwargs)
    return state, entries(state, filters)


def ids(rendered) -> list[str]:
    return [entry["assertion_id"] for entry in rendered]


def test_incident_fields_come_from_opened_revised_and_linked():
    s = Stream().add(
        "IncidentOpened", title="Shooting", summary="First", location={"name": "Minneapolis"}, tags=["ice"]
    )
    s.add("IncidentRevised", title="Shooting of Alex Pretti", tags=["ice", "cbp"])
    s.add("IncidentsLinked", related_incident_id="renee-good-shooting", relation="follows")
    s.add("IncidentsLinked", related_incident_id="renee-good-shooting", relation="follows")
    state, _ = timeline(s)
    assert state["incident"] == {
        "id": "pretti",
        "title": "Shooting of Alex Pretti",
        "summary": "First",
        "location": {"name": "Minneapolis"},
        "tags": ["ice", "cbp"],
        "links": [{"incident_id": "renee-good-shooting", "relation": "follows"}],
    }
    assert state["version"] == 4


def test_entries_are_ordered_by_earliest_then_latest_then_position():
    s = Stream().add("IncidentOpened", title="t")
    record(s, "month", "2026-01")  # Jan 1 - Jan 31
    record(s, "day", "2026-01-24")
    record(s, "range", "2026-01-21/2026-01-31")
    record(s, "year", "2025")
    record(s, "same-month", "2026-01")  # same bounds as "month", recorded later
    _, rendered = timeline(s)
    assert ids(rendered) == ["year", "month", "same-month", "range", "day"]
    month = rendered[1]["occurred"]
    assert (month["earliest"], month["latest"], month["precision"]) == ("2026-01-01", "2026-01-31", "month")


def test_sources_are_deduplicated_and_counted():
    s = Stream().add("IncidentOpened", title="t")
    record(s, "shot", "2026-01-24", outlet="FOX 9")
    s.add("SourceAttached", assertion_id="shot", source={"outlet": "CNN", "quote": "late January"})
    s.add("SourceAttached", assertion_id="shot", source={"outlet": "cnn"})
    s.add("SourceAttached", assertion_id="shot", source={"outlet": "Sky News", "url": "https://news.sky.com/a"})
    s.add(
        "SourceAttached",
        assertion_id="shot",
        source={"outlet": "Sky News (syndicated)", "url": "https://news.sky.com/a"},
    )
    s.add("SourceAttached", assertion_id="unknown", source={"outlet": "Nobody"})
    _, (entry,) = timeline(s)
    assert [src["outlet"] for src in entry["sources"]] == ["FOX 9", "CNN", "Sky News"]
    assert entry["corroboration"] == 3
    assert entry["sources"][1]["quote"] == "late January"


def test_first_reported_at_is_the_earliest_publication():
    early = T0 - timedelta(days=2)
    s = Stream().add("IncidentOpened", title="t")
    s.add(
        "AssertionRecorded",
        assertion_id="a",
        kind="other",
        occurred="2026-01-24",
        headline="h",
        sources=[{"outlet": "CNN", "published_at": "2026-02-02T12:00:00Z"}],
    )
    s.add("SourceAttached", assertion_id="a", source={"outlet": "AP", "published_at": early.isoformat()})
    _, (entry,) = timeline(s)
    assert entry["first_reported_at"] == "2026-01-22T18:00:00Z"
    assert entry["recorded_at"] == "2026-01-24T20:00:00Z"


def test_a_dispute_shows_on_both_sides():
    s = Stream().add("IncidentOpened", title="t")
    record(s, "noem-weapon", "2026-01-24", kind="official_statement")
    record(s, "videos-phone", "2026-01-24", kind="evidence_released")
    s.add("AssertionDisputed", assertion_id="noem-weapon", by_assertion_id="videos-phone", note="phone, not a gun")
    s.add("AssertionDisputed", assertion_id="noem-weapon", by_assertion_id="ghost")
    _, rendered = timeline(s)
    by_id = {e["assertion_id"]: e for e in rendered}
    assert by_id["noem-weapon"]["disputed_by"] == ["videos-phone"]
    assert by_id["videos-phone"]["disputes"] == ["noem-weapon"]
    assert by_id["noem-weapon"]["dispute_notes"] == [{"by": "videos-phone", "note": "phone, not a gun"}]
    assert by_id["videos-phone"]["disputed_by"] == [] and by_id["noem-weapon"]["disputes"] == []


def test_a_revised_date_moves_the_entry_and_counts_the_revision():
    s = Stream().add("IncidentOpened", title="t")
    record(s, "pretti-shot", "2026-01-21/2026-01-31")
    record(s, "leave", "2026-01-26/2026-01-30", kind="officer_leave")
    _, before = timeline(s)
    assert ids(before) == ["pretti-shot", "leave"]
    s.add(
        "AssertionRevised",
        assertion_id="pretti-shot",
        changes={"occurred": "2026-01-24~"},
        reason="FOX 9 gives the day",
    )
    s.add(
        "AssertionRevised",
        assertion_id="pretti-shot",
        changes={"occurred": "2026-01-27", "headline": "moved"},
        reason="test",
    )
    _, after = timeline(s)
    assert ids(after) == ["leave", "pretti-shot"]
    moved = after[1]
    assert moved["occurred"]["edtf"] == "2026-01-27" and moved["headline"] == "moved"
    assert moved["revisions"] == {"count": 2}
    _, with_history = timeline(s, keep_history=True)
    history = with_history[1]["revisions"]["history"]
    assert [h["before"] for h in history] == [
        {"occurred": "2026-01-21/2026-01-31"},
        {"occurred": "2026-01-24~", "headline": "Headline pretti-shot"},
    ]
    assert history[0]["reason"] == "FOX 9 gives the day"


def test_rank_and_retraction():
    s = Stream().add("IncidentOpened", title="t")
    record(s, "a", "2026-01-24")
    record(s, "b", "2026-01-25")
    s.add("AssertionRanked", assertion_id="a", rank="preferred", reason="exact date")
    s.add("AssertionRetracted", assertion_id="b", reason="the outlet withdrew the report")
    _, shown = timeline(s)
    assert ids(shown) == ["a"] and shown[0]["rank"] == "preferred"
    _, everything = timeline(s, filters=Filters(include_retracted=True))
    retracted = everything[1]
    assert retracted["status"] == "retracted"
    assert retracted["retraction"]["reason"] == "the outlet withdrew the report"


def test_a_repeated_assertion_id_keeps_the_first_recording():
    s = Stream().add("IncidentOpened", title="t")
    record(s, "a", "2026-01-24")
    record(s, "a", "2020")
    _, (entry,) = timeline(s)
    assert entry["occurred"]["edtf"] == "2026-01-24"


def test_filters_by_kind_and_by_overlap_with_the_dates():
    s = Stream().add("IncidentOpened", title="t")
    record(s, "shot", "2026-01-24")
    record(s, "order", "2025-10", kind="court_order")
    record(s, "late-jan", "2026-01-21/2026-01-31", kind="investigation_opened")
    _, by_kind = timeline(s, filters=Filters(kinds=frozenset({"court_order", "shooting"})))
    assert ids(by_kind) == ["order", "shot"]
    _, overlapping = timeline(s, filters=Filters(occurred_from=date(2026, 1, 25), occurred_to=date(2026, 2, 28)))
    assert ids(overlapping) == ["late-jan"]
    _, october = timeline(s, filters=Filters(occurred_to=date(2025, 10, 1)))
    assert ids(october) == ["order"]


def test_each_cut_off_folds_what_was_known_then():
    s = Stream().add("IncidentOpened", title="t")  # v1, recorded T0+1h
    record(s, "claim", "2026-01-24")  # v2
    s.add("SourceAttached", assertion_id="claim", source={"outlet": "CNN"})  # v3
    record(s, "old-article", "2022", reported_at=T0 - timedelta(days=900))  # v4, reported long ago
    s.add("AssertionRetracted", assertion_id="claim", reason="withdrawn")  # v5

    _, at_v3 = timeline(s, CutOff(as_of_version=3))
    assert ids(at_v3) == ["claim"] and at_v3[0]["corroboration"] == 2

    _, at_time = timeline(s, CutOff(as_of=T0 + timedelta(hours=2)))  # inclusive: v2 is in
    assert ids(at_time) == ["claim"] and at_time[0]["corroboration"] == 1

    _, before_anything = timeline(s, CutOff(as_of=T0))
    assert before_anything == []

    _, reported_early = timeline(s, CutOff(reported_as_of=T0 - timedelta(days=1)))
    assert ids(reported_early) == ["old-article"]

    _, now = timeline(s)
    assert ids(now) == ["old-article"]
    _, now_all = timeline(s, filters=Filters(include_retracted=True))
    assert ids(now_all) == ["old-article", "claim"]
