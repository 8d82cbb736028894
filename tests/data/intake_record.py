"""A stand-in for the record in the intake tests: the sample's incidents, and what accepting a
proposal would do to the assertions (record / corroborate / refine / dispute), without a store.

The real accept appends events through the write handlers; this keeps only what `propose` reads
back (`KnownAssertion`), so the labelled-set tests can post the five reports in order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from app.intake import KnownAssertion, KnownIncident, Proposal, Report, propose
from tests.data.corpus_labels import CORPUS, FILES, OUTLETS, PUBLISHED

SAMPLES = Path(__file__).resolve().parents[2] / "events" / "samples" / "minneapolis-2026.ndjson"


def sample_incidents() -> list[KnownIncident]:
    """The five incidents of the sample record (title, summary, links both ways), no assertions."""
    opened: dict[str, tuple[str, str | None]] = {}
    links: dict[str, set[str]] = {}
    for line in SAMPLES.read_text().splitlines():
        event = json.loads(line)
        if event["type"] == "IncidentOpened":
            opened[event["incident_id"]] = (event["data"]["title"], event["data"].get("summary"))
        elif event["type"] == "IncidentsLinked":
            a, b = event["incident_id"], event["data"]["related_incident_id"]
            links.setdefault(a, set()).add(b)
            links.setdefault(b, set()).add(a)
    return [KnownIncident(i, title, summary, tuple(sorted(links.get(i, ())))) for i, (title, summary) in opened.items()]


def corpus_report(file: str) -> Report:
    return Report(outlet=OUTLETS[file], text=(CORPUS / file).read_text(), published=PUBLISHED)


@dataclass
class _Held:
    incident_id: str
    assertion_id: str
    kind: str
    occurred: str
    headline: str
    attributed_to: str | None
    outlets: list[str] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)


class Record:
    """Assertions as accepted proposals would leave them."""

    def __init__(self, incidents: list[KnownIncident]):
        self.incidents = incidents
        self.held: dict[str, _Held] = {}
        self.by_proposal: dict[tuple[str, str], str] = {}  # (file, proposal id) -> assertion id

    def known(self) -> list[KnownAssertion]:
        return [
            KnownAssertion(
                incident_id=h.incident_id,
                assertion_id=h.assertion_id,
                kind=h.kind,
                occurred=h.occurred,
                headline=h.headline,
                attributed_to=h.attributed_to,
                outlets=tuple(h.outlets),
                quotes=tuple(h.quotes),
            )
            for h in self.held.values()
        ]

    def accept(self, file: str, report: Report, proposal: Proposal) -> str:
        """Apply one proposal; the id of the assertion it recorded or attached to."""
        if proposal.action in ("record", "dispute"):
            assertion_id = f"a{len(self.held) + 1:03d}"
            self.held[assertion_id] = _Held(
                incident_id=proposal.incident_id or "unassigned",
                assertion_id=assertion_id,
                kind=proposal.kind,
                occurred=proposal.occurred.edtf,
                headline=proposal.headline,
                attributed_to=proposal.attributed_to,
                outlets=[report.outlet],
                quotes=[proposal.quote],
            )
        else:
            assert proposal.target_assertion_id in self.held, proposal
            assertion_id = proposal.target_assertion_id
            held = self.held[assertion_id]
            held.outlets.append(report.outlet)
            held.quotes.append(proposal.quote)
            if proposal.action == "refine":
                held.occurred = proposal.occurred.edtf
        self.by_proposal[(file, proposal.id)] = assertion_id
        return assertion_id

    def target_of(self, file: str, proposal: Proposal) -> str | None:
        """The assertion a proposal points at: its target, or the assertion its target proposal recorded."""
        if proposal.target_assertion_id:
            return proposal.target_assertion_id
        if proposal.target_proposal_id:
            return self.by_proposal.get((file, proposal.target_proposal_id))
        return None


@dataclass(frozen=True)
class Posted:
    file: str
    report: Report
    proposals: list[Proposal]
    targets: dict[str, str | None]  # proposal id -> the assertion it points at
    assertions: dict[str, str]  # proposal id -> the assertion its accept recorded or attached to


def post_in_order(
    files: tuple[str, ...] = FILES, incidents: list[KnownIncident] | None = None
) -> tuple[list[Posted], Record]:
    """Post the reports in order into a record with the sample's incidents, accepting every proposal."""
    record = Record(sample_incidents() if incidents is None else incidents)
    posted = []
    for file in files:
        report = corpus_report(file)
        proposals = propose(report, record.incidents, record.known())
        targets, assertions = {}, {}
        for proposal in proposals:
            targets[proposal.id] = record.target_of(file, proposal)
            assertions[proposal.id] = record.accept(file, report, proposal)
        posted.append(Posted(file, report, proposals, targets, assertions))
    return posted, record
