"""The way in: a report is stored as received, its dated facts proposed against the record, and an
editor's accept turns a proposal into ordinary events through the write handlers.

Extraction itself is pure (app.intake.propose): this module gathers what it needs (the record's
incidents and assertions), stores what it returns, and turns decisions into commands.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from app import commands
from app.commands import EventCommand, IncidentNotFound
from app.intake.articles import Article, Articles, Decision, DecisionExists, StoredProposal
from app.intake.model import ACTIONS, KnownAssertion, KnownIncident, Proposal, Report
from app.intake.pipeline import propose
from app.projections.actors import ActorDirectory
from app.projections.reader import Timelines
from app.projections.timeline import entries
from app.store import AppendResult, EventStore
from events.catalog import InvalidEvent, Problem
from events.published import Published

# Fields of a proposal an editor may change before accepting it.
OVERRIDABLE = ("incident_id", "kind", "occurred", "headline", "attributed_to", "action", "target_assertion_id")
IDEMPOTENCY_SCOPE = "intake"


class ArticleNotFound(LookupError):
    def __init__(self, article_id: str):
        super().__init__(f"there is no article {article_id!r}")


class ProposalNotFound(LookupError):
    def __init__(self, article_id: str, proposal_id: str):
        super().__init__(f"article {article_id!r} has no proposal {proposal_id!r}")


class AlreadyDecided(Exception):
    def __init__(self, decision: Decision):
        self.decision = decision
        super().__init__(
            f"proposal {decision.proposal_id!r} was already {decision.decision} by {decision.decided_by}"
            + (f": {decision.reason}" if decision.reason else "")
        )


@dataclass(frozen=True, slots=True)
class ArticleView:
    article: Article
    proposals: list[StoredProposal]
    decisions: dict[str, Decision]


@dataclass(frozen=True, slots=True)
class Accepted:
    decision: Decision
    result: AppendResult | None  # None when the accept was answered from the stored decision
    replayed: bool


class Intake:
    def __init__(
        self, store: EventStore, timelines: Timelines, articles: Articles, actors: ActorDirectory | None = None
    ):
        self.store, self.timelines, self.articles = store, timelines, articles
        self.actors = actors or ActorDirectory(store)

    # -- reports in ---------------------------------------------------------------------------

    def post(
        self,
        *,
        outlet: str,
        url: str | None,
        published: Published,
        title: str | None,
        text: str,
        incident_id: str | None,
        actor: str,
    ) -> tuple[ArticleView, bool]:
        """Store a report and its proposals; the same URL and text again is the stored article (False)."""
        existing = self.articles.find(url, text)
        if existing is not None:
            return self.view(existing.id), False
        if incident_id is not None and self.store.incident_version(incident_id) is None:
            raise InvalidEvent([Problem(("incident_id",), f"there is no incident {incident_id!r}; open it first")])
        incidents, assertions = self.record()
        made = propose(Report(outlet, text, published.day or published.moment, url, title), incidents, assertions)
        bodies = [proposal_json(proposal, incident_id) for proposal in made]
        article, created = self.articles.add(
            outlet=outlet,
            url=url,
            title=title,
            text=text,
            published=published,
            incident_id=incident_id,
            received_by=actor,
            made=bodies,
        )
        return self.view(article.id), created

    def view(self, article_id: str) -> ArticleView:
        """A report, its proposals and their decisions. Each proposal names the actor its speaker
        resolves to (`speaker_actor_id`), in the actors registry as it stands now, not as it stood
        when the report came in: registering the speaker later names it in the proposals too."""
        article = self.articles.get(article_id)
        if article is None:
            raise ArticleNotFound(article_id)
        registry = self.actors.registry()
        proposals = [
            StoredProposal(
                stored.proposal_id,
                {**stored.body, "speaker_actor_id": registry.resolve(stored.body.get("attributed_to"))},
            )
            for stored in self.articles.proposals(article_id)
        ]
        return ArticleView(article, proposals, self.articles.decisions(article_id))

    def record(self) -> tuple[list[KnownIncident], list[KnownAssertion]]:
        """The record as extraction sees it: every incident, and every active assertion in it."""
        incidents: list[KnownIncident] = []
        assertions: list[KnownAssertion] = []
        for incident_id, version, _opened in self.store.list_streams():
            state = self.timelines.state(incident_id, version)
            incident = state["incident"]
            incidents.append(
                KnownIncident(
                    incident_id,
                    incident.get("title"),
                    incident.get("summary"),
                    tuple(link["incident_id"] for link in incident.get("links", []) if link.get("incident_id")),
                )
            )
            for entry in entries(state):
                assertions.append(
                    KnownAssertion(
                        incident_id=incident_id,
                        assertion_id=entry["assertion_id"],
                        kind=entry["kind"],
                        occurred=entry["occurred"]["edtf"],
                        headline=entry["headline"],
                        text=entry["text"],
                        attributed_to=entry["attributed_to"],
                        outlets=tuple(source["outlet"] for source in entry["sources"]),
                        quotes=tuple(source["quote"] for source in entry["sources"] if source.get("quote")),
                        status=entry["status"],
                    )
                )
        return incidents, assertions

    # -- decisions ------------------------------------------------------------------------------

    def accept(
        self,
        article_id: str,
        proposal_id: str,
        overrides: Mapping[str, Any],
        *,
        actor: str,
        expected_version: int | None = None,
    ) -> Accepted:
        """Append the proposal's events in one atomic append; a repeat returns the first result."""
        article, proposal = self._proposal(article_id, proposal_id)
        given = {name: value for name, value in overrides.items() if value is not None}
        earlier = self.articles.decisions(article_id).get(proposal_id)
        if earlier is not None:
            if earlier.decision == "accepted" and (earlier.overrides or {}) == given:
                return Accepted(earlier, None, True)
            raise AlreadyDecided(earlier)
        chosen = {**proposal, **given}
        incident_id = chosen.get("incident_id") or article.incident_id
        if not chosen.get("target_assertion_id") and chosen.get("target_proposal_id"):
            # A dispute of a fact this same report states: it goes where that fact was recorded.
            chosen["target_assertion_id"], incident_id = self._recorded_by(article, str(chosen["target_proposal_id"]))
        if not incident_id:
            raise InvalidEvent(
                [Problem(("incident_id",), "this proposal names no incident: say which one (incident_id)")]
            )
        batch = events_for(article, proposal_id, proposal, chosen)
        try:
            result = commands.append_events(
                self.store,
                incident_id,
                batch,
                actor=actor,
                expected_version=expected_version,
                # Keyed by the proposal, so an accept retried after a lost response (or a crash
                # before the decision was kept) finds the first append instead of making a second.
                idempotency_key=f"accept:{article_id}:{proposal_id}",
                idempotency_scope=IDEMPOTENCY_SCOPE,
            )
        except IncidentNotFound:
            raise InvalidEvent([Problem(("incident_id",), f"there is no incident {incident_id!r}")]) from None
        try:
            decision = self.articles.decide(
                article_id,
                proposal_id,
                "accepted",
                by=actor,
                overrides=given or None,
                result={"incident_id": incident_id, "version": result.version, "positions": result.positions},
            )
        except DecisionExists as exists:  # the same accept, at the same moment, from elsewhere
            decision = exists.earlier
        return Accepted(decision, result, result.replayed)

    def reject(self, article_id: str, proposal_id: str, reason: str, *, actor: str) -> Decision:
        self._proposal(article_id, proposal_id)
        try:
            return self.articles.decide(article_id, proposal_id, "rejected", by=actor, reason=reason)
        except DecisionExists as exists:
            if exists.earlier.decision == "rejected" and exists.earlier.reason == reason:
                return exists.earlier
            raise AlreadyDecided(exists.earlier) from None

    def _recorded_by(self, article: Article, proposal_id: str) -> tuple[str, str]:
        """The assertion an earlier proposal of the same report recorded when it was accepted, and its incident."""
        _, target = self._proposal(article.id, proposal_id)
        decision = self.articles.decisions(article.id).get(proposal_id)
        if decision is None or decision.decision != "accepted" or target.get("action") not in ("record", "dispute"):
            raise InvalidEvent(
                [
                    Problem(
                        ("target_proposal_id",),
                        f"this disputes proposal {proposal_id!r} of the same report: accept that one first",
                    )
                ]
            )
        private = (decision.overrides or {}).get("private") or ()
        return new_assertion_id(article.id, proposal_id, target.get("headline") or "", private), (
            decision.result or {}
        )["incident_id"]

    def _proposal(self, article_id: str, proposal_id: str) -> tuple[Article, dict[str, Any]]:
        article = self.articles.get(article_id)
        if article is None:
            raise ArticleNotFound(article_id)
        for stored in self.articles.proposals(article_id):
            if stored.proposal_id == proposal_id:
                return article, stored.body
        raise ProposalNotFound(article_id, proposal_id)


def events_for(
    article: Article, proposal_id: str, made: Mapping[str, Any], proposal: Mapping[str, Any]
) -> list[EventCommand]:
    """The events an accepted proposal (`made`, as edited into `proposal`) becomes; this report is
    the source, its quote verbatim."""
    action = proposal.get("action") or "record"
    if action not in ACTIONS:
        raise InvalidEvent([Problem(("action",), f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")])
    target = proposal.get("target_assertion_id")
    if action != "record" and not target:
        raise InvalidEvent([Problem(("target_assertion_id",), f"a {action} needs the recorded assertion it points at")])
    source = {"outlet": article.outlet, "published_at": article.published.text()}
    if article.url:
        source["url"] = article.url
    if proposal.get("quote"):
        source["quote"] = proposal["quote"][:2000]
    occurred = proposal.get("occurred")
    edtf = occurred.get("edtf") if isinstance(occurred, Mapping) else occurred
    metadata = {"article_id": article.id, "proposal_id": proposal_id, "correlation_id": f"article:{article.id}"}

    def event(type_name: str, data: dict[str, Any]) -> EventCommand:
        return EventCommand(type_name, data, article.published, metadata)

    def recorded() -> tuple[str, EventCommand]:
        # From the proposal as made, not as edited: an id others can work out (a later dispute
        # of this proposal names it through target_proposal_id).
        assertion_id = new_assertion_id(
            article.id, proposal_id, made.get("headline") or "", list(proposal.get("private") or ())
        )
        data = {
            "assertion_id": assertion_id,
            "kind": proposal.get("kind") or "other",
            "occurred": edtf,
            "headline": proposal.get("headline"),
            "sources": [source],
        }
        if proposal.get("attributed_to"):
            data["attributed_to"] = proposal["attributed_to"]
        actors = _with_private(list(proposal.get("actors") or ()), list(proposal.get("private") or ()))
        if actors:
            data["actors"] = actors
        return assertion_id, event("AssertionRecorded", data)

    if action == "record":
        return [recorded()[1]]
    if action == "corroborate":
        return [event("SourceAttached", {"assertion_id": target, "source": source})]
    if action == "dispute":
        assertion_id, new = recorded()
        note = f"{article.outlet}: {proposal['quote'][:300]}" if proposal.get("quote") else None
        disputed = {"assertion_id": target, "by_assertion_id": assertion_id, **({"note": note} if note else {})}
        return [new, event("AssertionDisputed", disputed)]
    phrases = [d.get("phrase") for d in proposal.get("dates", []) if isinstance(d, Mapping) and d.get("phrase")]
    said = f": “{phrases[0]}”" if phrases else ""
    reason = f"{article.outlet} ({article.published.text()}) gives a more precise date{said}"
    if proposal.get("reason") and made.get("action") == "refine" and proposal.get("occurred") == made.get("occurred"):
        reason = str(proposal["reason"])  # the extractor's own wording of why, for the date it proposed
    return [
        event("SourceAttached", {"assertion_id": target, "source": source}),
        event("AssertionRevised", {"assertion_id": target, "changes": {"occurred": edtf}, "reason": reason}),
    ]


def new_assertion_id(article_id: str, proposal_id: str, headline: str, private: Sequence[str] = ()) -> str:
    """Readable and stable: the headline's first words, and a digest of where the fact came from. An id
    is never sealed, so the words of a private person's name are left out of it."""
    hidden = {word for name in private for word in re.findall(r"[a-z0-9]+", name.lower())}
    words = [word for word in re.findall(r"[a-z0-9]+", headline.lower()) if word not in hidden][:6]
    digest = hashlib.sha256(f"{article_id}:{proposal_id}".encode()).hexdigest()[:8]
    return "-".join([*words, digest]) if words else f"fact-{digest}"


def proposal_json(proposal: Proposal | Mapping[str, Any], incident_id: str | None = None) -> dict[str, Any]:
    """A proposal as stored and shown: plain JSON, dates as ISO text."""
    body = _jsonable(asdict(proposal) if isinstance(proposal, Proposal) else dict(proposal))
    if incident_id is not None and not body.get("incident_id"):
        body["incident_id"] = incident_id
    return body


def _jsonable(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    return value


def _with_private(actors: list[str], private: list[str]) -> list[Any]:
    """The proposal's actors with the names the editor marked private as private persons (added
    if the proposal did not name them among its actors)."""
    marked = {name.casefold() for name in private}
    written = [{"name": actor, "private": True} if actor.casefold() in marked else actor for actor in actors]
    named = {actor.casefold() for actor in actors}
    return written + [{"name": name, "private": True} for name in private if name.casefold() not in named]
